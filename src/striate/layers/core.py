"""Core layers: InputLayer, Dense, Flatten, Dropout, Activation, ZeroPadding2D."""

import math

from striate import functional as F
from striate.core.random import generator
from striate.layers import activations
from striate.layers.layer import Layer


class InputLayer(Layer):
    """Declares the input shape (without the batch axis) of a Sequential model."""

    def __init__(self, shape, **options):
        super().__init__(input_shape=tuple(shape), **options)
        self.shape = tuple(shape)

    def call(self, inputs, training=False):
        return inputs

    def get_config(self):
        return {**super().get_config(), "shape": self.shape}


class Dense(Layer):
    """Fully connected layer: y = activation(x @ kernel + bias), kernel (C_in, units).

    Acts on the last axis; parameters C_in * units + units.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **options):
        super().__init__(**options)
        self.units, self.use_bias = int(units), use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer) if self.use_bias else None

    def call(self, inputs, training=False):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: built for {self.kernel.shape[0]} input features, received an input of "
                             f"shape {inputs.shape} ({inputs.shape[-1]} features)")
        y = inputs @ self.kernel
        return self.activation(y if self.bias is None else y + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def call(self, inputs, training=False):
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], math.prod(input_shape[1:]))


class Dropout(Layer):
    """Inverted dropout while training (fraction `rate` zeroed, the rest scaled by 1 / (1 - rate)); identity
    in inference."""

    def __init__(self, rate, **options):
        super().__init__(**options)
        self.rate = float(rate)

    def call(self, inputs, training=False):
        return F.dropout(inputs, self.rate, training=training, seed=generator())

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class Activation(Layer):
    """Applies an activation by name or callable."""

    def __init__(self, activation, **options):
        super().__init__(**options)
        self.activation = activations.get(activation)

    def call(self, inputs, training=False):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.name_of(self.activation)}


class ZeroPadding2D(Layer):
    """Rings of zeros around (N, H, W, C): padding an int, (ph, pw), or ((top, bottom), (left, right))."""

    def __init__(self, padding=1, **options):
        super().__init__(**options)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif all(isinstance(p, int) for p in padding):
            padding = tuple((p, p) for p in padding)
        self.padding = tuple(tuple(p) for p in padding)

    def call(self, inputs, training=False):
        return F.pad(inputs, ((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = input_shape
        return (batch, height + top + bottom, width + left + right, channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}
