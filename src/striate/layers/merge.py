"""Layers that join several inputs: Add (residual connections) and Concatenate (inception modules), and their
functional forms `add` and `concatenate`, as keras.layers."""

import math

from striate import functional as F
from striate.layers.layer import Layer


class Add(Layer):
    """Elementwise sum of a list of same-shaped inputs."""

    def call(self, inputs, training=False):
        total = inputs[0]
        for other in inputs[1:]:
            total = total + other
        return total

    def compute_output_shape(self, input_shape):
        shapes = {tuple(s) for s in input_shape}
        if len(shapes) != 1:
            raise ValueError(f"{self.name}: inputs must have the same shape; received {list(input_shape)}")
        return input_shape[0]

    def floating_point_operations(self, input_shape, output_shape):
        """n - 1 additions per element for n inputs."""
        return math.prod(output_shape[1:]) * (len(input_shape) - 1)


class Concatenate(Layer):
    """Joins a list of inputs along `axis` (default: the channel axis)."""

    def __init__(self, axis=-1, **options):
        super().__init__(**options)
        self.axis = axis

    def call(self, inputs, training=False):
        return F.concat(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        first = list(input_shape[0])
        first[self.axis] = sum(s[self.axis] for s in input_shape)
        return tuple(first)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **options):
    """Add(**options)(inputs): the elementwise sum of a list of same-shaped inputs, as keras.layers.add.

    >>> add([Tensor([1.0, 2.0]), Tensor([10.0, 20.0])]).numpy()   # or SymbolicTensors in a functional model
    array([11., 22.], dtype=float32)
    """
    return Add(**options)(inputs)


def concatenate(inputs, axis=-1, **options):
    """Concatenate(axis, **options)(inputs): the inputs joined along `axis`, as keras.layers.concatenate."""
    return Concatenate(axis=axis, **options)(inputs)
