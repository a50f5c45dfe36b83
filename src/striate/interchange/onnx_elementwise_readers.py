"""ONNX operators read as striate's elementwise, normalization and resizing layers (the readers' contract is in
striate.interchange.onnx_operators):

    ONNX                                     striate
    Mul, Sub, Max, Min, Mean of tensors      Multiply, Subtract, Maximum, Minimum, Average (one layout)
    PRelu                                    PReLU (alpha in striate's axis order, shared where the slope is 1)
    Erf in Div, Erf, Add, Mul, Mul           Activation("gelu"): PyTorch's exact x (1 + erf(x / sqrt 2)) / 2
    Mul, Div, Sub, Add with a constant       Rescaling (a number, or one per channel; an Add not taken as the
                                             bias of the Conv / Dense before it)
    LayerNormalization                       LayerNormalization over the striate axes of ONNX's trailing axes
    Resize "nearest" "asymmetric" "floor"    UpSampling1D/2D/3D (integer factors); Upsample "nearest" likewise
    Resize "half_pixel" "linear"             Resizing "bilinear" (pytorch_half_pixel too, when no output size
                                             is 1); "nearest" with nearest_mode round_prefer_ceil: Resizing
                                             "nearest" (striate's floor((i + 1/2) in / out))
"""

import math
from dataclasses import dataclass, replace

import numpy as np

from striate import layers
from striate.interchange.onnx_operators import Dims, NotExpressible, Value

MERGE_LAYERS = {"Mul": layers.Multiply, "Sub": layers.Subtract, "Max": layers.Maximum, "Min": layers.Minimum,
                "Mean": layers.Average}
NUMPY_OPERATIONS = {"Mul": np.multiply, "Sub": np.subtract, "Div": np.divide, "Max": np.maximum,
                    "Min": np.minimum}


def elementwise(context, node):
    """Mul, Sub, Div, Max, Min, Mean: of constants, a constant (Rescaling), or computed tensors (a merge layer);
    a Mul of PyTorch's exact gelu continues it (see GeluPart)."""
    items = [context.values.get(name) for name in node.input]
    if any(isinstance(item, GeluPart) for item in items):
        return gelu_step(context, node, items)
    if all(isinstance(item, np.ndarray) for item in items):
        if node.op_type == "Mean":
            return np.mean(np.broadcast_arrays(*items), axis=0)
        result = items[0]
        for item in items[1:]:
            result = NUMPY_OPERATIONS[node.op_type](result, item)
        return result
    if not all(isinstance(item, Value | np.ndarray) for item in items):
        raise NotExpressible("arithmetic on a shape")
    if any(isinstance(item, np.ndarray) for item in items):
        return _with_constant(context, node, items)
    if node.op_type not in MERGE_LAYERS:
        raise NotExpressible("dividing by a computed tensor (striate has no Divide layer)")
    first = items[0]
    for other in items[1:]:
        if other.axes != first.axes or other.order is not None or first.order is not None:
            raise NotExpressible(f"combining tensors of different layouts (axes {first.axes}, {other.axes}); "
                                 "striate's merge layers take tensors of one layout")
    tensor = MERGE_LAYERS[node.op_type](name=context.layer_name(node))([item.tensor for item in items])
    nonnegative = node.op_type in ("Max", "Mean", "Min") and all(item.nonnegative for item in items)
    return Value(tensor, first.axes, nonnegative=nonnegative)


def _with_constant(context, node, items):
    """x * c, x / c, x - c, c - x as Rescaling(scale, offset), c a number or one per channel."""
    if len(items) != 2 or node.op_type not in ("Mul", "Div", "Sub"):
        raise NotExpressible(f"{node.op_type} of a computed tensor and a constant (striate reads Mul, Div and Sub "
                             "of one tensor and one constant)")
    value_first = isinstance(items[0], Value)
    value, constant = (items[0], items[1]) if value_first else (items[1], items[0])
    c = _per_channel_constant(value, constant)
    if node.op_type == "Mul":
        scale, offset = c, 0.0
    elif node.op_type == "Div":
        if not value_first:
            raise NotExpressible("a constant divided by a computed tensor")
        scale, offset = 1 / c, 0.0
    else:
        scale, offset = (1.0, -c) if value_first else (-1.0, c)
    layer = layers.Rescaling(scale, offset, name=context.layer_name(node))
    return value.but(tensor=layer(value.tensor), nonnegative=False)


def plus_constant(context, node, value, constant):
    """x + c, c a number or one per channel, as Rescaling(1, c) (an Add that is no bias of the layer before)."""
    layer = layers.Rescaling(1.0, _per_channel_constant(value, constant), name=context.layer_name(node))
    return value.but(tensor=layer(value.tensor), nonnegative=False)


def _per_channel_constant(value, constant):
    """A constant broadcast against `value`'s ONNX shape as striate's number or (C,) vector; refused when it
    varies along any other axis."""
    constant = np.asarray(constant, np.float32)
    if constant.size == 1:
        return float(constant.reshape(-1)[0])
    shape = (1,) * (len(value.axes) - constant.ndim) + constant.shape
    varying = [axis for axis, size in enumerate(shape) if size != 1]
    if (len(shape) != len(value.axes) or len(varying) != 1 or value.axes[varying[0]] != value.rank - 1
            or value.order is not None):
        raise NotExpressible(f"a constant of shape {constant.shape} that is not one number per channel (striate's "
                             f"Rescaling); the tensor's axes are {value.axes}")
    return constant.reshape(-1)


def prelu(context, node):
    """PRelu(x, slope) as PReLU: alpha is the slope in striate's axis order, shared (size 1) where the slope
    has size 1."""
    value, slope = context.value(node), np.asarray(context.constant(node, 1), np.float32)
    rank = len(value.axes)
    if slope.ndim > rank - 1 or value.order is not None or value.axes[0] != 0:
        raise NotExpressible(f"a slope of shape {slope.shape} for a tensor of axes {value.axes}")
    slope = slope.reshape((1,) * (rank - 1 - slope.ndim) + slope.shape)  # ONNX axes 1.. of the tensor
    by_striate_axis = {}
    for onnx_axis, striate_axis in enumerate(value.axes[1:], start=1):
        size = slope.shape[onnx_axis - 1]
        if striate_axis is None and size != 1:
            raise NotExpressible(f"a slope of shape {slope.shape} varying along a unit axis")
        if striate_axis is not None:
            by_striate_axis[striate_axis] = onnx_axis - 1
    order = [by_striate_axis[axis] for axis in range(1, value.rank)]
    alpha = slope.squeeze(tuple(i for i in range(slope.ndim) if i not in order)).transpose(
        [sorted(order).index(i) for i in order])
    shared = [axis for axis, size in enumerate(alpha.shape, start=1) if size == 1]
    layer = layers.PReLU(shared_axes=shared or None, name=context.layer_name(node))
    tensor = layer(value.tensor)
    layer.alpha.data[...] = alpha
    return value.but(tensor=tensor, nonnegative=False)


def layer_normalization(context, node):
    value, attributes = context.value(node), context.attributes(node)
    if any(context.readers.get(name) for name in node.output[1:] if name):
        raise NotExpressible("the Mean / InvStdDev outputs are read")
    rank = len(value.axes)
    axis = int(attributes.get("axis", -1)) % rank
    normalized = value.axes[axis:]
    if None in normalized or 0 in normalized or value.order is not None:
        raise NotExpressible(f"normalizing ONNX axes {list(range(axis, rank))}, which are not all axes of striate's "
                             f"tensor after the batch (axes {value.axes})")
    scale, bias = context.constant(node, 1), context.constant(node, 2)
    sizes = value.onnx_shape()[axis:]
    in_striate_order = [int(i) for i in np.argsort(normalized)]
    axes = sorted(normalized)
    layer = layers.LayerNormalization(axis=axes[0] if len(axes) == 1 else axes,
                                      epsilon=float(attributes.get("epsilon", 1e-5)), center=bias is not None,
                                      name=context.layer_name(node))
    tensor = layer(value.tensor)
    layer.gamma.data[...] = np.broadcast_to(scale, sizes).transpose(in_striate_order)
    if bias is not None:
        layer.beta.data[...] = np.broadcast_to(bias, sizes).transpose(in_striate_order)
    return value.but(tensor=tensor, nonnegative=False)


# ---- PyTorch's exact gelu -------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeluPart:
    """A part of x (1 + erf(x / sqrt 2)) / 2 read so far (PyTorch's exact gelu, in any order of its products):
    erf(x / sqrt 2), plus 1 if `one_plus`, times x if `times_x`, times 1/2 if `halved`."""

    x: Value
    one_plus: bool = False
    times_x: bool = False
    halved: bool = False


def erf(context, node):
    """Erf of x / sqrt 2 (a Div by sqrt 2 or a Mul by 1 / sqrt 2 made it) starts a gelu; no other Erf is read."""
    producer = next((other for other in context.graph.node if node.input[0] in other.output), None)
    expected = {"Div": math.sqrt(2), "Mul": 1 / math.sqrt(2)}
    if producer is not None and producer.op_type in expected and len(producer.input) == 2:
        x, c = (context.values.get(name) for name in producer.input)
        if isinstance(c, Value) and isinstance(x, np.ndarray) and producer.op_type == "Mul":
            x, c = c, x
        if isinstance(x, Value) and isinstance(c, np.ndarray) and c.size == 1 and np.isclose(
                float(c.reshape(-1)[0]), expected[producer.op_type], rtol=1e-6):
            return GeluPart(x)
    raise NotExpressible("an Erf other than of x / sqrt 2 in PyTorch's exact gelu x (1 + erf(x / sqrt 2)) / 2")


def gelu_step(context, node, items):
    """Add 1, Mul x or Mul 1/2 applied to a GeluPart: the next part, or the gelu of x once all three are done."""
    part = next(item for item in items if isinstance(item, GeluPart))
    others = [item for item in items if item is not part]
    other = others[0] if len(others) == 1 else None
    number = float(other.reshape(-1)[0]) if isinstance(other, np.ndarray) and other.size == 1 else None
    if node.op_type == "Add" and number == 1.0 and not part.one_plus:
        part = replace(part, one_plus=True)
    elif node.op_type == "Mul" and isinstance(other, Value) and other.tensor is part.x.tensor and other.axes == \
            part.x.axes and not part.times_x:
        part = replace(part, times_x=True)
    elif node.op_type == "Mul" and number == 0.5 and not part.halved:
        part = replace(part, halved=True)
    else:
        raise NotExpressible("a use of erf other than PyTorch's exact gelu x (1 + erf(x / sqrt 2)) / 2")
    if not (part.one_plus and part.times_x and part.halved):
        return part
    x = part.x
    return x.but(tensor=layers.Activation("gelu", name=context.layer_name(node))(x.tensor), nonnegative=False)


# ---- resizing --------------------------------------------------------------------------------------------
UPSAMPLING = {1: layers.UpSampling1D, 2: layers.UpSampling2D, 3: layers.UpSampling3D}


def resize(context, node):
    value, attributes = context.value(node), context.attributes(node)
    for name, default in (("antialias", 0), ("keep_aspect_ratio_policy", "stretch"), ("axes", None)):
        if attributes.get(name, default) != default:
            raise NotExpressible(f"the attribute {name}={attributes[name]!r}")
    sizes = _output_sizes(context, node, value, 2 if context.opset >= 11 else 1, 3 if context.opset >= 11 else None)
    mode = attributes.get("mode", "nearest")
    transformation = attributes.get("coordinate_transformation_mode", "half_pixel")
    nearest = attributes.get("nearest_mode", "round_prefer_floor")
    spatial_in, spatial_out = _striate_spatial(value, sizes)
    if mode == "nearest" and transformation == "asymmetric" and nearest == "floor":
        return _upsampling(context, node, value, spatial_in, spatial_out)
    half_pixel = transformation == "half_pixel" or (transformation == "pytorch_half_pixel" and min(spatial_out) > 1)
    if half_pixel and value.rank == 4 and (mode == "linear" or (mode == "nearest" and nearest == "round_prefer_ceil")):
        interpolation = "bilinear" if mode == "linear" else "nearest"
        layer = layers.Resizing(*spatial_out, interpolation=interpolation, name=context.layer_name(node))
        return value.but(tensor=layer(value.tensor), nonnegative=value.nonnegative)
    raise NotExpressible(f"mode {mode!r}, coordinate_transformation_mode {transformation!r}, nearest_mode "
                         f"{nearest!r} from {spatial_in} to {spatial_out}: striate reads nearest asymmetric floor at "
                         "integer factors (UpSampling), half_pixel linear, and half_pixel nearest round_prefer_ceil "
                         "of images (Resizing)")


def upsample(context, node):
    """Upsample (opsets 7-9): "nearest" is Resize's asymmetric floor."""
    value, attributes = context.value(node), context.attributes(node)
    if attributes.get("mode", "nearest") != "nearest":
        raise NotExpressible(f"mode {attributes['mode']!r} (striate reads Upsample 'nearest')")
    if "scales" in attributes:
        sizes = _sizes_from_scales(value, attributes["scales"])
    else:
        sizes = _output_sizes(context, node, value, 1, None)
    spatial_in, spatial_out = _striate_spatial(value, sizes)
    return _upsampling(context, node, value, spatial_in, spatial_out)


def _upsampling(context, node, value, spatial_in, spatial_out):
    factors = [out // n for n, out in zip(spatial_in, spatial_out)]
    if value.rank - 2 not in UPSAMPLING or any(n * f != out for n, f, out in zip(spatial_in, factors, spatial_out)):
        raise NotExpressible(f"nearest resizing from {spatial_in} to {spatial_out}: striate's UpSampling repeats "
                             "1-3 spatial axes by integer factors")
    layer = UPSAMPLING[value.rank - 2](tuple(factors), name=context.layer_name(node))
    return value.but(tensor=layer(value.tensor), nonnegative=value.nonnegative)


def _output_sizes(context, node, value, scales_index, sizes_index):
    """ONNX's output size of each axis (None for the batch) from the sizes input or the scales."""
    if sizes_index is not None and len(node.input) > sizes_index and node.input[sizes_index]:
        sizes = context.values.get(node.input[sizes_index])
        if not isinstance(sizes, np.ndarray | Dims):
            raise NotExpressible("output sizes computed from data, not from shapes")
        return [None if i == 0 else int(size) for i, size in enumerate(sizes)]
    return _sizes_from_scales(value, context.constant(node, scales_index))


def _sizes_from_scales(value, scales):
    """floor(n * scale), required whole: a scale with a remainder moves ONNX's sampling points off striate's."""
    sizes = [None]
    for n, scale in list(zip(value.onnx_shape(), np.ravel(scales)))[1:]:
        size = n * float(scale)
        if abs(size - round(size)) > 1e-6 * max(size, 1):
            raise NotExpressible(f"scale {float(scale)} of an axis of {n}: striate resizes to whole sizes")
        sizes.append(int(round(size)))
    return sizes


def _striate_spatial(value, sizes):
    """(input, output) sizes of striate's spatial axes; refused when the batch, the channels or a unit axis
    changes size."""
    shape = value.onnx_shape()
    out = list(value.tensor.shape)
    for onnx_axis, (before, after) in enumerate(zip(shape, sizes)):
        if onnx_axis == 0 or before == after:
            continue
        axis = value.axes[onnx_axis]
        if axis in (None, 0, value.rank - 1):
            raise NotExpressible(f"resizing ONNX axis {onnx_axis}, which is striate's batch, channel or a unit axis")
        out[axis] = after
    return list(value.tensor.shape[1:-1]), out[1:-1]
