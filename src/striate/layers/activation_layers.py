"""Activations as layers, as keras.layers: ReLU, LeakyReLU, PReLU, ELU, Softmax.

Each is a composition of the ops in striate.ops (their gradients come from there). Only PReLU owns a weight.
"""

import math

import numpy as np

from striate import constraints, ops, regularizers
from striate.layers.layer import Layer


class ReLU(Layer):
    """Keras' generalized rectifier:

        f(x) = max_value                              for x >= max_value
             = x                                      for threshold <= x < max_value
             = negative_slope * (x - threshold)       otherwise

    With the defaults (max_value=None, negative_slope=0, threshold=0) it is max(x, 0); max_value=6 is ReLU6.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **options):
        super().__init__(**options)
        if max_value is not None and max_value < 0:
            raise ValueError(f"{self.name}: max_value must be non-negative or None; received {max_value}")
        if negative_slope < 0 or threshold < 0:
            raise ValueError(f"{self.name}: negative_slope and threshold must be non-negative (as Keras); received "
                             f"negative_slope={negative_slope}, threshold={threshold}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

    def call(self, inputs, training=False):
        slope, threshold = self.negative_slope, self.threshold
        if slope and self.max_value is None and not threshold:
            return ops.leaky_relu(inputs, negative_slope=slope)
        negative_part = ops.relu(threshold - inputs) if slope else None
        if threshold:
            y = ops.where(inputs.data > threshold, inputs, 0.0)
        else:
            y = ops.relu(inputs)
        if self.max_value is not None:
            y = ops.clip(y, 0.0, self.max_value)
        return y if negative_part is None else y - slope * negative_part

    def floating_point_operations(self, input_shape, output_shape):
        """1 per element, as any activation."""
        return math.prod(output_shape[1:])

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """x for x > 0, negative_slope * x otherwise (Keras' layer default slope 0.3)."""

    def __init__(self, negative_slope=0.3, **options):
        super().__init__(**options)
        if negative_slope < 0:
            raise ValueError(f"{self.name}: negative_slope must be non-negative; received {negative_slope}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs, training=False):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def floating_point_operations(self, input_shape, output_shape):
        """1 per element, as any activation."""
        return math.prod(output_shape[1:])

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Parametric ReLU (He et al. 2015): relu(x) - alpha * relu(-x), alpha learned.

    Weight: alpha of the input's shape without the batch axis, with size 1 on each of `shared_axes` (axes
    counted with the batch axis as 0, as Keras: shared_axes=[1, 2] shares alpha across H and W of (N, H, W, C),
    leaving C parameters).
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **options):
        super().__init__(**options)
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = [int(a) for a in ([shared_axes] if np.isscalar(shared_axes) else shared_axes)]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis <= len(shape):
                raise ValueError(f"{self.name}: shared_axes must name axes 1..{len(shape)} of the input "
                                 f"{input_shape}; received {self.shared_axes}")
            shape[axis - 1] = 1
        if any(size is None for size in shape):
            raise ValueError(f"{self.name}: alpha needs a known size on every axis not shared; input shape "
                             f"{input_shape}, shared_axes={self.shared_axes}")
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer, regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def weight_shapes(self, input_shape):
        shared = {axis - 1 for axis in self.shared_axes or ()}
        return [(tuple(1 if i in shared else size for i, size in enumerate(input_shape[1:])), True)]

    def floating_point_operations(self, input_shape, output_shape):
        """1 per element, as any activation."""
        return math.prod(output_shape[1:])

    def call(self, inputs, training=False):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": self.alpha_initializer,
                "shared_axes": self.shared_axes, **regularizers.config_of(self, "alpha"),
                **constraints.config_of(self, "alpha")}


class ELU(Layer):
    """x for x > 0, alpha * (e^x - 1) otherwise."""

    def __init__(self, alpha=1.0, **options):
        super().__init__(**options)
        self.alpha = float(alpha)

    def call(self, inputs, training=False):
        return ops.elu(inputs, alpha=self.alpha)

    def floating_point_operations(self, input_shape, output_shape):
        """1 per element, as any activation."""
        return math.prod(output_shape[1:])

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """e^x_i / sum_j e^x_j along `axis` (an int or a list of ints)."""

    def __init__(self, axis=-1, **options):
        super().__init__(**options)
        self.axis = axis if isinstance(axis, int) else [int(a) for a in axis]

    def call(self, inputs, training=False):
        axis = self.axis if isinstance(self.axis, int) else tuple(self.axis)
        return ops.softmax(inputs, axis=axis)

    def floating_point_operations(self, input_shape, output_shape):
        """3 per element: exp, sum, divide."""
        return 3 * math.prod(output_shape[1:])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
