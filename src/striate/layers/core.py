"""Core layers: InputLayer, Dense, Flatten, Dropout, Activation, ZeroPadding2D."""

import math

from striate import constraints, regularizers
from striate import functional as F
from striate.layers import activations
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer
from striate.layers.noise import RandomSource, dropout_mask
from striate.ops import dense


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

    Acts on the last axis; parameters C_in * units + units. `*_regularizer` add penalties to `losses`
    (striate.regularizers), `*_constraint` project the weights after each step (striate.constraints).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **options):
        super().__init__(activity_regularizer=activity_regularizer, **options)
        self.units, self.use_bias = int(units), use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def call(self, inputs, training=False):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: built for {self.kernel.shape[0]} input features, received an input of "
                             f"shape {inputs.shape} ({inputs.shape[-1]} features)")
        fused, after = activations.fusable(self.activation)
        return after(dense(inputs, self.kernel, self.bias, activation=fused))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def weight_shapes(self, input_shape):
        kernel = ((input_shape[-1], self.units), True)
        return [kernel, ((self.units,), True)] if self.use_bias else [kernel]

    def multiply_accumulates(self, input_shape, output_shape):
        """features_in * units at each position of the input (Dense acts on the last axis)."""
        return math.prod(input_shape[1:]) * self.units

    def floating_point_operations(self, input_shape, output_shape):
        return super().floating_point_operations(input_shape, output_shape) + activations.bias_and_activation_flops(
            self, output_shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias, **regularizers.config_of(self, "kernel", "bias"),
                **constraints.config_of(self, "kernel", "bias")}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def call(self, inputs, training=False):
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], math.prod(input_shape[1:]))

    def sliding_window(self, input_shape):
        """One window over the whole map (each output sees all of it); None for an input without spatial axes."""
        spatial = tuple(input_shape[1:-1])
        return (spatial, spatial, (1,) * len(spatial), ((0, 0),) * len(spatial)) if spatial else None


class Dropout(Layer):
    """Inverted dropout while training (fraction `rate` zeroed, the rest scaled by 1 / (1 - rate)); identity
    in inference.

    noise_shape: the shape of the keep/drop mask, broadcast over the input, None entries taken from the input
        (Keras': (None, 1, C) for (N, W, C) drops whole channels of each sample).
    seed: None draws from striate's generator (set_random_seed); an int gives the layer its own generator,
        seeded once (each call a new mask, the same sequence on every run).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **options):
        super().__init__(**options)
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.random = RandomSource(seed)

    def call(self, inputs, training=False):
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, training=training, seed=self.random.generator())
        if not training or self.rate == 0:
            return inputs
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(f"{self.name}: noise_shape {self.noise_shape} must have one entry per axis of the input "
                             f"{inputs.shape}")
        shape = tuple(n if m is None else int(m) for m, n in zip(self.noise_shape, inputs.shape))
        return inputs * dropout_mask(self.random.generator(), shape, self.rate, inputs.dtype)

    def get_config(self):
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape, "seed": self.random.seed}


class Activation(Layer):
    """Applies an activation by name or callable."""

    def __init__(self, activation, **options):
        super().__init__(**options)
        self.activation = activations.get(activation)

    def call(self, inputs, training=False):
        return self.activation(inputs)

    def floating_point_operations(self, input_shape, output_shape):
        return math.prod(output_shape[1:]) * activations.flops_per_element(self.activation)

    def get_config(self):
        return {**super().get_config(), "activation": activations.name_of(self.activation)}


class ZeroPadding2D(Layer):
    """Rings of zeros around (N, H, W, C): padding an int, (ph, pw), or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **options):
        super().__init__(**options)
        self.data_format = check_data_format(self.name, data_format)
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

    def sliding_window(self, input_shape):
        """A 1 x 1 window over the padded map: the padding moves the field's start."""
        return (1, 1), (1, 1), (1, 1), self.padding

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
