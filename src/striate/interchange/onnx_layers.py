"""Each striate layer as ONNX nodes: one emitter per layer class, in the table EMITTERS.

An emitter takes the graph builder (striate.interchange.onnx_export.GraphBuilder), the layer, its input
Values and its output shape, adds nodes and returns the output Value; it raises `Refused` with the reason
when this layer's settings have no ONNX form. Weights change layout on the way (ONNX's are channels-first):

    striate                                              ONNX
    Conv kernel (*k, C_in/g, C_out)                      Conv W (C_out, C_in/g, *k)        axes (r+1, r, 0..r-1)
    ConvNDTranspose kernel (*k, C_out/g, C_in)           ConvTranspose W (C_in, C_out/g, *k)  axes (r+1, r, 0..r-1)
    DepthwiseConvND kernel (*k, C, M)                    Conv W (C*M, 1, *k), group C  (channel c*M + m)
    Dense kernel (in, out)                               Gemm / MatMul B (in, out)         as is
    LSTM kernel (F, 4H), gates (i, f, c, o)              LSTM W (1, 4H, F), gates (i, o, f, c)
    GRU kernel (F, 3H), gates (z, r, h)                  GRU W (1, 3H, F), gates (z, r, h); reset_after=True is
                                                         linear_before_reset=1, bias (2, 3H) is B = [Wb, Rb]
    SimpleRNN kernel (F, H)                              RNN W (1, H, F)

Padding is always written out as pads (begin..., end...): "same" with an even kernel pads more at the end
(TensorFlow's rule), which ONNX's explicit pads express exactly. "same" average pooling leaves the padding out
of the mean (count_include_pad=0); max pooling's padding never wins.
"""

from collections.abc import Callable

import numpy as np

from striate.functional.arguments import padding_pairs
from striate.functional.output_size import conv_transpose_output_length, effective_kernel_size, is_int, padding_pair
from striate.interchange import onnx_arithmetic as arithmetic
from striate.interchange import onnx_reshaping as reshaping
from striate.interchange.onnx_values import Refused, Value, scalar
from striate.layers import (
    activation_layers,
    activations,
    augmentation,
    core,
    function_layers,
    group_normalization,
    merge,
    merging,
    noise,
    normalization,
    pooling,
    preprocessing,
    recurrent,
)
from striate.layers import convolution as conv_layers
from striate.layers import reshaping as reshaping_layers
from striate.models.mobilenet import relu6
from striate.ops.smooth_activations import SELU_ALPHA, SELU_SCALE


# ---- activations -----------------------------------------------------------------------------------------
def activation_name(function):
    """striate's name of an activation ONNX can compute ("relu", ..., "relu6", "linear"), else None."""
    name = activations.name_of(function)
    if activations.BY_NAME.get(name) is function and name in ACTIVATION_NODES:
        return name
    return "relu6" if function is relu6 else None


def check_activation(function):
    if activation_name(function) is None:
        raise Refused(f"its activation {activations.name_of(function)!r} has no ONNX form (exported: "
                      f"{', '.join(sorted(ACTIVATION_NODES))})")


def emit_activation(builder, function, value, name):
    """`function` applied to `value` (softmax over striate's last axis, the channels)."""
    kind = activation_name(function)
    if kind == "linear":
        return value
    output = ACTIVATION_NODES[kind](builder, value, f"{name}/{kind}")
    return Value(output, value.shape, value.channels_first)


def _swish(builder, value, name):
    return builder.node("Mul", [value.name, builder.node("Sigmoid", [value.name], f"{name}/sigmoid")], name)


def _mish(builder, value, name):
    softplus = builder.node("Softplus", [value.name], f"{name}/softplus")
    return builder.node("Mul", [value.name, builder.node("Tanh", [softplus], f"{name}/tanh")], name)


def _gelu(builder, value, name):
    """The exact form x * (1 + erf(x / sqrt(2))) / 2 (ONNX's Gelu op comes with opset 20)."""
    scaled = builder.node("Mul", [value.name, scalar(builder, f"{name}/inverse_sqrt2", 2**-0.5)], f"{name}/scaled")
    one_plus = builder.node("Add", [builder.node("Erf", [scaled], f"{name}/erf"), scalar(builder, f"{name}/one", 1)],
                            f"{name}/one_plus")
    half = builder.node("Mul", [one_plus, scalar(builder, f"{name}/half", 0.5)], f"{name}/half_of")
    return builder.node("Mul", [value.name, half], name)


ACTIVATION_NODES = {  # striate's activation name -> (builder, Value, node name) -> output name
    "linear": None,
    "relu": lambda b, v, n: b.node("Relu", [v.name], n),
    "sigmoid": lambda b, v, n: b.node("Sigmoid", [v.name], n),
    "tanh": lambda b, v, n: b.node("Tanh", [v.name], n),
    "softmax": lambda b, v, n: b.node("Softmax", [v.name], n, axis=1 if v.channels_first else -1),
    "elu": lambda b, v, n: b.node("Elu", [v.name], n, alpha=1.0),
    "leaky_relu": lambda b, v, n: b.node("LeakyRelu", [v.name], n, alpha=0.2),  # striate's negative_slope
    "relu6": lambda b, v, n: b.node("Clip", [v.name, scalar(b, f"{n}/min", 0), scalar(b, f"{n}/max", 6)], n),
    "selu": lambda b, v, n: b.node("Selu", [v.name], n, alpha=SELU_ALPHA, gamma=SELU_SCALE),
    "softplus": lambda b, v, n: b.node("Softplus", [v.name], n),
    "hard_sigmoid": lambda b, v, n: b.node("HardSigmoid", [v.name], n, alpha=1 / 6, beta=0.5),
    "swish": _swish, "silu": _swish, "mish": _mish, "gelu": _gelu,
}


def activation_layer(builder, layer, inputs, shape):
    check_activation(layer.activation)
    return emit_activation(builder, layer.activation, inputs[0], layer.name)


def identity(builder, layer, inputs, shape):
    """InputLayer, Identity, and the layers that only act in training (Dropout, the noise layers, the random
    augmentations): no node."""
    return inputs[0]


def random_crop(builder, layer, inputs, shape):
    """RandomCrop passes the images unchanged in inference, which ONNX can only say when its declared output
    size is the input's."""
    if tuple(shape) != tuple(inputs[0].shape):
        raise Refused(f"in inference it returns its input {inputs[0].shape} unchanged, while its output shape is "
                      f"declared {shape}; the graph's shapes would disagree (use CenterCrop for inference)")
    return inputs[0]


# ---- convolutions ----------------------------------------------------------------------------------------
def onnx_pads(pairs):
    """((b1, e1), (b2, e2), ...) -> [b1, b2, ..., e1, e2, ...]."""
    return [int(before) for before, _ in pairs] + [int(after) for _, after in pairs]


def convolution(builder, layer, inputs, shape):
    """Conv1D, Conv2D, Conv3D: Conv with explicit pads, groups and dilations, then the activation; Conv1D's
    padding="causal" is its explicit padding (d (k - 1) before, none after)."""
    check_activation(layer.activation)
    x = builder.channels_first(inputs[0])
    rank = len(layer.kernel_size)
    pads = padding_pairs(layer.name, layer.explicit_padding(), x.shape[1:-1], layer.kernel_size, layer.strides,
                         layer.dilation_rate)
    weight = layer.kernel.data.transpose(rank + 1, rank, *range(rank))
    output = _conv_node(builder, "Conv", layer.name, x, weight, layer.bias, kernel_shape=list(layer.kernel_size),
                        strides=list(layer.strides), dilations=list(layer.dilation_rate), group=int(layer.groups),
                        pads=onnx_pads(pads))
    return emit_activation(builder, layer.activation, Value(output, shape, True), layer.name)


def convolution_transpose(builder, layer, inputs, shape):
    """Conv1DTranspose, Conv2DTranspose, Conv3DTranspose: ConvTranspose whose pads crop what striate crops
    (the matching convolution's padding) and whose output_padding adds the cells striate adds at the end."""
    check_activation(layer.activation)
    x = builder.channels_first(inputs[0])
    spatial = x.shape[1:-1]
    rank = len(spatial)
    if isinstance(layer.padding, str) or is_int(layer.padding):
        axis_paddings = [layer.padding] * rank
    else:
        axis_paddings = padding_pairs(layer.name, layer.padding, spatial, layer.kernel_size, layer.strides,
                                      layer.dilation_rate)
    extra = layer.output_padding
    extras = (extra,) * rank if extra is None or is_int(extra) else tuple(extra)
    begins, ends, output_padding = [], [], []
    for n, k, s, d, padding, q in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate, axis_paddings,
                                      extras):
        length = conv_transpose_output_length(n, k, s, padding, q, d, op=layer.name)
        before, _ = padding_pair(padding, length, k, s, d, op=layer.name)
        end = (n - 1) * s + effective_kernel_size(k, d) - before - length  # cells of the full result cut at the end
        begins.append(before)
        ends.append(max(end, 0))
        output_padding.append(max(-end, 0))
    weight = layer.kernel.data.transpose(rank + 1, rank, *range(rank))
    output = _conv_node(builder, "ConvTranspose", layer.name, x, weight, layer.bias,
                        kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                        dilations=list(layer.dilation_rate), group=int(layer.groups), pads=begins + ends,
                        output_padding=output_padding)
    return emit_activation(builder, layer.activation, Value(output, shape, True), layer.name)


def depthwise_weight(kernel):
    """(*k, C, M) -> ONNX's grouped Conv weight (C * M, 1, *k), output channel c * M + m."""
    *window, channels, multiplier = kernel.shape
    rank = len(window)
    return kernel.reshape(*window, channels * multiplier).transpose(rank, *range(rank))[:, None]


def depthwise_convolution(builder, layer, inputs, shape):
    """DepthwiseConv1D/2D (and SeparableConv1D/2D's first half): a Conv with one group per input channel."""
    check_activation(layer.activation)
    x = builder.channels_first(inputs[0])
    pads = padding_pairs(layer.name, layer.padding, x.shape[1:-1], layer.kernel_size, layer.strides,
                         layer.dilation_rate)
    separable = isinstance(layer, conv_layers.SeparableConv2D)
    bias = None if separable else layer.bias
    depthwise_shape = (*shape[:-1], x.shape[-1] * layer.depth_multiplier)
    output = _conv_node(builder, "Conv", f"{layer.name}/depthwise" if separable else layer.name, x,
                        depthwise_weight(layer.kernel.data), bias, kernel_shape=list(layer.kernel_size),
                        strides=list(layer.strides), dilations=list(layer.dilation_rate), group=int(x.shape[-1]),
                        pads=onnx_pads(pads))
    value = Value(output, depthwise_shape, True)
    if separable:
        rank = len(layer.kernel_size)
        pointwise = layer.pointwise_kernel.data.transpose(rank + 1, rank, *range(rank))
        output = _conv_node(builder, "Conv", f"{layer.name}/pointwise", value, pointwise, layer.bias,
                            kernel_shape=[1] * rank)
        value = Value(output, shape, True)
    return emit_activation(builder, layer.activation, value, layer.name)


def _conv_node(builder, op, name, x, weight, bias, **attributes):
    inputs = [x.name, builder.constant(f"{name}/weight", weight)]
    if bias is not None:
        inputs.append(builder.constant(f"{name}/bias", bias.data))
    return builder.node(op, inputs, name, **attributes)


# ---- pooling, normalization ------------------------------------------------------------------------------
def pool(builder, layer, inputs, shape):
    """Max and average pooling of any rank; "same" pads as striate (the mean over real cells only)."""
    x = builder.channels_first(inputs[0])
    rank = len(layer.pool_size)
    pads = padding_pairs(layer.name, layer.padding, x.shape[1:-1], layer.pool_size, layer.strides, (1,) * rank)
    attributes = {"kernel_shape": list(layer.pool_size), "strides": list(layer.strides), "pads": onnx_pads(pads)}
    if isinstance(layer, MAX_POOLS):
        output = builder.node("MaxPool", [x.name], layer.name, **attributes)
    else:
        output = builder.node("AveragePool", [x.name], layer.name, count_include_pad=0, **attributes)
    return Value(output, shape, True)


def global_pool(builder, layer, inputs, shape):
    """Global average / max pooling: (N, C, *spatial) -> (N, C, 1, ...) -> Flatten -> (N, C) (kept with
    keepdims=True)."""
    x = builder.channels_first(inputs[0])
    op = "GlobalMaxPool" if isinstance(layer, GLOBAL_MAX_POOLS) else "GlobalAveragePool"
    pooled = builder.node(op, [x.name], layer.name)
    if getattr(layer, "keepdims", False):
        return Value(pooled, shape, True)
    return Value(builder.node("Flatten", [pooled], f"{layer.name}/flatten", axis=1), shape, False)


def batch_normalization(builder, layer, inputs, shape):
    """Inference form: gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta on the channel axis."""
    x = builder.channels_first(inputs[0])
    channels = x.shape[-1]
    gamma = np.ones(channels) if layer.gamma is None else layer.gamma.data
    beta = np.zeros(channels) if layer.beta is None else layer.beta.data
    parameters = [builder.constant(f"{layer.name}/{name}", value) for name, value in
                  (("gamma", gamma), ("beta", beta), ("moving_mean", layer.moving_mean.data),
                   ("moving_variance", layer.moving_variance.data))]
    output = builder.node("BatchNormalization", [x.name, *parameters], layer.name, epsilon=float(layer.epsilon))
    return Value(output, shape, x.channels_first)


def local_response_normalization(builder, layer, inputs, shape):
    """ONNX's LRN divides alpha by size = 2 r + 1 (as PyTorch); striate's (TensorFlow's) does not."""
    if len(inputs[0].shape) < 3:
        raise Refused(f"ONNX's LRN needs (N, C, spatial...); received an input of shape {inputs[0].shape}")
    x = builder.channels_first(inputs[0])
    size = 2 * int(layer.depth_radius) + 1
    output = builder.node("LRN", [x.name], layer.name, size=size, alpha=float(layer.alpha) * size,
                          beta=float(layer.beta), bias=float(layer.bias))
    return Value(output, shape, True)


# ---- dense, reshaping, merging ---------------------------------------------------------------------------
def dense(builder, layer, inputs, shape):
    """Gemm on (N, C_in); MatMul and Add on the last axis of a longer tensor (taken channels-last)."""
    check_activation(layer.activation)
    x = builder.channels_last(inputs[0])
    kernel = builder.constant(f"{layer.name}/kernel", layer.kernel.data)
    if len(x.shape) == 2 and layer.bias is not None:
        bias = builder.constant(f"{layer.name}/bias", layer.bias.data)
        output = builder.node("Gemm", [x.name, kernel, bias], layer.name)
    else:
        output = builder.node("MatMul", [x.name, kernel], layer.name)
        if layer.bias is not None:
            bias = builder.constant(f"{layer.name}/bias", layer.bias.data)
            output = builder.node("Add", [output, bias], f"{layer.name}/bias_add")
    return emit_activation(builder, layer.activation, Value(output, shape, False), layer.name)


def flatten(builder, layer, inputs, shape):
    """Channels-last first, so the features come in striate's order h * W * C + w * C + c."""
    x = builder.channels_last(inputs[0])
    if len(x.shape) == 2:
        return x
    return Value(builder.node("Flatten", [x.name], layer.name, axis=1), shape, False)


def add(builder, layer, inputs, shape):
    """Add of two inputs, Sum of more, all in the first input's layout."""
    values = [builder.like(value, inputs[0]) for value in inputs]
    output = builder.node("Add" if len(values) == 2 else "Sum", [value.name for value in values], layer.name)
    return Value(output, shape, values[0].channels_first)


def concatenate(builder, layer, inputs, shape):
    """Concat on striate's axis, renumbered for the channels-first layout when the inputs have it."""
    rank = len(shape)
    axis = layer.axis % rank
    if axis == 0:
        raise Refused("concatenating along the batch axis")
    values = [builder.like(value, inputs[0]) for value in inputs]
    if values[0].channels_first:
        axis = 1 if axis == rank - 1 else axis + 1
    output = builder.node("Concat", [value.name for value in values], layer.name, axis=axis)
    return Value(output, shape, values[0].channels_first)


# ---- recurrent layers ------------------------------------------------------------------------------------
RNN_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
LSTM_GATES = (0, 3, 1, 2)  # ONNX's gate blocks (i, o, f, c) taken from striate's (i, f, c, o)


def recurrent_layer(builder, layer, inputs, shape):
    """SimpleRNN, LSTM, GRU: the sequence time-major (T, N, F) into ONNX's op, from zero states. go_backwards is
    direction "reverse"; ONNX keeps that direction's outputs in time order, striate gives them last step first,
    so a returned sequence is reversed after."""
    if layer.return_state:
        raise Refused("return_state=True gives several outputs; export the layer with return_state=False")
    op, weights, attributes = _recurrent_weights(layer)
    x = builder.channels_last(inputs[0])
    steps = builder.node("Transpose", [x.name], f"{layer.name}/time_major", perm=[1, 0, 2])
    names = [builder.constant(f"{layer.name}/{name}", value) for name, value in weights]
    sequence, last = builder.node(op, [steps, *names], layer.name, outputs=2, hidden_size=int(layer.units),
                                  direction="reverse" if layer.go_backwards else "forward", **attributes)
    if not layer.return_sequences:  # Y_h (1, N, H) -> (N, H)
        axis = builder.constant(f"{layer.name}/direction_axis", [0])
        return Value(builder.node("Squeeze", [last, axis], f"{layer.name}/last"), shape, False)
    axis = builder.constant(f"{layer.name}/direction_axis", [1])  # Y (T, 1, N, H) -> (T, N, H) -> (N, T, H)
    sequence = builder.node("Squeeze", [sequence, axis], f"{layer.name}/sequence")
    if layer.go_backwards:
        starts, ends, axes, step = (builder.constant(f"{layer.name}/reverse_{name}", [number]) for name, number in
                                    (("start", -1), ("end", -(2**62)), ("axis", 0), ("step", -1)))
        sequence = builder.node("Slice", [sequence, starts, ends, axes, step], f"{layer.name}/reverse")
    output = builder.node("Transpose", [sequence], f"{layer.name}/batch_major", perm=[1, 0, 2])
    return Value(output, shape, False)


def _recurrent_weights(layer):
    """(ONNX op, [(name, W), (name, R), (name, B)], attributes) in ONNX's layouts and gate orders."""
    names = [activation_name(layer.activation)]
    if hasattr(layer, "recurrent_activation"):
        names.insert(0, activation_name(layer.recurrent_activation))
    if any(name not in RNN_ACTIVATIONS for name in names):
        raise Refused("its activations must be tanh, sigmoid or relu for ONNX's recurrent ops")
    kernel, recurrent_kernel = layer.kernel.data, layer.recurrent_kernel.data
    units = layer.units
    bias = None if layer.bias is None else layer.bias.data
    attributes = {}
    if isinstance(layer, recurrent.LSTM):
        op = "LSTM"
        order = np.concatenate([np.arange(units) + gate * units for gate in LSTM_GATES])
        kernel, recurrent_kernel = kernel[:, order], recurrent_kernel[:, order]
        bias = None if bias is None else np.concatenate([bias[order], np.zeros(4 * units)])
        attributes["activations"] = [RNN_ACTIVATIONS[names[0]], RNN_ACTIVATIONS[names[1]], RNN_ACTIVATIONS[names[1]]]
    elif isinstance(layer, recurrent.GRU):
        op = "GRU"
        attributes["linear_before_reset"] = int(layer.reset_after)
        if bias is not None:
            bias = bias.reshape(-1) if layer.reset_after else np.concatenate([bias, np.zeros(3 * units)])
        attributes["activations"] = [RNN_ACTIVATIONS[names[0]], RNN_ACTIVATIONS[names[1]]]
    else:
        op = "RNN"
        bias = None if bias is None else np.concatenate([bias, np.zeros(units)])
        attributes["activations"] = [RNN_ACTIVATIONS[names[0]]]
    weights = [("W", kernel.T[None]), ("R", recurrent_kernel.T[None])]
    if bias is not None:
        weights.append(("B", bias[None]))
    return op, weights, attributes


MAX_POOLS = (pooling.MaxPooling1D, pooling.MaxPooling2D, pooling.MaxPooling3D)
GLOBAL_MAX_POOLS = (pooling.GlobalMaxPooling1D, pooling.GlobalMaxPooling2D, pooling.GlobalMaxPooling3D)
INFERENCE_IDENTITIES = (  # random or noisy in training only
    noise.GaussianNoise, noise.GaussianDropout, noise.SpatialDropout1D, noise.SpatialDropout2D,
    noise.SpatialDropout3D, augmentation.RandomFlip, augmentation.RandomRotation, augmentation.RandomTranslation,
    augmentation.RandomZoom, augmentation.RandomContrast)
EMITTERS: dict[type, Callable] = {
    core.InputLayer: identity, core.Dropout: identity, core.Activation: activation_layer,
    function_layers.Identity: identity, **{cls: identity for cls in INFERENCE_IDENTITIES},
    augmentation.RandomCrop: random_crop,
    core.Dense: dense, core.Flatten: flatten,
    conv_layers.Conv1D: convolution, conv_layers.Conv2D: convolution, conv_layers.Conv3D: convolution,
    conv_layers.Conv1DTranspose: convolution_transpose, conv_layers.Conv2DTranspose: convolution_transpose,
    conv_layers.Conv3DTranspose: convolution_transpose,
    conv_layers.DepthwiseConv1D: depthwise_convolution, conv_layers.DepthwiseConv2D: depthwise_convolution,
    conv_layers.SeparableConv1D: depthwise_convolution, conv_layers.SeparableConv2D: depthwise_convolution,
    **{cls: pool for cls in (*MAX_POOLS, pooling.AveragePooling1D, pooling.AveragePooling2D,
                             pooling.AveragePooling3D)},
    **{cls: global_pool for cls in (*GLOBAL_MAX_POOLS, pooling.GlobalAveragePooling1D, pooling.GlobalAveragePooling2D,
                                    pooling.GlobalAveragePooling3D)},
    normalization.BatchNormalization: batch_normalization,
    normalization.LocalResponseNormalization: local_response_normalization,
    group_normalization.LayerNormalization: arithmetic.layer_normalization,
    group_normalization.GroupNormalization: arithmetic.group_normalization,
    preprocessing.Rescaling: arithmetic.rescaling, preprocessing.Normalization: arithmetic.normalization,
    preprocessing.Resizing: reshaping.resizing, preprocessing.CenterCrop: reshaping.center_crop,
    activation_layers.ReLU: arithmetic.relu, activation_layers.LeakyReLU: arithmetic.leaky_relu,
    activation_layers.PReLU: arithmetic.prelu, activation_layers.ELU: arithmetic.elu,
    activation_layers.Softmax: arithmetic.softmax,
    merge.Add: add, merge.Concatenate: concatenate,
    **{cls: arithmetic.elementwise_merge for cls in arithmetic.MERGE_OPS}, merging.Dot: arithmetic.dot,
    reshaping_layers.Reshape: reshaping.reshape, reshaping_layers.Permute: reshaping.permute,
    reshaping_layers.RepeatVector: reshaping.repeat_vector,
    **{cls: reshaping.upsampling for cls in (reshaping_layers.UpSampling1D, reshaping_layers.UpSampling2D,
                                             reshaping_layers.UpSampling3D)},
    **{cls: reshaping.cropping for cls in (reshaping_layers.Cropping1D, reshaping_layers.Cropping2D,
                                           reshaping_layers.Cropping3D)},
    **{cls: reshaping.zero_padding for cls in (reshaping_layers.ZeroPadding1D, core.ZeroPadding2D,
                                               reshaping_layers.ZeroPadding3D)},
    recurrent.SimpleRNN: recurrent_layer, recurrent.LSTM: recurrent_layer, recurrent.GRU: recurrent_layer,
}
