"""Activation functions by Keras name: "relu", "sigmoid", "tanh", "elu", "softmax", "linear" (or None), "gelu",
"swish" / "silu", "softplus", "selu", "mish", "hard_sigmoid", and the rest of keras.activations but threshold
(which needs arguments): see striate.ops.keras_activations."""

import math

from striate import ops
from striate.ops import keras_activations, smooth_activations
from striate.ops.activations import IN_PLACE_ACTIVATIONS


def linear(x):
    return x


BY_NAME = {
    "relu": ops.relu, "sigmoid": ops.sigmoid, "tanh": ops.tanh, "elu": ops.elu, "softmax": ops.softmax,
    "leaky_relu": ops.leaky_relu, "linear": linear, "gelu": smooth_activations.gelu,
    "swish": smooth_activations.swish, "silu": smooth_activations.silu, "softplus": smooth_activations.softplus,
    "selu": smooth_activations.selu, "mish": smooth_activations.mish, "hard_sigmoid": smooth_activations.hard_sigmoid,
    **{name: getattr(keras_activations, name) for name in (
        "celu", "exponential", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "relu6",
        "soft_shrink", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink")},
    "log_softmax": ops.log_softmax,
}


def get(identifier):
    """The activation function for a name, None ("linear"), or a callable (returned as is)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in BY_NAME:
        return BY_NAME[identifier.lower()]
    raise ValueError(f"activation: unknown {identifier!r}; expected one of {sorted(BY_NAME)} or a callable")


def name_of(function):
    """The Keras name of an activation function, for configs and summaries."""
    for name, candidate in BY_NAME.items():
        if candidate is function:
            return name
    return getattr(function, "__name__", repr(function))


def flops_per_element(function):
    """FLOPs per element counted for an activation: 0 for linear, 3 for softmax (exp, sum, divide), 1 for any
    other (striate.inspect.plan's rule)."""
    return {"linear": 0, "softmax": 3}.get(name_of(function), 1)


def bias_and_activation_flops(layer, output_shape):
    """FLOPs of a weighted layer beyond its products: 1 per output for a bias (layer.use_bias), and the activation's
    per output (`flops_per_element`)."""
    return math.prod(output_shape[1:]) * (int(layer.use_bias) + flops_per_element(layer.activation))


def fusable(function):
    """(name, rest) for a layer whose op can apply `function` itself: ("relu", linear) for relu, tanh and sigmoid
    (`IN_PLACE_ACTIVATIONS`, applied in place inside the convolution), (None, function) for any other."""
    name = name_of(function)
    if name in IN_PLACE_ACTIVATIONS and BY_NAME[name] is function:
        return name, linear
    return None, function
