"""`striate example NAME`: run one of the examples in striate.examples (the same as
`python -m striate.examples.NAME`). `--out FOLDER` sets where the examples that draw pictures write them; an
option the example does not take (--out for one that draws nothing, --epochs for one that trains nothing) is
refused."""

import importlib
import inspect

from striate.cli import CommandError
from striate.examples import EXAMPLES, add_out_argument, add_standard_arguments, report


def add_arguments(parser):
    choices = ", ".join(f"{name} ({description})" for name, (_, description) in EXAMPLES.items())
    parser.add_argument("name", choices=sorted(EXAMPLES), metavar="NAME", help=f"one of: {choices}")
    add_standard_arguments(parser, epochs=None)
    add_out_argument(parser)


def run(arguments):
    module = importlib.import_module(f"striate.examples.{EXAMPLES[arguments.name][0]}")
    options = {"seed": arguments.seed, "quick": arguments.quick}
    given = {"epochs": arguments.epochs, "out": arguments.out}
    accepted = inspect.signature(module.run).parameters
    for option, value in given.items():
        if value is None:
            continue
        if option not in accepted:
            raise CommandError(f"{arguments.name} takes no --{option}; received --{option} {value}")
        options[option] = value
    report(module.run(**options))
    return 0
