"""`striate summary MODEL`: Keras' summary table of a network (layers, output shapes, parameters);
`--arithmetic` adds the columns of `striate plan` (padding, MACs, FLOPs, memory, receptive field)."""

from striate.cli.plan import build_network


def add_arguments(parser):
    from striate.models import NETWORKS

    parser.add_argument("model", help=f"one of: {', '.join(NETWORKS)}")
    parser.add_argument("--input", default=None, help="input size HxWxC, e.g. 224x224x3 (default: the paper's)")
    parser.add_argument("--classes", type=int, default=None, help="output classes (default: the paper's)")
    parser.add_argument("--arithmetic", action="store_true",
                        help="show padding, MACs, FLOPs, activation memory and receptive field per layer")


def run(arguments):
    model = build_network(arguments.model, arguments.input, arguments.classes)
    model.summary(arithmetic=arguments.arithmetic)
    return 0
