"""ONNX emitters of the layers that compute on values (see onnx_layers for the contract):

    striate                                  ONNX
    ReLU                                     Relu, LeakyRelu, or Relu / Where, Clip and Sub for max_value,
                                             threshold and negative_slope together
    LeakyReLU, ELU, PReLU                    LeakyRelu alpha=negative_slope, Elu alpha, PRelu slope=alpha
    Softmax                                  Softmax on one axis; exp(x - max) / sum over several
    Multiply, Subtract, Maximum, Minimum,    Mul, Sub, Max, Min, Mean (inputs of one rank in the first one's
    Average                                  layout; of several ranks channels-last, broadcast as NumPy)
    Dot                                      MatMul of (N, rest, K) and (N, K, rest), L2 normalized first
    Rescaling, Normalization                 Mul / Add, Sub / Div by constants laid out for the graph's tensor
    LayerNormalization                       LayerNormalization (opset 17) over the normalized axes moved last
    GroupNormalization                       (N, C, ...) reshaped to (N, G, C / G * ...), LayerNormalization on
                                             axis 2, reshaped back, times gamma plus beta (per channel)

Elementwise layers work in either layout; constants are laid out by onnx_values.graph_constant.
"""

import numpy as np

from striate.interchange.onnx_values import Value, graph_axis, graph_constant, scalar
from striate.layers import merging
from striate.layers.preprocessing import EPSILON as NORMALIZATION_EPSILON


# ---- activation layers -----------------------------------------------------------------------------------
def relu(builder, layer, inputs, shape):
    """Keras' ReLU: max_value if x >= max_value, x if x > threshold, negative_slope (x - threshold) below."""
    x, name = inputs[0], layer.name
    slope, threshold, top = layer.negative_slope, layer.threshold, layer.max_value
    if slope and top is None and not threshold:
        return Value(builder.node("LeakyRelu", [x.name], name, alpha=slope), shape, x.channels_first)
    if threshold:
        above = builder.node("Greater", [x.name, scalar(builder, f"{name}/threshold", threshold)], f"{name}/above")
        y = builder.node("Where", [above, x.name, scalar(builder, f"{name}/zero", 0)], f"{name}/positive_part")
    else:
        y = builder.node("Relu", [x.name], f"{name}/positive_part")
    if top is not None:
        y = builder.node("Clip", [y, scalar(builder, f"{name}/min", 0), scalar(builder, f"{name}/max", top)],
                         f"{name}/clipped")
    if slope:
        below = builder.node("Sub", [scalar(builder, f"{name}/threshold", threshold), x.name], f"{name}/below")
        negative = builder.node("Mul", [builder.node("Relu", [below], f"{name}/negative_part"),
                                        scalar(builder, f"{name}/slope", slope)], f"{name}/scaled_negative_part")
        y = builder.node("Sub", [y, negative], name)
    return Value(y, shape, x.channels_first)


def leaky_relu(builder, layer, inputs, shape):
    x = inputs[0]
    return Value(builder.node("LeakyRelu", [x.name], layer.name, alpha=layer.negative_slope), shape, x.channels_first)


def elu(builder, layer, inputs, shape):
    x = inputs[0]
    return Value(builder.node("Elu", [x.name], layer.name, alpha=layer.alpha), shape, x.channels_first)


def prelu(builder, layer, inputs, shape):
    """relu(x) - alpha relu(-x) is ONNX's PRelu: alpha (striate's input shape without the batch) laid out for
    the graph's tensor."""
    x = inputs[0]
    slope = builder.constant(f"{layer.name}/alpha", graph_constant(x, layer.alpha.data[None])[0])
    return Value(builder.node("PRelu", [x.name, slope], layer.name), shape, x.channels_first)


def softmax(builder, layer, inputs, shape):
    x, name = inputs[0], layer.name
    if isinstance(layer.axis, int):
        return Value(builder.node("Softmax", [x.name], name, axis=graph_axis(x, layer.axis)), shape,
                     x.channels_first)
    axes = sorted({graph_axis(x, axis) for axis in layer.axis})
    largest = builder.node("ReduceMax", [x.name], f"{name}/max", axes=axes, keepdims=1)
    exponential = builder.node("Exp", [builder.node("Sub", [x.name, largest], f"{name}/shifted")], f"{name}/exp")
    total = builder.node("ReduceSum", [exponential, builder.constant(f"{name}/axes", axes)], f"{name}/sum",
                         keepdims=1)
    return Value(builder.node("Div", [exponential, total], name), shape, x.channels_first)


# ---- merging ---------------------------------------------------------------------------------------------
MERGE_OPS = {merging.Multiply: "Mul", merging.Subtract: "Sub", merging.Maximum: "Max", merging.Minimum: "Min",
             merging.Average: "Mean"}


def elementwise_merge(builder, layer, inputs, shape):
    """Mul (folded pairwise), Sub, Max, Min, Mean (variadic)."""
    if len({len(value.shape) for value in inputs}) == 1:
        values = [builder.like(value, inputs[0]) for value in inputs]
    else:  # NumPy's broadcasting of striate's shapes is ONNX's of the channels-last tensors
        values = [builder.channels_last(value) for value in inputs]
    op = MERGE_OPS[type(layer)]
    names = [value.name for value in values]
    if op == "Mul":
        product = names[0]
        for index, other in enumerate(names[1:-1], start=1):
            product = builder.node("Mul", [product, other], f"{layer.name}/product_{index}")
        names = [product, names[-1]]
    output = builder.node(op, names, layer.name)
    return Value(output, shape, values[0].channels_first and len(shape) == len(values[0].shape))


def dot(builder, layer, inputs, shape):
    """out[n, p, q] = sum_k x[n, p, k] y[n, k, q]: x's summed axis moved last, y's first after the batch, both
    reshaped to 3-D, MatMul, reshaped to the output shape."""
    x, y = (builder.channels_last(value) for value in inputs)
    pair = [layer.axes, layer.axes] if isinstance(layer.axes, int) else list(layer.axes)
    a, b = pair[0] % len(x.shape), pair[1] % len(y.shape)
    name = layer.name
    if layer.normalize:
        x, y = _l2_normalized(builder, f"{name}/x", x, a), _l2_normalized(builder, f"{name}/y", y, b)
    x_rest = [i for i in range(1, len(x.shape)) if i != a]
    y_rest = [i for i in range(1, len(y.shape)) if i != b]
    rows = int(np.prod([x.shape[i] for i in x_rest]))
    columns = int(np.prod([y.shape[i] for i in y_rest]))
    left = builder.node("Transpose", [x.name], f"{name}/x_summed_last", perm=[0, *x_rest, a])
    left = builder.node("Reshape", [left, builder.constant(f"{name}/x_shape", [-1, rows, x.shape[a]])],
                        f"{name}/x_matrix")
    right = builder.node("Transpose", [y.name], f"{name}/y_summed_first", perm=[0, b, *y_rest])
    right = builder.node("Reshape", [right, builder.constant(f"{name}/y_shape", [-1, y.shape[b], columns])],
                         f"{name}/y_matrix")
    product = builder.node("MatMul", [left, right], f"{name}/matmul")
    output = builder.node("Reshape", [product, builder.constant(f"{name}/shape", [-1, *shape[1:]])], name)
    return Value(output, shape, False)


def _l2_normalized(builder, name, x, axis):
    """x / max(sqrt(sum over `axis` of x^2), 1e-7)."""
    square = builder.node("Mul", [x.name, x.name], f"{name}/square")
    total = builder.node("ReduceSum", [square, builder.constant(f"{name}/axis", [axis])], f"{name}/sum", keepdims=1)
    norm = builder.node("Max", [builder.node("Sqrt", [total], f"{name}/norm"),
                                scalar(builder, f"{name}/floor", merging.NORMALIZE_EPSILON)], f"{name}/floored_norm")
    return Value(builder.node("Div", [x.name, norm], f"{name}/normalized"), x.shape, False)


# ---- preprocessing and normalization ---------------------------------------------------------------------
def rescaling(builder, layer, inputs, shape):
    """x * scale + offset, scale and offset numbers or one per channel."""
    x, name = inputs[0], layer.name
    scale = builder.constant(f"{name}/scale", graph_constant(x, layer.scale))
    offset = builder.constant(f"{name}/offset", graph_constant(x, layer.offset))
    scaled = builder.node("Mul", [x.name, scale], f"{name}/scaled")
    return Value(builder.node("Add", [scaled, offset], name), shape, x.channels_first)


def normalization(builder, layer, inputs, shape):
    """(x - mean) / std, std = max(sqrt(variance), 1e-7), computed here in float32 as the layer does
    (invert=True: x * std + mean)."""
    x, name = inputs[0], layer.name
    mean, variance = layer._statistics((None, *x.shape[1:]))  # the layer's own broadcasting of its statistics
    mean = mean.astype(np.float32)
    std = np.maximum(np.sqrt(variance.astype(np.float32)), np.float32(NORMALIZATION_EPSILON))
    mean_name = builder.constant(f"{name}/mean", graph_constant(x, mean))
    std_name = builder.constant(f"{name}/std", graph_constant(x, std))
    if layer.invert:
        output = builder.node("Add", [builder.node("Mul", [x.name, std_name], f"{name}/scaled"), mean_name], name)
    else:
        output = builder.node("Div", [builder.node("Sub", [x.name, mean_name], f"{name}/centered"), std_name], name)
    return Value(output, shape, x.channels_first)


def layer_normalization(builder, layer, inputs, shape):
    """ONNX's LayerNormalization normalizes the trailing axes from `axis` on: striate's normalized axes are
    moved last (in order, as gamma and beta hold them) and back after."""
    x, name = builder.channels_last(inputs[0]), layer.name
    rank = len(x.shape)
    axes = sorted(a % rank for a in ([layer.axis] if isinstance(layer.axis, int) else layer.axis))
    kept = [a for a in range(rank) if a not in axes]
    perm = kept + axes
    moved = x.name
    if perm != list(range(rank)):
        moved = builder.node("Transpose", [x.name], f"{name}/normalized_axes_last", perm=perm)
    sizes = [x.shape[a] for a in axes]
    gamma = np.ones(sizes) if layer.gamma is None else layer.gamma.data
    parameters = [builder.constant(f"{name}/gamma", gamma)]
    if layer.beta is not None:
        parameters.append(builder.constant(f"{name}/beta", layer.beta.data))
    output = builder.node("LayerNormalization", [moved, *parameters], f"{name}/normalized" if moved != x.name
                          else name, axis=len(kept), epsilon=layer.epsilon)
    if moved != x.name:
        output = builder.node("Transpose", [output], name, perm=[int(i) for i in np.argsort(perm)])
    return Value(output, shape, False)


def group_normalization(builder, layer, inputs, shape):
    """(N, C, *spatial) -> (N, G, C / G * prod(spatial)): each (sample, group) normalized by LayerNormalization
    on axis 2 (scale 1), reshaped back, then gamma and beta per channel."""
    x, name = builder.channels_first(inputs[0]), layer.name
    channels = x.shape[-1]
    groups = channels if layer.groups == -1 else layer.groups
    group_size = int(np.prod(x.shape[1:])) // groups
    grouped = builder.node("Reshape", [x.name, builder.constant(f"{name}/grouped_shape", [0, groups, -1])],
                           f"{name}/grouped")
    normalized = builder.node("LayerNormalization", [grouped, builder.constant(f"{name}/ones", np.ones(group_size))],
                              f"{name}/normalized", axis=2, epsilon=layer.epsilon)
    y = builder.node("Reshape", [normalized, builder.node("Shape", [x.name], f"{name}/shape")], f"{name}/ungrouped")
    value = Value(y, shape, x.channels_first)
    if layer.gamma is not None:
        gamma = builder.constant(f"{name}/gamma", graph_constant(value, layer.gamma.data))
        y = builder.node("Mul", [y, gamma], f"{name}/scaled" if layer.beta is not None else name)
    if layer.beta is not None:
        y = builder.node("Add", [y, builder.constant(f"{name}/beta", graph_constant(value, layer.beta.data))], name)
    return Value(y, shape, x.channels_first)
