"""Convolution layers: Conv1D, Conv2D, Conv3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.

Each owns a kernel (and a bias) and calls the matching function of striate.functional, then its
activation. Kernel layouts are Keras': (*kernel_size, C_in // groups, filters).
"""

from striate import functional as F
from striate.functional.arguments import check_window_fits, padding_pairs, per_axis
from striate.functional.output_size import conv_transpose_output_length, effective_kernel_size
from striate.layers import activations
from striate.layers.activations import fusable
from striate.layers.layer import Layer

CONV_FUNCTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def conv_output_shape(op, input_shape, kernel_size, strides, padding, dilation, channels):
    """(None, *out, channels) by the output-size formula, raising with the formula if a kernel does not fit."""
    spatial = input_shape[1:-1]
    pads = padding_pairs(op, padding, spatial, kernel_size, strides, dilation)
    check_window_fits(op, spatial, kernel_size, strides, dilation, pads)
    out = [(n + before + after - effective_kernel_size(k, d)) // s + 1
           for n, k, s, d, (before, after) in zip(spatial, kernel_size, strides, dilation, pads)]
    return (input_shape[0], *out, channels)


class Conv(Layer):
    """N-d convolution layer; see Conv2D."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", **options):
        super().__init__(**options)
        op = type(self).__name__
        self.filters = int(filters)
        self.kernel_size = per_axis(op, "kernel_size", kernel_size, self.rank)
        self.strides = per_axis(op, "strides", strides, self.rank)
        self.dilation_rate = per_axis(op, "dilation_rate", dilation_rate, self.rank)
        self.padding, self.groups, self.use_bias = padding, groups, use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.groups:
            raise ValueError(f"{self.name}: groups={self.groups} must divide the input channels {channels} "
                             f"(input shape {input_shape})")
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels // self.groups, self.filters),
                                      self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None

    def call(self, inputs, training=False):
        fused, after = fusable(self.activation)
        y = CONV_FUNCTIONS[self.rank](inputs, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate,
                                      self.groups, activation=fused)
        return after(y)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "dilation_rate": self.dilation_rate,
                "groups": self.groups, "activation": activations.name_of(self.activation), "use_bias": self.use_bias}


class Conv1D(Conv):
    """1-D convolution over (N, W, C) inputs; see Conv2D."""

    rank = 1


class Conv2D(Conv):
    """2-D convolution layer, as keras.layers.Conv2D: y = activation(conv2d(x, kernel) + bias).

    Args:
        filters: number of output channels C_out.
        kernel_size, strides, dilation_rate: an int or one per axis.
        padding: "valid", "same", "full" or explicit (see striate.functional.conv2d).
        groups: channel groups (groups == C_in is depthwise).
        activation: a name ("relu", ...), a callable, or None.
    Weights: kernel (kh, kw, C_in // groups, filters) and bias (filters,): kh*kw*C_in/groups*filters + filters.
    """

    rank = 2


class Conv3D(Conv):
    """3-D convolution over (N, D, H, W, C) inputs; see Conv2D."""

    rank = 3


class Conv2DTranspose(Conv):
    """Transposed 2-D convolution, as keras.layers.Conv2DTranspose; kernel (kh, kw, filters // groups, C_in).

    groups (as PyTorch's ConvTranspose2d) must divide both the input channels and the filters.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, dilation_rate=1,
                 groups=1, **options):
        super().__init__(filters, kernel_size, strides, padding, dilation_rate, groups, **options)
        self.output_padding = output_padding

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.groups or self.filters % self.groups:
            raise ValueError(f"{self.name}: groups={self.groups} must divide the input channels {channels} and the "
                             f"filters {self.filters} (input shape {input_shape})")
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.filters // self.groups, channels),
                                      self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None

    def call(self, inputs, training=False):
        y = F.conv_transpose2d(inputs, self.kernel, self.bias, self.strides, self.padding, self.output_padding,
                               self.dilation_rate, self.groups)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        extra = self.output_padding
        extras = (extra,) * 2 if extra is None or isinstance(extra, int) else tuple(extra)
        out = [conv_transpose_output_length(n, k, s, self.padding, e, d, op=self.name)
               for n, k, s, e, d in zip(input_shape[1:-1], self.kernel_size, self.strides, extras, self.dilation_rate)]
        return (input_shape[0], *out, self.filters)

    def get_config(self):
        return {**super().get_config(), "output_padding": self.output_padding}


class DepthwiseConv2D(Layer):
    """Depthwise convolution, as keras.layers.DepthwiseConv2D: kernel (kh, kw, C_in, depth_multiplier)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, dilation_rate=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros", **options):
        super().__init__(**options)
        self.kernel_size = per_axis(self.name, "kernel_size", kernel_size, 2)
        self.strides = per_axis(self.name, "strides", strides, 2)
        self.dilation_rate = per_axis(self.name, "dilation_rate", dilation_rate, 2)
        self.padding, self.depth_multiplier, self.use_bias = padding, depth_multiplier, use_bias
        self.activation = activations.get(activation)
        self.depthwise_initializer, self.bias_initializer = depthwise_initializer, bias_initializer

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight("depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
                                      self.depthwise_initializer)
        self.bias = (self.add_weight("bias", (channels * self.depth_multiplier,), self.bias_initializer)
                     if self.use_bias else None)

    def call(self, inputs, training=False):
        fused, after = fusable(self.activation)
        y = F.depthwise_conv2d(inputs, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate,
                               activation=fused)
        return after(y)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, input_shape[-1] * self.depth_multiplier)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "depth_multiplier": self.depth_multiplier,
                "dilation_rate": self.dilation_rate, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias}


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise then 1x1 pointwise convolution, as keras.layers.SeparableConv2D."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1, dilation_rate=1,
                 pointwise_initializer="glorot_uniform", **options):
        super().__init__(kernel_size, strides, padding, depth_multiplier, dilation_rate, **options)
        self.filters = int(filters)
        self.pointwise_initializer = pointwise_initializer

    def build(self, input_shape):
        channels = input_shape[-1] * self.depth_multiplier
        self.kernel = self.add_weight("depthwise_kernel", (*self.kernel_size, input_shape[-1], self.depth_multiplier),
                                      self.depthwise_initializer)
        self.pointwise_kernel = self.add_weight("pointwise_kernel", (1, 1, channels, self.filters),
                                                self.pointwise_initializer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None

    def call(self, inputs, training=False):
        y = F.separable_conv2d(inputs, self.kernel, self.pointwise_kernel, self.bias, self.strides, self.padding,
                               self.dilation_rate)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}
