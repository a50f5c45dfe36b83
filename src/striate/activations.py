"""Keras' `activations` module: the activation functions a layer's `activation=` names, as functions of a
Tensor (the ops of striate.ops, with their gradients)."""

from striate.layers.activations import get, linear
from striate.ops import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from striate.ops.keras_activations import (
    celu,
    exponential,
    glu,
    hard_shrink,
    hard_silu,
    hard_swish,
    hard_tanh,
    log_sigmoid,
    relu6,
    soft_shrink,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh_shrink,
    threshold,
)
from striate.ops.smooth_activations import gelu, hard_sigmoid, mish, selu, silu, softplus, swish

__all__ = ["celu", "elu", "exponential", "gelu", "get", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
           "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6",
           "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus",
           "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold"]
