"""Models by the names the command line uses (`striate train mnist-cnn`, `striate summary lenet5`)."""

from striate.models.lenet import lenet5
from striate.models.mnist_cnn import mnist_cnn

MODELS = {
    "lenet5": lenet5,
    "mnist-cnn": mnist_cnn,
}


def build(name, **arguments):
    """A new model of the registered `name`; a ValueError lists the names when it is unknown."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(sorted(MODELS))}")
    return MODELS[name](**arguments)
