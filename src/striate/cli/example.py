"""`striate example NAME`: run one of the examples in striate.examples (the same as
`python -m striate.examples.NAME`)."""

import importlib

from striate.examples import EXAMPLES, add_standard_arguments, report


def add_arguments(parser):
    choices = ", ".join(f"{name} ({description})" for name, (_, description) in EXAMPLES.items())
    parser.add_argument("name", choices=sorted(EXAMPLES), metavar="NAME", help=f"one of: {choices}")
    add_standard_arguments(parser, epochs=None)


def run(arguments):
    module = importlib.import_module(f"striate.examples.{EXAMPLES[arguments.name][0]}")
    options = {"seed": arguments.seed, "quick": arguments.quick}
    if arguments.epochs is not None:
        options["epochs"] = arguments.epochs
    report(module.run(**options))
    return 0
