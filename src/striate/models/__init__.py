"""Models: Sequential, functional (Input + Model) and subclassed Models, and the lectures' networks."""

from striate.models.lenet import lenet5
from striate.models.mnist_cnn import mnist_cnn
from striate.models.model import Input, Model
from striate.models.sequential import Sequential

__all__ = ["Input", "Model", "Sequential", "lenet5", "mnist_cnn"]
