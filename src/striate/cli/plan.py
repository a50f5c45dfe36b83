"""`striate plan MODEL [--input 224x224x3]`: the arithmetic of a network without running it: per layer the
output shape, padding, parameters, multiply-accumulates, FLOPs, activation memory and receptive field."""

from striate.cli import CommandError


def add_arguments(parser):
    from striate.models import NETWORKS

    parser.add_argument("model", help=f"one of: {', '.join(NETWORKS)}")
    parser.add_argument("--input", default=None, help="input size HxWxC, e.g. 224x224x3 (default: the paper's)")
    parser.add_argument("--classes", type=int, default=None, help="output classes (default: the paper's)")
    parser.add_argument("--batch-size", type=int, default=1, help="samples counted in MACs, FLOPs and memory")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")


def build_network(name, input_text=None, classes=None):
    """The network `name` of striate.models.NETWORKS, built for `input_text` ("224x224x3") and `classes`."""
    from striate.models import build_network as build

    options = {}
    if input_text is not None:
        options["input_shape"] = parse_shape(input_text)
    if classes is not None:
        if classes < 1:
            raise CommandError(f"--classes must be a positive int; received {classes}")
        options["classes"] = classes
    return build(name, **options)


def parse_shape(text):
    """'224x224x3' -> (224, 224, 3)."""
    try:
        shape = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) < 2 or any(n < 1 for n in shape):
        raise CommandError(f"--input must look like HxWxC with positive sizes, e.g. 224x224x3; received {text!r}")
    return shape


def run(arguments):
    from striate.inspect.plan import plan

    if arguments.batch_size < 1:
        raise CommandError(f"--batch-size must be a positive int; received {arguments.batch_size}")
    model = build_network(arguments.model, arguments.input, arguments.classes)
    network_plan = plan(model, batch_size=arguments.batch_size)
    print(network_plan.markdown() if arguments.markdown else network_plan.table())
    return 0
