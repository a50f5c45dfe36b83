"""ONNX operators that become striate layers, and the table OPERATORS of every operator striate reads.

    ONNX                           striate
    Conv (1-, 2-, 3-D, groups)     Conv1D / Conv2D / Conv3D: W (C_out, C_in/g, *k) -> kernel (*k, C_in/g, C_out)
    ConvTranspose (1-, 2-, 3-D)    ConvNDTranspose: W (C_in, C_out/g, *k) -> kernel (*k, C_out/g, C_in)
    MaxPool, AveragePool           MaxPooling / AveragePooling 1-3D (ZeroPadding2D first for padding that is
                                   neither "valid" nor "same": exact for a max pool of a relu's output and an
                                   average pool that counts the padding)
    GlobalAveragePool / MaxPool    GlobalAveragePooling / GlobalMaxPooling
    BatchNormalization, LRN        BatchNormalization, LocalResponseNormalization (alpha / size)
    Gemm, MatMul (+ Add)           Dense (rows permuted after a channels-first flatten)
    Add, Sum, Concat               Add, Concatenate
    Pad, Slice                     ZeroPadding1D/2D/3D, Cropping1D/2D/3D (striate.interchange.onnx_window_readers)
    Relu, Sigmoid, Tanh, ...       the layer's activation when the node reads a fresh Conv / Dense alone, else
                                   an Activation layer
    LeakyRelu, Elu, Softmax        the activation for striate's fixed alpha (0.2, 1) and last axis, else the
                                   LeakyReLU / ELU / Softmax layer
    Reshape                        no layer for a flatten or unit axes, else Permute (to ONNX's axis order) and
                                   Reshape (striate.interchange.onnx_operators)
    Mul, Sub, Div, Max, Min, Mean, striate.interchange.onnx_elementwise_readers
    PRelu, LayerNormalization,
    Resize, Upsample, Erf (gelu)
    RNN, LSTM, GRU                 SimpleRNN, LSTM (gates i, o, f, c -> i, f, c, o), GRU (linear_before_reset=1
                                   is reset_after=True)
"""

import numpy as np

from striate import layers
from striate.functional.arguments import padding_pairs
from striate.functional.output_size import conv_transpose_output_length, effective_kernel_size, padding_pair
from striate.interchange import onnx_elementwise_readers as elementwise
from striate.interchange import onnx_operators as ops
from striate.interchange import onnx_window_readers as windows
from striate.interchange.onnx_operators import NotExpressible, Value, Zeros, channels_first_axes
from striate.layers import activations
from striate.models.mobilenet import relu6
from striate.ops.smooth_activations import SELU_ALPHA, SELU_SCALE

CONV_LAYERS = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}
TRANSPOSE_LAYERS = {1: layers.Conv1DTranspose, 2: layers.Conv2DTranspose, 3: layers.Conv3DTranspose}
POOL_LAYERS = {("max", 1): layers.MaxPooling1D, ("max", 2): layers.MaxPooling2D, ("max", 3): layers.MaxPooling3D,
               ("avg", 1): layers.AveragePooling1D, ("avg", 2): layers.AveragePooling2D,
               ("avg", 3): layers.AveragePooling3D}
LSTM_GATES = (0, 2, 3, 1)  # striate's gate blocks (i, f, c, o) taken from ONNX's (i, o, f, c)
RNN_ACTIVATIONS = {"Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu"}


def _channels_first(value, rank, what):
    """Refuse a `value` that is not an ONNX (N, C, *spatial) view of a striate (N, *spatial, C) tensor."""
    if value.rank != rank or value.axes != channels_first_axes(rank) or value.order is not None:
        raise NotExpressible(f"{what} needs a channels-first image tensor of rank {rank} (N, C, ...); this one is "
                             f"striate's {value.tensor.shape} laid out as axes {value.axes}")


def _pairs(attributes, spatial, kernel_size, strides, dilations, op):
    """((before, after), ...) per spatial axis from pads / auto_pad, and the "same" pairs for comparison."""
    rank = len(kernel_size)
    same = padding_pairs(op, "same", spatial, kernel_size, strides, dilations)
    auto = attributes.get("auto_pad", "NOTSET")
    if auto == "VALID":
        return ((0, 0),) * rank, same
    if auto == "SAME_UPPER":
        return same, same
    if auto == "SAME_LOWER":
        return tuple((after, before) for before, after in same), same
    pads = list(attributes.get("pads", [0] * 2 * rank))
    return tuple(zip(pads[:rank], pads[rank:])), same


def _padding_word(pairs, same):
    if all(before == after == 0 for before, after in pairs):
        return "valid"
    return "same" if tuple(pairs) == tuple(same) else tuple(pairs)


# ---- convolutions ----------------------------------------------------------------------------------------
def conv(context, node):
    value, weight, bias = context.value(node), context.constant(node, 1), context.constant(node, 2)
    rank = weight.ndim - 2
    if rank not in CONV_LAYERS:
        raise NotExpressible(f"a {rank}-D convolution (striate has 1-, 2- and 3-D)")
    _channels_first(value, rank + 2, "Conv")
    attributes = context.attributes(node)
    kernel_size = tuple(attributes.get("kernel_shape", weight.shape[2:]))
    strides = tuple(attributes.get("strides", (1,) * rank))
    dilations = tuple(attributes.get("dilations", (1,) * rank))
    pairs, same = _pairs(attributes, value.tensor.shape[1:-1], kernel_size, strides, dilations, node.name)
    layer = CONV_LAYERS[rank](weight.shape[0], kernel_size, strides=strides, padding=_padding_word(pairs, same),
                              dilation_rate=dilations, groups=int(attributes.get("group", 1)),
                              use_bias=bias is not None, name=context.layer_name(node))
    tensor = layer(value.tensor)
    layer.kernel.data[...] = weight.transpose(*range(2, rank + 2), 1, 0)
    if bias is not None:
        layer.bias.data[...] = bias
    return Value(tensor, value.axes, layer=context.takes_over(node, layer))


def conv_transpose(context, node):
    value, weight, bias = context.value(node), context.constant(node, 1), context.constant(node, 2)
    attributes = context.attributes(node)
    rank = weight.ndim - 2
    if rank not in TRANSPOSE_LAYERS:
        raise NotExpressible(f"a {rank}-D transposed convolution (striate has 1-, 2- and 3-D)")
    if "output_shape" in attributes or attributes.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise NotExpressible("output_shape / auto_pad SAME: give explicit pads and output_padding")
    _channels_first(value, rank + 2, "ConvTranspose")
    no_pads = [0] * (2 * rank)
    pads = list(attributes.get("pads", no_pads)) if attributes.get("auto_pad", "NOTSET") == "NOTSET" else no_pads
    extra = tuple(attributes.get("output_padding", (0,) * rank))
    group = int(attributes.get("group", 1))
    kernel_size = tuple(attributes.get("kernel_shape", weight.shape[2:]))
    strides = tuple(attributes.get("strides", (1,) * rank))
    dilations = tuple(attributes.get("dilations", (1,) * rank))
    padding, output_padding = _transpose_padding(value.tensor.shape[1:-1], kernel_size, strides, dilations, pads,
                                                 extra)
    layer = TRANSPOSE_LAYERS[rank](weight.shape[1] * group, kernel_size, strides=strides, padding=padding,
                                   output_padding=output_padding, dilation_rate=dilations, groups=group,
                                   use_bias=bias is not None, name=context.layer_name(node))
    tensor = layer(value.tensor)
    layer.kernel.data[...] = weight.transpose(*range(2, rank + 2), 1, 0)
    if bias is not None:
        layer.bias.data[...] = bias
    return Value(tensor, value.axes, layer=context.takes_over(node, layer))


def _transpose_padding(spatial, kernel_size, strides, dilations, pads, extra):
    """striate's (padding, output_padding) that crops and extends as ONNX's pads and output_padding: on each
    axis ONNX keeps cells [pads_begin, pads_begin + length) of the full result, length = (n - 1) s + k_eff +
    output_padding - pads_begin - pads_end. striate's layers take one padding for every axis."""
    rank = len(spatial)
    begins, ends = pads[:rank], pads[rank:]
    wanted = [((n - 1) * s + effective_kernel_size(k, d) + q - b - e, b)
              for n, k, s, d, q, b, e in zip(spatial, kernel_size, strides, dilations, extra, begins, ends)]
    paddings = ["valid", "same", *sorted({b for b, e in zip(begins, ends) if b == e})]
    for padding in paddings:
        for output_padding in (None, extra):
            quantities = output_padding or (None,) * rank
            try:
                made = []
                for n, k, s, d, q in zip(spatial, kernel_size, strides, dilations, quantities):
                    length = conv_transpose_output_length(n, k, s, padding, q, d)
                    made.append((length, padding_pair(padding, length, k, s, d)[0]))
            except ValueError:
                continue
            if made == wanted:
                return padding, output_padding
    raise NotExpressible(f"pads {list(pads)} with output_padding {list(extra)}: striate's transposed convolutions "
                         "crop 'valid', 'same' or p cells on each side, the same on every axis")


# ---- pooling, normalization ------------------------------------------------------------------------------
def _ceil_end(n, k, s, before, after):
    """The end padding that makes floor division give ceil_mode's size (a last window must start inside
    the input or the padding before it, as PyTorch)."""
    out = -(-(n + before + after - k) // s) + 1
    if (out - 1) * s >= n + before:
        out -= 1
    return max(after, (out - 1) * s + k - n - before)


def pool(context, node, kind):
    value, attributes = context.value(node), context.attributes(node)
    kernel_size = tuple(attributes["kernel_shape"])
    rank = len(kernel_size)
    if (kind, rank) not in POOL_LAYERS:
        raise NotExpressible(f"{rank}-D pooling")
    _channels_first(value, rank + 2, node.op_type)
    if len(node.output) > 1 and context.readers.get(node.output[1]):
        raise NotExpressible("MaxPool's indices output is read")
    if any(d != 1 for d in attributes.get("dilations", (1,) * rank)):
        raise NotExpressible("a dilated pooling window")
    strides = tuple(attributes.get("strides", (1,) * rank))
    spatial = value.tensor.shape[1:-1]
    pairs, same = _pairs(attributes, spatial, kernel_size, strides, (1,) * rank, node.name)
    if attributes.get("ceil_mode", 0):
        ceiled = tuple((b, _ceil_end(n, k, s, b, e)) for n, k, s, (b, e) in zip(spatial, kernel_size, strides, pairs))
        extended, pairs = ceiled != tuple(pairs), ceiled
    else:
        extended = False
    counts_padding = kind == "avg" and bool(attributes.get("count_include_pad", 0))
    tensor = value.tensor
    if all(b == e == 0 for b, e in pairs):
        padding = "valid"
    elif tuple(pairs) == tuple(same) and not counts_padding:
        padding = "same"
    elif rank == 2 and ((kind == "max" and value.nonnegative) or (counts_padding and not extended)):
        tensor = layers.ZeroPadding2D(pairs, name=context.layer_name(node) + "_pad")(tensor)
        padding = "valid"
    else:
        raise NotExpressible(f"padding {list(pairs)} is neither 'valid' nor striate's 'same' {list(same)}, and zeros "
                             "cannot stand for it (a max pool whose input may be negative, or an average that "
                             "leaves the padding out)")
    layer = POOL_LAYERS[(kind, rank)](kernel_size, strides=strides, padding=padding, name=context.layer_name(node))
    return Value(layer(tensor), value.axes, nonnegative=value.nonnegative)


def global_pool(context, node, kind):
    value = context.value(node)
    _channels_first(value, value.rank, node.op_type)
    cls = getattr(layers, f"Global{kind}Pooling{value.rank - 2}D", None)
    if cls is None:
        raise NotExpressible(f"global pooling of {value.rank - 2}-D maps")
    tensor = cls(name=context.layer_name(node))(value.tensor)
    return Value(tensor, (0, 1, *[None] * (value.rank - 2)), nonnegative=value.nonnegative and kind == "Max")


def _channel_parameter(value, array):
    """A per-channel ONNX parameter in striate's channel order (a permuted flattened vector's too)."""
    array = np.asarray(array, np.float32).reshape(-1)
    if value.order is None:
        return array
    permuted = np.empty_like(array)
    permuted[value.order] = array
    return permuted


def _check_channel_axis(value, what):
    if len(value.axes) < 2 or value.axes[1] != value.rank - 1:
        raise NotExpressible(f"{what} works on ONNX's axis 1, which is not striate's channel (last) axis here "
                             f"(axes {value.axes})")


def batch_normalization(context, node):
    value, attributes = context.value(node), context.attributes(node)
    if attributes.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        raise NotExpressible("training mode (striate reads the inference form)")
    _check_channel_axis(value, "BatchNormalization")
    layer = layers.BatchNormalization(momentum=float(attributes.get("momentum", 0.9)),
                                      epsilon=float(attributes.get("epsilon", 1e-5)), name=context.layer_name(node))
    tensor = layer(value.tensor)
    for weight, index in ((layer.gamma, 1), (layer.beta, 2), (layer.moving_mean, 3), (layer.moving_variance, 4)):
        weight.data[...] = _channel_parameter(value, context.constant(node, index))
    return value.but(tensor=tensor, nonnegative=False)


def lrn(context, node):
    value, attributes = context.value(node), context.attributes(node)
    size = int(attributes["size"])
    if size % 2 == 0:
        raise NotExpressible(f"size {size}: an even window is not centred (striate's depth_radius gives 2r + 1)")
    _check_channel_axis(value, "LRN")
    layer = layers.LocalResponseNormalization(depth_radius=(size - 1) // 2, bias=float(attributes.get("bias", 1.0)),
                                              alpha=float(attributes.get("alpha", 1e-4)) / size,
                                              beta=float(attributes.get("beta", 0.75)), name=context.layer_name(node))
    return value.but(tensor=layer(value.tensor), nonnegative=value.nonnegative)


# ---- dense, merging, padding -----------------------------------------------------------------------------
def _dense(context, node, value, kernel, use_bias):
    if value.axes[-1] != value.rank - 1 or None in value.axes:
        raise NotExpressible(f"a product over ONNX's last axis, which is not striate's last axis (axes {value.axes})")
    if value.order is not None:
        permuted = np.empty_like(kernel)
        permuted[value.order] = kernel
        kernel = permuted
    layer = layers.Dense(kernel.shape[1], use_bias=use_bias, name=context.layer_name(node))
    tensor = layer(value.tensor)
    layer.kernel.data[...] = kernel
    return layer, tensor


def gemm(context, node):
    value, attributes = context.value(node), context.attributes(node)
    if value.rank != 2 or attributes.get("transA", 0):
        raise NotExpressible("Gemm of a transposed or non-(N, features) input")
    weight, bias = context.constant(node, 1), context.constant(node, 2)
    if bias is not None and np.size(bias) not in (1, weight.shape[0 if attributes.get("transB", 0) else 1]):
        raise NotExpressible(f"Gemm's C of shape {np.shape(bias)}: striate's Dense adds one bias per output")
    kernel = (weight.T if attributes.get("transB", 0) else weight) * float(attributes.get("alpha", 1.0))
    layer, tensor = _dense(context, node, value, np.asarray(kernel, np.float32), bias is not None)
    if bias is not None:
        bias = np.asarray(bias, np.float32).reshape(-1) * float(attributes.get("beta", 1.0))
        layer.bias.data[...] = np.broadcast_to(bias, (kernel.shape[1],))
    return Value(tensor, value.axes, layer=context.takes_over(node, layer))


def matmul(context, node):
    """x @ W on the last axis (striate's tensor permuted to ONNX's axis order first if that axis is another
    of striate's, e.g. after a transpose of a sequence); a bias Add that alone reads it becomes the Dense's
    bias."""
    value, weight = context.value(node), context.constant(node, 1)
    if weight.ndim != 2:
        raise NotExpressible(f"MatMul with a weight of shape {weight.shape} (striate's Dense takes (in, out))")
    if value.axes[-1] not in (None, value.rank - 1) and value.order is None:
        value = ops.in_onnx_order(context, node, value)
    reader = context.sole_reader(node.output[0])
    with_bias = False
    if reader is not None and reader.op_type == "Add":
        other = [name for name in reader.input if name != node.output[0]]
        candidate = context.values.get(other[0]) if other else None
        with_bias = isinstance(candidate, np.ndarray) and _per_channel(value, candidate, weight.shape[1])
    layer, tensor = _dense(context, node, value, np.asarray(weight, np.float32), with_bias)
    return Value(tensor, value.axes, layer=layer if with_bias else context.takes_over(node, layer))


def _per_channel(value, constant, channels):
    """Whether `constant`, broadcast against `value`'s ONNX shape, varies along striate's channel axis only."""
    shape = (1,) * (len(value.axes) - constant.ndim) + constant.shape
    if len(shape) != len(value.axes):
        return False
    varying = [axis for axis, size in enumerate(shape) if size != 1]
    return all(value.axes[axis] == value.rank - 1 and shape[axis] == channels for axis in varying)


def add(context, node):
    items = [context.values.get(name) for name in node.input]
    if any(isinstance(item, elementwise.GeluPart) for item in items):
        return elementwise.gelu_step(context, node, items)
    constants = [item for item in items if isinstance(item, np.ndarray)]
    values = [item for item in items if isinstance(item, Value)]
    if len(constants) == len(items):
        return sum(constants[1:], constants[0])
    if constants:
        layer = values[0].layer if len(values) == 1 else None
        bias = getattr(layer, "bias", None)
        if len(constants) == 1 and len(values) == 1 and (
                bias is None or not _per_channel(values[0], constants[0], bias.shape[0])):
            return elementwise.plus_constant(context, node, values[0], constants[0])  # a Rescaling's offset
        if len(constants) != 1 or bias is None:
            raise NotExpressible("adding constants to several tensors, or several constants")
        bias.data[...] += np.broadcast_to(np.asarray(constants[0], np.float32).reshape(-1), bias.shape)
        return values[0].but(layer=context.takes_over(node, layer))
    first = values[0]
    for other in values[1:]:
        same_order = (first.order is None and other.order is None) or (
            first.order is not None and other.order is not None and np.array_equal(first.order, other.order))
        if other.axes != first.axes or other.tensor.shape != first.tensor.shape or not same_order:
            raise NotExpressible(f"adding tensors of different layouts or shapes ({first.tensor.shape} axes "
                                 f"{first.axes}, {other.tensor.shape} axes {other.axes}); striate adds equal shapes")
    tensor = layers.Add(name=context.layer_name(node))([value.tensor for value in values])
    return Value(tensor, first.axes, first.order, all(value.nonnegative for value in values))


def concat(context, node):
    items = [context.values.get(name) for name in node.input]
    axis = int(context.attributes(node)["axis"])
    if all(isinstance(item, np.ndarray) for item in items):
        return np.concatenate(items, axis=axis)
    if not any(isinstance(item, Value) for item in items):
        return ops.concat_shapes(context, node)
    if not all(isinstance(item, Value) for item in items):
        raise NotExpressible("joining a computed tensor with a constant")
    first = items[0]
    striate_axis = first.axes[axis % len(first.axes)]
    if any(item.axes != first.axes or item.order is not None for item in items) or striate_axis in (None, 0):
        raise NotExpressible("joining tensors of different layouts, or along the batch or a unit axis")
    tensor = layers.Concatenate(axis=striate_axis, name=context.layer_name(node))([item.tensor for item in items])
    return Value(tensor, first.axes, nonnegative=all(item.nonnegative for item in items))


# ---- activations -----------------------------------------------------------------------------------------
def activation(context, node, function, nonnegative=False):
    """`function` as the activation of the Conv / Dense the input came fresh from, else an Activation layer."""
    value = context.value(node)
    layer = value.layer
    if layer is not None and getattr(layer, "activation", None) is activations.linear:
        layer.activation = activations.get(function)
        return value.but(nonnegative=nonnegative)
    tensor = layers.Activation(function, name=context.layer_name(node))(value.tensor)
    return value.but(tensor=tensor, nonnegative=nonnegative)


def softmax(context, node):
    """The activation over striate's last axis; a Softmax layer over another (opset 13 on: one axis)."""
    value = context.value(node)
    default = -1 if context.opset >= 13 else 1
    axis = int(context.attributes(node).get("axis", default)) % len(value.axes)
    if context.opset < 13 and len(value.axes) != 2:
        raise NotExpressible("a softmax of opset < 13 over a tensor of rank > 2 (it flattens the axes from `axis`)")
    if value.axes[axis] == value.rank - 1:
        return activation(context, node, "softmax", nonnegative=True)
    if value.axes[axis] in (None, 0):
        raise NotExpressible("a softmax over the batch or a unit axis")
    tensor = layers.Softmax(axis=value.axes[axis], name=context.layer_name(node))(value.tensor)
    return value.but(tensor=tensor, nonnegative=True)


def parameterized(name, layer_class, attribute, striate_value, onnx_default, argument):
    """A reader for LeakyRelu / Elu: striate's activation when the node's `attribute` is its fixed value, else
    the layer taking it as `argument` (LeakyReLU's negative_slope, ELU's alpha)."""
    def read(context, node):
        given = float(context.attributes(node).get(attribute, onnx_default))
        if np.isclose(given, striate_value, rtol=1e-6):
            return activation(context, node, name)
        value = context.value(node)
        layer = layer_class(**{argument: given}, name=context.layer_name(node))
        return value.but(tensor=layer(value.tensor), nonnegative=False)
    return read


def clip(context, node):
    if context.opset >= 11:
        low, high = context.constant(node, 1), context.constant(node, 2)
    else:
        attributes = context.attributes(node)
        low, high = attributes.get("min"), attributes.get("max")
    low = -np.inf if low is None else float(np.reshape(low, -1)[0])
    high = np.inf if high is None else float(np.reshape(high, -1)[0])
    if (low, high) == (0.0, 6.0):
        return activation(context, node, relu6, nonnegative=True)
    if (low, high) == (0.0, np.inf):
        return activation(context, node, "relu", nonnegative=True)
    raise NotExpressible(f"Clip to [{low}, {high}] (striate reads relu6, [0, 6], and relu, [0, inf))")


def with_parameters(name, **expected):
    """A reader for an activation whose ONNX parameters must be striate's: attribute=(striate's, ONNX default)."""
    def read(context, node):
        attributes = context.attributes(node)
        for attribute, (value, default) in expected.items():
            given = float(attributes.get(attribute, default))
            if not np.isclose(given, value, rtol=1e-6):
                raise NotExpressible(f"{attribute}={given}; striate's {name} has {value}")
        return activation(context, node, name)
    return read


# ---- recurrent layers ------------------------------------------------------------------------------------
def recurrent(context, node):
    """RNN / LSTM / GRU over a (T, N, F) view of striate's (N, T, F) sequence, from zero states; Y becomes
    return_sequences=True, Y_h the last state (one of them may be read, not both)."""
    value, attributes = context.value(node), context.attributes(node)
    layout = int(attributes.get("layout", 0))
    if value.rank != 3 or value.axes != ((1, 0, 2) if layout == 0 else (0, 1, 2)) or value.order is not None:
        raise NotExpressible(f"the input must be a sequence, striate's (N, T, F) as ONNX's (T, N, F); received "
                             f"axes {value.axes}")
    direction = attributes.get("direction", "forward")
    read = [bool(name) and bool(context.readers.get(name)) for name in (*node.output, "", "")[:3]]
    problems = [text for wrong, text in (
        (direction == "bidirectional", "a bidirectional layer"), ("clip" in attributes, "clip"),
        (attributes.get("input_forget", 0), "input_forget"), ("activation_alpha" in attributes, "activation_alpha"),
        (len(node.input) > 4 and node.input[4], "sequence_lens"), (read[2], "the cell state Y_c is read"),
        (read[0] and read[1], "both the sequence Y and the last state Y_h are read"),
        (direction == "reverse" and read[0], "the reversed sequence Y is read (ONNX keeps it in time order)"),
    ) if wrong]
    for index in (5, 6, 7):
        if len(node.input) > index and node.input[index]:
            state = context.values.get(node.input[index])
            if not (isinstance(state, Zeros) or (isinstance(state, np.ndarray) and not np.any(state))):
                problems.append("a non-zero initial state or peephole")
    if problems:
        raise NotExpressible(", ".join(problems))
    layer = _recurrent_layer(context, node, attributes, return_sequences=read[0], go_backwards=direction == "reverse")
    tensor = layer(value.tensor)
    _set_recurrent_weights(context, node, layer)
    if read[0]:
        return Value(tensor, (1, None, 0, 2) if layout == 0 else (0, 1, None, 2)), None, None
    return None, Value(tensor, (None, 0, 1) if layout == 0 else (0, None, 1)), None


def _recurrent_layer(context, node, attributes, return_sequences, go_backwards):
    op = node.op_type
    defaults = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}[op]
    names = attributes.get("activations", defaults)
    if any(name not in RNN_ACTIVATIONS for name in names) or (op == "LSTM" and names[1] != names[2]):
        raise NotExpressible(f"activations {names} (striate reads Tanh, Sigmoid and Relu; LSTM's cell and output "
                             "activations equal)")
    names = [RNN_ACTIVATIONS[name] for name in names]
    options = {"use_bias": len(node.input) > 3 and bool(node.input[3]), "return_sequences": return_sequences,
               "go_backwards": go_backwards, "name": context.layer_name(node)}
    units = int(attributes["hidden_size"])
    if op == "RNN":
        return layers.SimpleRNN(units, activation=names[0], **options)
    if op == "LSTM":
        return layers.LSTM(units, activation=names[1], recurrent_activation=names[0], **options)
    return layers.GRU(units, activation=names[1], recurrent_activation=names[0],
                      reset_after=bool(attributes.get("linear_before_reset", 0)), **options)


def _set_recurrent_weights(context, node, layer):
    weight, recurrent_weight = context.constant(node, 1)[0], context.constant(node, 2)[0]
    bias = context.constant(node, 3)
    units = layer.units
    if node.op_type == "LSTM":
        rows = np.concatenate([np.arange(units) + gate * units for gate in LSTM_GATES])
    else:
        rows = np.arange(weight.shape[0])
    layer.kernel.data[...] = weight[rows].T
    layer.recurrent_kernel.data[...] = recurrent_weight[rows].T
    if bias is None:
        return
    input_bias, recurrent_bias = np.split(bias[0], 2)
    if node.op_type == "GRU" and layer.reset_after:
        layer.bias.data[...] = np.stack([input_bias, recurrent_bias])
    else:
        layer.bias.data[...] = (input_bias + recurrent_bias)[rows]


OPERATORS = {
    "Conv": conv, "ConvTranspose": conv_transpose,
    "MaxPool": lambda c, n: pool(c, n, "max"), "AveragePool": lambda c, n: pool(c, n, "avg"),
    "GlobalAveragePool": lambda c, n: global_pool(c, n, "Average"),
    "GlobalMaxPool": lambda c, n: global_pool(c, n, "Max"),
    "BatchNormalization": batch_normalization, "LRN": lrn,
    "Gemm": gemm, "MatMul": matmul, "Add": add, "Sum": add, "Concat": concat, "Pad": windows.pad,
    "Slice": windows.slice_, "PRelu": elementwise.prelu,
    "Relu": lambda c, n: activation(c, n, "relu", nonnegative=True),
    "Sigmoid": lambda c, n: activation(c, n, "sigmoid", nonnegative=True),
    "Tanh": lambda c, n: activation(c, n, "tanh"),
    "Softplus": lambda c, n: activation(c, n, "softplus", nonnegative=True),
    "Softmax": softmax, "Clip": clip,
    "Elu": parameterized("elu", layers.ELU, "alpha", 1.0, 1.0, "alpha"),
    "LeakyRelu": parameterized("leaky_relu", layers.LeakyReLU, "alpha", 0.2, 0.01, "negative_slope"),
    "Selu": with_parameters("selu", alpha=(SELU_ALPHA, 1.67326319217681884765625),
                            gamma=(SELU_SCALE, 1.05070102214813232421875)),
    "HardSigmoid": with_parameters("hard_sigmoid", alpha=(1 / 6, 0.2), beta=(0.5, 0.5)),
    "RNN": recurrent, "LSTM": recurrent, "GRU": recurrent,
    **{op: elementwise.elementwise for op in ("Mul", "Sub", "Div", "Max", "Min", "Mean")},
    "LayerNormalization": elementwise.layer_normalization, "Resize": elementwise.resize, "Erf": elementwise.erf,
    "Upsample": elementwise.upsample,
    "Identity": ops.pass_through, "Dropout": ops.pass_through, "Transpose": ops.transpose, "Flatten": ops.flatten,
    "Reshape": ops.reshape, "Squeeze": ops.squeeze, "Unsqueeze": ops.unsqueeze, "Constant": ops.constant,
    "Shape": ops.shape, "Gather": ops.gather, "ConstantOfShape": ops.constant_of_shape, "Cast": ops.cast,
}
