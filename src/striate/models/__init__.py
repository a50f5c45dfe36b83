"""Models: Sequential, functional (Input + Model) and subclassed Models, and the classic networks; Keras'
`models` functions load_model, clone_model and model_from_json."""

from striate.models.alexnet import alexnet
from striate.models.architecture import clone_model, model_from_json
from striate.models.googlenet import googlenet, inception_module
from striate.models.lenet import lenet5
from striate.models.mnist_cnn import mnist_cnn
from striate.models.mobilenet import mobilenet_v1, separable_block
from striate.models.model import Input, Model
from striate.models.registry import NETWORKS, build_network
from striate.models.resnet import bottleneck_block, residual_block, resnet18, resnet34, resnet50
from striate.models.saving import load_model
from striate.models.sequential import Sequential
from striate.models.vgg import vgg16, vgg19, vgg_block

__all__ = [
    "NETWORKS",
    "Input",
    "Model",
    "Sequential",
    "alexnet",
    "bottleneck_block",
    "build_network",
    "clone_model",
    "googlenet",
    "inception_module",
    "lenet5",
    "load_model",
    "mnist_cnn",
    "mobilenet_v1",
    "model_from_json",
    "residual_block",
    "resnet18",
    "resnet34",
    "resnet50",
    "separable_block",
    "vgg16",
    "vgg19",
    "vgg_block",
]
