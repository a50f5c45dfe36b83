"""ONNX's Pad and Slice of a tensor's spatial axes read as striate's ZeroPadding1D/2D/3D and Cropping1D/2D/3D
(the readers' contract is in striate.interchange.onnx_operators); Slice of a constant or a shape is computed.

    Pad mode "constant" value 0            ZeroPadding on striate's spatial axes (before, after) >= 0
    Slice with steps 1 of spatial axes     Cropping: (start, n - end) cut on each, ends past n clipped
"""

import numpy as np

from striate import layers
from striate.interchange.onnx_operators import Dims, NotExpressible

ZERO_PADDING = {1: layers.ZeroPadding1D, 2: layers.ZeroPadding2D, 3: layers.ZeroPadding3D}
CROPPING = {1: layers.Cropping1D, 2: layers.Cropping2D, 3: layers.Cropping3D}


def pad(context, node):
    value, attributes = context.value(node), context.attributes(node)
    if attributes.get("mode", "constant") != "constant":
        raise NotExpressible(f"mode {attributes['mode']!r} (striate reads zero padding)")
    pads = context.constant(node, 1) if context.opset >= 11 else np.asarray(attributes["pads"])
    fill = context.constant(node, 2) if context.opset >= 11 else attributes.get("value", 0.0)
    if (fill is not None and np.any(np.asarray(fill) != 0)) or (len(node.input) > 3 and node.input[3]):
        raise NotExpressible("padding with a value other than 0, or on chosen axes")
    rank = len(value.axes)
    by_axis = {}
    for onnx_axis, striate_axis in enumerate(value.axes):
        pair = (int(pads[onnx_axis]), int(pads[onnx_axis + rank]))
        if pair != (0, 0):
            by_axis[striate_axis] = pair
    spatial = set(range(1, value.rank - 1))
    if value.rank - 2 not in ZERO_PADDING or set(by_axis) - spatial or any(min(pair) < 0 for pair in by_axis.values()):
        raise NotExpressible(f"pads {[int(p) for p in pads]}: striate pads the 1-3 spatial axes of (N, ..., C) with "
                             "zeros (ZeroPadding1D/2D/3D)")
    pairs = tuple(by_axis.get(axis, (0, 0)) for axis in sorted(spatial))
    layer = ZERO_PADDING[value.rank - 2](pairs, name=context.layer_name(node))
    return value.but(tensor=layer(value.tensor))


def slice_(context, node):
    """Slice (opset 10 on: starts, ends, axes, steps as inputs)."""
    item = context.values.get(node.input[0])
    starts, ends = context.constant(node, 1), context.constant(node, 2)
    axes, steps = context.constant(node, 3), context.constant(node, 4)
    if isinstance(item, np.ndarray | Dims):
        return _slice_constant(item, starts, ends, axes, steps)
    value = context.value(node)
    rank = len(value.axes)
    axes = range(len(starts)) if axes is None else [int(a) % rank for a in axes]
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    shape = value.onnx_shape()
    cuts = {}
    for axis, start, end, step in zip(axes, starts, ends, steps):
        n = shape[axis]
        if n is None:  # the batch: only the whole of it
            if int(start) != 0 or int(end) < 2**31 - 1 or step != 1:
                raise NotExpressible("slicing the batch axis")
            continue
        begin, stop = (min(max(int(b) + n if b < 0 else int(b), 0), n) for b in (start, end))
        if (begin, stop) == (0, n) and step == 1:
            continue
        striate_axis = value.axes[axis]
        if step != 1 or striate_axis in (None, 0, value.rank - 1) or n is None or stop <= begin:
            raise NotExpressible(f"slicing ONNX axis {axis} from {int(start)} to {int(end)} by {step}: striate crops "
                                 "spatial axes by steps of 1 (Cropping1D/2D/3D)")
        cuts[striate_axis] = (begin, n - stop)
    if value.rank - 2 not in CROPPING:
        raise NotExpressible(f"cropping a tensor of rank {value.rank} (striate crops 1-3 spatial axes)")
    pairs = tuple(cuts.get(axis, (0, 0)) for axis in range(1, value.rank - 1))
    layer = CROPPING[value.rank - 2](pairs, name=context.layer_name(node))
    return value.but(tensor=layer(value.tensor))


def _slice_constant(item, starts, ends, axes, steps):
    array = np.asarray(list(item), dtype=object) if isinstance(item, Dims) else item
    axes = range(len(starts)) if axes is None else [int(a) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * array.ndim
    for axis, start, end, step in zip(axes, starts, ends, steps):
        index[axis] = slice(int(start), int(np.clip(end, -(2**62), 2**62)), int(step))
    sliced = array[tuple(index)]
    return Dims(list(sliced)) if isinstance(item, Dims) else sliced
