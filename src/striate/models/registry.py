"""Networks by name, for the command line (`striate train mnist-cnn`, `striate plan resnet50`).

Names are the builders' function names; a hyphen may stand for an underscore ("mnist-cnn" = "mnist_cnn").
"""

from striate.models.alexnet import alexnet
from striate.models.googlenet import googlenet
from striate.models.lenet import lenet5
from striate.models.mnist_cnn import mnist_cnn
from striate.models.mobilenet import mobilenet_v1
from striate.models.resnet import resnet18, resnet34, resnet50
from striate.models.vgg import vgg16, vgg19

NETWORKS = {
    "lenet5": lenet5, "mnist_cnn": mnist_cnn, "alexnet": alexnet, "vgg16": vgg16, "vgg19": vgg19,
    "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50, "googlenet": googlenet,
    "mobilenet_v1": mobilenet_v1,
}


def build_network(name, **options):
    """A new network `name` (options such as input_shape, classes go to its builder)."""
    key = name.replace("-", "_")
    if key not in NETWORKS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(NETWORKS)}")
    return NETWORKS[key](**options)
