"""Convolution layers: Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D.

Each owns a kernel (and a bias) and calls the matching function of striate.functional, then its
activation. Kernel layouts are Keras': (*kernel_size, C_in // groups, filters). The 2-D class of each family is
written for any `rank`; the 1-D and 3-D layers are it with `rank` set. data_format="channels_last" (or None) is
accepted and "channels_first" refused: striate is channels-last.
"""

import math

from striate import constraints, regularizers
from striate import functional as F
from striate.functional.arguments import check_window_fits, padding_pairs, per_axis
from striate.functional.output_size import conv_transpose_output_length, effective_kernel_size
from striate.layers import activations
from striate.layers.activations import bias_and_activation_flops, fusable
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer

CONV_FUNCTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TRANSPOSE_FUNCTIONS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def causal_padding(kernel_size, dilation_rate):
    """Conv1D's padding="causal" as explicit padding: (d (k - 1), 0) zeros before the steps, none after, so
    output step t sees inputs t, t - d, ..., never a later one (WaveNet, van den Oord et al. 2016)."""
    return ((dilation_rate[0] * (kernel_size[0] - 1), 0),)


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

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **options):
        super().__init__(activity_regularizer=activity_regularizer, **options)
        op = type(self).__name__
        self.data_format = check_data_format(self.name, data_format)
        if padding == "causal" and self.rank != 1:
            raise ValueError(f"{self.name}: padding='causal' is for 1-D convolutions (Conv1D); received it for a "
                             f"{self.rank}-D layer")
        self.filters = int(filters)
        self.kernel_size = per_axis(op, "kernel_size", kernel_size, self.rank)
        self.strides = per_axis(op, "strides", strides, self.rank)
        self.dilation_rate = per_axis(op, "dilation_rate", dilation_rate, self.rank)
        self.padding, self.groups, self.use_bias = padding, groups, use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def add_kernel_and_bias(self, kernel_shape):
        """The kernel (`kernel_shape`) and the bias (filters,) or None, with their initializers, regularizers
        and constraints."""
        self.kernel = self.add_weight("kernel", kernel_shape, self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.groups:
            raise ValueError(f"{self.name}: groups={self.groups} must divide the input channels {channels} "
                             f"(input shape {input_shape})")
        self.add_kernel_and_bias((*self.kernel_size, channels // self.groups, self.filters))

    def explicit_padding(self):
        """The padding for striate.functional: "causal" as explicit pairs, anything else as given."""
        return causal_padding(self.kernel_size, self.dilation_rate) if self.padding == "causal" else self.padding

    def call(self, inputs, training=False):
        fused, after = fusable(self.activation)
        return after(self.convolve(inputs, fused))

    def convolve(self, inputs, activation=None, **weights):
        """activation(conv(inputs, kernel) + bias), the activation (None or a name of `IN_PLACE_ACTIVATIONS`)
        applied inside the op; `weights` (kernel=, bias=) replace the layer's own, as a fusion plan's folded ones
        do (striate.models.fusion)."""
        kernel, bias = weights.get("kernel", self.kernel), weights.get("bias", self.bias)
        return CONV_FUNCTIONS[self.rank](inputs, kernel, bias, self.strides, self.explicit_padding(),
                                         self.dilation_rate, self.groups, activation=activation)

    def scaled_weights(self, scale, shift):
        """{kernel, bias} (NumPy) of this layer's convolution followed by y * scale + shift per output channel
        (scale, shift: (filters,)): kernel[..., o] * scale[o] and bias[o] * scale[o] + shift[o]."""
        return {"kernel": self.kernel.data * scale, "bias": _scaled_bias(self.bias, scale, shift)}

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.kernel_size, self.strides, self.explicit_padding(),
                                 self.dilation_rate, self.filters)

    def weight_shapes(self, input_shape):
        kernel = ((*self.kernel_size, input_shape[-1] // self.groups, self.filters), True)
        return [kernel, ((self.filters,), True)] if self.use_bias else [kernel]

    def multiply_accumulates(self, input_shape, output_shape):
        """H_out * W_out * C_out * kh * kw * C_in / groups."""
        return math.prod(output_shape[1:]) * math.prod(self.kernel_size) * (input_shape[-1] // self.groups)

    def floating_point_operations(self, input_shape, output_shape):
        return super().floating_point_operations(input_shape, output_shape) + bias_and_activation_flops(
            self, output_shape)

    def sliding_window(self, input_shape):
        spatial = input_shape[1:-1]
        pads = padding_pairs(self.name, self.explicit_padding(), spatial, self.kernel_size, self.strides,
                             self.dilation_rate)
        return self.kernel_size, self.strides, self.dilation_rate, pads

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                **regularizers.config_of(self, "kernel", "bias"), **constraints.config_of(self, "kernel", "bias")}


class Conv1D(Conv):
    """1-D convolution over (N, W, C) inputs; see Conv2D. padding may also be "causal" (see `causal_padding`)."""

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

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, groups=1, **options):
        super().__init__(filters, kernel_size, strides, padding, data_format=data_format, dilation_rate=dilation_rate,
                         groups=groups, **options)
        self.output_padding = output_padding

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.groups or self.filters % self.groups:
            raise ValueError(f"{self.name}: groups={self.groups} must divide the input channels {channels} and the "
                             f"filters {self.filters} (input shape {input_shape})")
        self.add_kernel_and_bias((*self.kernel_size, self.filters // self.groups, channels))

    def convolve(self, inputs, activation=None, **weights):
        """activation(conv_transpose(inputs, kernel) + bias), the activation (None or a name of
        `IN_PLACE_ACTIVATIONS`) applied inside the op; `weights` (kernel=, bias=) replace the layer's own (see
        Conv.convolve)."""
        kernel, bias = weights.get("kernel", self.kernel), weights.get("bias", self.bias)
        return TRANSPOSE_FUNCTIONS[self.rank](inputs, kernel, bias, self.strides, self.padding, self.output_padding,
                                              self.dilation_rate, self.groups, activation=activation)

    def scaled_weights(self, scale, shift):
        """{kernel, bias} of this layer followed by y * scale + shift per output channel. Output channel
        o = g * F_g + j (F_g = filters // groups) is made by kernel[..., j, the inputs of group g]."""
        kernel = self.kernel.data
        per_group_in = kernel.shape[-1] // self.groups
        grouped = kernel.reshape(*kernel.shape[:-1], self.groups, per_group_in)  # (*k, F_g, G, C_in_g)
        by_group = scale.reshape(self.groups, -1).T[:, :, None]  # (F_g, G, 1): the scale of output g * F_g + j
        return {"kernel": (grouped * by_group).reshape(kernel.shape), "bias": _scaled_bias(self.bias, scale, shift)}

    def compute_output_shape(self, input_shape):
        extra = self.output_padding
        extras = (extra,) * self.rank if extra is None or isinstance(extra, int) else tuple(extra)
        out = [conv_transpose_output_length(n, k, s, self.padding, e, d, op=self.name)
               for n, k, s, e, d in zip(input_shape[1:-1], self.kernel_size, self.strides, extras, self.dilation_rate)]
        return (input_shape[0], *out, self.filters)

    def weight_shapes(self, input_shape):
        kernel = ((*self.kernel_size, self.filters // self.groups, input_shape[-1]), True)
        return [kernel, ((self.filters,), True)] if self.use_bias else [kernel]

    def multiply_accumulates(self, input_shape, output_shape):
        """H_in * W_in * C_in * kh * kw * C_out / groups: every input value is scattered through the kernel."""
        return math.prod(input_shape[1:]) * math.prod(self.kernel_size) * (self.filters // self.groups)

    def sliding_window(self, input_shape):
        return None

    def receptive_field(self, field, input_shape, output_shape):
        """None: the field ends here. Output o gathers the inputs i with i * s + j * d - before = o for some tap j,
        about k / s of them, a number that changes with o mod s; neighbouring outputs do not step through the
        input by one jump, so no (size, jump, start) describes them all (as UpSampling and Resizing)."""
        return None

    def get_config(self):
        return {**super().get_config(), "output_padding": self.output_padding}


class Conv1DTranspose(Conv2DTranspose):
    """Transposed 1-D convolution over (N, W, C), as keras.layers.Conv1DTranspose; kernel (kw, filters, C_in)."""

    rank = 1


class Conv3DTranspose(Conv2DTranspose):
    """Transposed 3-D convolution over (N, D, H, W, C), as keras.layers.Conv3DTranspose (Keras' argument order:
    data_format before output_padding); kernel (kd, kh, kw, filters, C_in)."""

    rank = 3

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, output_padding=None,
                 dilation_rate=1, groups=1, **options):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, groups,
                         **options)


class DepthwiseConv2D(Layer):
    """Depthwise convolution, as keras.layers.DepthwiseConv2D: kernel (kh, kw, C_in, depth_multiplier)."""

    rank = 2

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **options):
        super().__init__(activity_regularizer=activity_regularizer, **options)
        self.data_format = check_data_format(self.name, data_format)
        self.kernel_size = per_axis(self.name, "kernel_size", kernel_size, self.rank)
        self.strides = per_axis(self.name, "strides", strides, self.rank)
        self.dilation_rate = per_axis(self.name, "dilation_rate", dilation_rate, self.rank)
        self.padding, self.depth_multiplier, self.use_bias = padding, depth_multiplier, use_bias
        self.activation = activations.get(activation)
        self.depthwise_initializer, self.bias_initializer = depthwise_initializer, bias_initializer
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def add_depthwise_kernel(self, channels):
        """The depthwise kernel (kh, kw, channels, depth_multiplier), with its initializer, regularizer and
        constraint."""
        self.kernel = self.add_weight("depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
                                      self.depthwise_initializer, regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint)

    def add_bias(self, size):
        """The bias (size,), or None without use_bias."""
        self.bias = self.add_weight("bias", (size,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def build(self, input_shape):
        channels = input_shape[-1]
        self.add_depthwise_kernel(channels)
        self.add_bias(channels * self.depth_multiplier)

    def call(self, inputs, training=False):
        fused, after = fusable(self.activation)
        return after(self.convolve(inputs, fused))

    def convolve(self, inputs, activation=None, **weights):
        """activation(depthwise_conv(inputs, kernel) + bias), the activation (None or a name of
        `IN_PLACE_ACTIVATIONS`) applied inside the op; `weights` (kernel=, bias=) replace the layer's own (see
        Conv.convolve)."""
        kernel, bias = weights.get("kernel", self.kernel), weights.get("bias", self.bias)
        if self.rank == 1:
            return as_width_of_an_image(F.depthwise_conv2d, inputs, kernel, bias, self.strides, self.padding,
                                        self.dilation_rate, activation=activation)
        return F.depthwise_conv2d(inputs, kernel, bias, self.strides, self.padding, self.dilation_rate,
                                  activation=activation)

    def scaled_weights(self, scale, shift):
        """{kernel, bias} of this layer followed by y * scale + shift per output channel: output channel
        c * depth_multiplier + m is kernel[..., c, m]'s."""
        kernel = self.kernel.data
        return {"kernel": kernel * scale.reshape(kernel.shape[-2:]), "bias": _scaled_bias(self.bias, scale, shift)}

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, input_shape[-1] * self.depth_multiplier)

    def weight_shapes(self, input_shape):
        kernel = ((*self.kernel_size, input_shape[-1], self.depth_multiplier), True)
        return [kernel, ((input_shape[-1] * self.depth_multiplier,), True)] if self.use_bias else [kernel]

    def multiply_accumulates(self, input_shape, output_shape):
        """H_out * W_out * C * depth_multiplier * kh * kw."""
        depth = input_shape[-1] * self.depth_multiplier
        return math.prod(output_shape[1:-1]) * depth * math.prod(self.kernel_size)

    def floating_point_operations(self, input_shape, output_shape):
        return super().floating_point_operations(input_shape, output_shape) + bias_and_activation_flops(
            self, output_shape)

    def sliding_window(self, input_shape):
        spatial = input_shape[1:-1]
        pads = padding_pairs(self.name, self.padding, spatial, self.kernel_size, self.strides, self.dilation_rate)
        return self.kernel_size, self.strides, self.dilation_rate, pads

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias, **regularizers.config_of(self, "depthwise", "bias"),
                **constraints.config_of(self, "depthwise", "bias")}


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise then 1x1 pointwise convolution, as keras.layers.SeparableConv2D."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", pointwise_regularizer=None, pointwise_constraint=None,
                 **options):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate,
                         activation=activation, use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         **options)
        self.filters = int(filters)
        self.pointwise_initializer = pointwise_initializer
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        channels = input_shape[-1] * self.depth_multiplier
        self.add_depthwise_kernel(input_shape[-1])
        self.pointwise_kernel = self.add_weight("pointwise_kernel", (*(1,) * self.rank, channels, self.filters),
                                                self.pointwise_initializer, regularizer=self.pointwise_regularizer,
                                                constraint=self.pointwise_constraint)
        self.add_bias(self.filters)

    def call(self, inputs, training=False):
        return self.activation(self.convolve(inputs))

    def convolve(self, inputs, activation=None, **weights):
        """activation(pointwise(depthwise(inputs)) + bias) (activation None or an activation's name); `weights`
        (pointwise_kernel=, bias=) replace the layer's own (see Conv.convolve)."""
        pointwise, bias = weights.get("pointwise_kernel", self.pointwise_kernel), weights.get("bias", self.bias)
        if self.rank == 1:
            y = as_width_of_an_image(F.separable_conv2d, inputs, self.kernel, pointwise, bias, self.strides,
                                     self.padding, self.dilation_rate)
        else:
            y = F.separable_conv2d(inputs, self.kernel, pointwise, bias, self.strides, self.padding,
                                   self.dilation_rate)
        return y if activation is None else activations.get(activation)(y)

    def scaled_weights(self, scale, shift):
        """{pointwise_kernel, bias} of this layer followed by y * scale + shift per output channel (the depthwise
        kernel is unchanged)."""
        return {"pointwise_kernel": self.pointwise_kernel.data * scale, "bias": _scaled_bias(self.bias, scale, shift)}

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, self.filters)

    def weight_shapes(self, input_shape):
        depth = input_shape[-1] * self.depth_multiplier
        shapes = [((*self.kernel_size, input_shape[-1], self.depth_multiplier), True),
                  ((*(1,) * self.rank, depth, self.filters), True)]
        return [*shapes, ((self.filters,), True)] if self.use_bias else shapes

    def multiply_accumulates(self, input_shape, output_shape):
        """Depthwise H_out * W_out * C * depth_multiplier * kh * kw, then pointwise H_out * W_out * C *
        depth_multiplier * C_out."""
        depth = input_shape[-1] * self.depth_multiplier
        return math.prod(output_shape[1:-1]) * depth * (math.prod(self.kernel_size) + self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **regularizers.config_of(self, "pointwise"),
                **constraints.config_of(self, "pointwise")}


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise convolution over (N, W, C), as keras.layers.DepthwiseConv1D: kernel (kw, C_in, depth_multiplier)."""

    rank = 1


class SeparableConv1D(SeparableConv2D):
    """Depthwise then pointwise convolution over (N, W, C), as keras.layers.SeparableConv1D: depthwise kernel
    (kw, C_in, depth_multiplier), pointwise kernel (1, C_in * depth_multiplier, filters)."""

    rank = 1


def _scaled_bias(bias, scale, shift):
    """bias * scale + shift, a layer without bias counting as a zero bias."""
    return shift if bias is None else bias.data * scale + shift


def as_width_of_an_image(function, inputs, *kernels_bias_strides_padding_dilation, **options):
    """A 1-D depthwise or separable convolution run by its 2-D function on (N, 1, W, C): each kernel gains a
    leading axis of 1, each stride and dilation a leading 1; the output loses the axis again. Exact (the
    height-1 axis adds nothing), so the 2-D functions serve 1-D layers as they serve Keras' TensorFlow backend."""
    *kernels, bias, strides, padding, dilation_rate = kernels_bias_strides_padding_dilation
    image = inputs.reshape(inputs.shape[0], 1, *inputs.shape[1:])
    kernels = [kernel.reshape(1, *kernel.shape) for kernel in kernels]
    if not isinstance(padding, str):
        padding = [(0, 0), padding[0] if len(padding) == 1 else padding]
    y = function(image, *kernels, bias, (1, *strides), padding, (1, *dilation_rate), **options)
    return y.reshape(y.shape[0], *y.shape[2:])
