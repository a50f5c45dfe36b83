"""Keras' `activations` module: the activation functions a layer's `activation=` names, as functions of a
Tensor (the ops of striate.ops, with their gradients)."""

from striate.layers.activations import get, linear
from striate.ops import elu, leaky_relu, relu, sigmoid, softmax, tanh

__all__ = ["elu", "get", "leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh"]
