"""Keras' `activations` module: the activation functions a layer's `activation=` names, as functions of a
Tensor (the ops of striate.ops, with their gradients)."""

from striate.layers.activations import get, linear
from striate.ops import elu, leaky_relu, relu, sigmoid, softmax, tanh
from striate.ops.smooth_activations import gelu, hard_sigmoid, mish, selu, silu, softplus, swish

__all__ = ["elu", "gelu", "get", "hard_sigmoid", "leaky_relu", "linear", "mish", "relu", "selu", "sigmoid", "silu",
           "softmax", "softplus", "swish", "tanh"]
