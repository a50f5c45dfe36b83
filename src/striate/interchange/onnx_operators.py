"""Reading an ONNX graph: the context, the Values, and the operators that make no layer.

A reader takes the ImportContext and the node and returns what the node's output is (a tuple, one per
output, for a node with several):
- a `Value`: a striate SymbolicTensor and how the ONNX tensor lays it out (see striate.interchange.onnx_import);
- a NumPy array: a constant (initializers, Constant nodes, arithmetic on constants);
- a `Dims`: a tensor's shape as a PyTorch export computes it (Shape, Gather, Concat) for a Reshape or the
  zero initial state of a recurrent layer; the batch size is unknown (None).
Readers that make layers, and the table, are in striate.interchange.onnx_layer_readers; this file holds the
context and the readers that only renumber axes or compute constants. A reader raises NotExpressible with the
reason when the node's settings have no striate form.
"""

import re
from dataclasses import dataclass

import numpy as np

from striate.layers.layer import SymbolicTensor


class NotExpressible(Exception):
    """This node, with these inputs and attributes, has no striate form; the message says why."""


@dataclass(frozen=True)
class Value:
    """An ONNX tensor computed by the striate model.

    tensor: the striate SymbolicTensor. axes: for each ONNX axis, the striate axis it is, or None for a unit
    axis striate's tensor does not have (ONNX's (N, C, 1, 1) after a global pooling is striate's (N, C) with
    axes (0, 1, None, None)). order: for a vector (N, F) flattened from a channels-first map, the striate
    feature of each ONNX feature (None: the same order). nonnegative: known >= 0 (after a relu), which makes
    zero padding before a max pool exact. layer: the layer that made it, while its activation or bias may
    still be taken over by the next node (it has that node as its only reader).
    """

    tensor: SymbolicTensor
    axes: tuple
    order: np.ndarray | None = None
    nonnegative: bool = False
    layer: object = None

    @property
    def rank(self):
        return len(self.tensor.shape)

    def onnx_shape(self):
        return [1 if axis is None else self.tensor.shape[axis] for axis in self.axes]

    def but(self, **changes):
        fields = {"tensor": self.tensor, "axes": self.axes, "order": self.order, "nonnegative": self.nonnegative,
                  "layer": None}
        fields.update(changes)
        return Value(**fields)


class Dims(list):
    """A shape computed inside the graph: ints, None for the batch size; `scalar` for one gathered entry."""

    def __init__(self, values, scalar=False):
        super().__init__(values)
        self.scalar = scalar


@dataclass
class Zeros:
    """ConstantOfShape 0 of a shape that involves the batch size: a zero initial state."""

    dims: list


def channels_first_axes(rank):
    """Axes of an ONNX (N, C, *spatial) view of a striate (N, *spatial, C) tensor: (0, r-1, 1, ..., r-2)."""
    return (0, rank - 1, *range(1, rank - 1))


class ImportContext:
    """The graph being read: constants, the Values made so far, who reads each tensor, the layer names used."""

    def __init__(self, onnx, graph, constants, opset):
        self.onnx, self.graph, self.opset = onnx, graph, opset
        self.values = dict(constants)
        self.readers = {}
        for node in graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)
        for output in graph.output:
            self.readers.setdefault(output.name, []).append(None)
        self._names = set()

    def attributes(self, node):
        result = {}
        for attribute in node.attribute:
            value = self.onnx.helper.get_attribute_value(attribute)
            if isinstance(value, bytes):
                value = value.decode()
            elif isinstance(value, list) and value and isinstance(value[0], bytes):
                value = [v.decode() for v in value]
            elif hasattr(value, "dims"):  # a TensorProto
                value = self.onnx.numpy_helper.to_array(value)
            result[attribute.name] = value
        return result

    def value(self, node, index=0):
        """The node's input `index` as a Value (a tensor the model computes)."""
        item = self.values.get(node.input[index])
        if not isinstance(item, Value):
            raise NotExpressible(f"input {node.input[index]!r} must be a tensor the model computes; it is "
                                 f"{'a constant' if isinstance(item, np.ndarray) else 'not one'}")
        return item

    def constant(self, node, index, default=None):
        """The node's input `index` as a NumPy array (default when the input is absent)."""
        if index >= len(node.input) or not node.input[index]:
            return default
        item = self.values.get(node.input[index])
        if not isinstance(item, np.ndarray):
            raise NotExpressible(f"input {node.input[index]!r} must be a constant (an initializer); striate "
                                 "layers take fixed weights and sizes")
        return item

    def sole_reader(self, name):
        """The one node that reads tensor `name`, or None (several readers, or it is a graph output)."""
        readers = self.readers.get(name, [])
        return readers[0] if len(readers) == 1 else None

    def takes_over(self, node, layer):
        """`layer` if the node's output has this node as only reader (so that node may change the layer)."""
        return layer if self.sole_reader(node.output[0]) is not None else None

    def layer_name(self, node):
        """The node's name as a striate layer name (letters, digits, _), made unique."""
        base = re.sub(r"[^0-9A-Za-z_]+", "_", node.name or "").strip("_") or node.op_type.lower()
        name, count = base, 0
        while name in self._names:
            count += 1
            name = f"{base}_{count}"
        self._names.add(name)
        return name


# ---- operators that renumber axes or pass a tensor on ------------------------------------------------------
def pass_through(context, node):
    """Identity, Dropout (inference): the same tensor; Dropout's mask output is not available."""
    if len(node.output) > 1 and node.output[1] and context.readers.get(node.output[1]):
        raise NotExpressible("Dropout's mask output is read; striate's inference has no mask")
    item = context.values.get(node.input[0])
    return item.but(layer=None) if isinstance(item, Value) else item


def transpose(context, node):
    perm = context.attributes(node).get("perm")
    item = context.values.get(node.input[0])
    if isinstance(item, np.ndarray):
        return np.transpose(item, perm)
    value = context.value(node)
    perm = list(reversed(range(len(value.axes)))) if perm is None else perm
    axes = tuple(value.axes[p] for p in perm)
    if value.order is not None and axes[0] != 0:
        raise NotExpressible("a transposed flattened map")
    return value.but(axes=axes)


def flatten(context, node):
    """Flatten(axis=1): no layer for a vector; striate's Flatten, with the feature order remembered, for a map."""
    from striate import layers

    axis = context.attributes(node).get("axis", 1)
    value = context.value(node)
    if axis not in (1, 1 - len(value.axes)) or value.axes[0] != 0:
        raise NotExpressible(f"Flatten(axis={axis}) of a tensor whose first axis is not the batch; striate "
                             "flattens (N, ...) to (N, features)")
    return _flatten(context, node, value, layers)


def _flatten(context, node, value, layers):
    kept = [axis for axis in value.axes[1:] if axis is not None]
    if value.rank == 2:
        return value.but(axes=(0, 1))
    tensor = layers.Flatten(name=context.layer_name(node))(value.tensor)
    striate_index = np.arange(int(np.prod(value.tensor.shape[1:]))).reshape(value.tensor.shape[1:])
    order = striate_index.transpose([axis - 1 for axis in kept]).ravel()
    identity = np.array_equal(order, np.arange(order.size))
    return Value(tensor, (0, 1), None if identity else order, value.nonnegative)


def reshape(context, node):
    """A reshape that flattens (N, ...) to (N, features) (no permutation: the feature order is remembered),
    only adds / removes unit axes (no layer), or anything else of a batch-first tensor: striate's Permute to
    ONNX's order of the axes if they differ, then striate's Reshape."""
    from striate import layers

    target = context.values.get(node.input[1])
    if not isinstance(target, np.ndarray | Dims):
        raise NotExpressible("the target shape is computed from data, not from shapes")
    target = list(target)
    item = context.values.get(node.input[0])
    if isinstance(item, np.ndarray):  # constant arithmetic (a PyTorch export's pads, ...)
        copied = not context.attributes(node).get("allowzero", 0)
        return item.reshape([item.shape[i] if size == 0 and copied else int(size) for i, size in enumerate(target)])
    value = context.value(node)
    source = [None, *value.onnx_shape()[1:]]
    allow_zero = context.attributes(node).get("allowzero", 0)
    resolved = [source[i] if (size == 0 and not allow_zero) else size for i, size in enumerate(target)]
    resolved = [None if size is None else int(size) for size in resolved]
    if resolved[0] not in (None, -1):
        raise NotExpressible(f"reshape of {source} to {target}: striate keeps the batch axis")
    units_only = -1 not in resolved[1:] and [s for s in resolved[1:] if s != 1] == [s for s in source[1:] if s != 1]
    if units_only and not any(axis is not None and value.tensor.shape[axis] == 1 for axis in value.axes):
        return _reunit(value, resolved)
    if value.axes[0] != 0:
        raise NotExpressible(f"reshape of {source} to {target}: the tensor's first axis is not the batch")
    features = int(np.prod(source[1:]))
    if len(resolved) == 2 and resolved[1] in (-1, features):
        return _flatten(context, node, value, layers)
    if value.order is not None:
        raise NotExpressible("a reshape of a flattened channels-first map other than to (N, features)")
    ordered = in_onnx_order(context, node, value)
    tensor = layers.Reshape(resolved[1:], name=context.layer_name(node))(ordered.tensor)
    return Value(tensor, tuple(range(len(resolved))), nonnegative=value.nonnegative)


def in_onnx_order(context, node, value):
    """`value` with striate's tensor holding its axes in ONNX's order (a Permute layer when they differ), unit
    axes kept as they are."""
    from striate import layers

    kept = [axis for axis in value.axes if axis is not None]
    if kept == sorted(kept):
        return value
    if kept[0] != 0:
        raise NotExpressible(f"a tensor whose first axis is not the batch (axes {value.axes})")
    tensor = layers.Permute(tuple(kept[1:]), name=context.layer_name(node) + "_permute")(value.tensor)
    renumbered = iter(range(len(kept)))
    return value.but(tensor=tensor, axes=tuple(None if axis is None else next(renumbered) for axis in value.axes))


def _reunit(value, sizes):
    """The same striate tensor under ONNX sizes `sizes` that differ from its own only in unit axes (none of
    striate's axes having size 1)."""
    kept = iter(axis for axis in value.axes if axis is not None)
    return value.but(axes=tuple(None if size == 1 else next(kept) for size in sizes))


def squeeze(context, node):
    item = context.values.get(node.input[0])
    axes = _axes_argument(context, node)
    if isinstance(item, np.ndarray):
        return np.squeeze(item, axis=None if axes is None else tuple(axes))
    value = context.value(node)
    rank = len(value.axes)
    drop = {a % rank for a in axes} if axes is not None else {i for i, a in enumerate(value.axes) if a is None}
    if any(value.axes[i] is not None for i in drop):
        raise NotExpressible("squeezing an axis of size 1 that striate's tensor has")
    return value.but(axes=tuple(a for i, a in enumerate(value.axes) if i not in drop))


def unsqueeze(context, node):
    item = context.values.get(node.input[0])
    axes = _axes_argument(context, node)
    if isinstance(item, Dims):
        if not item.scalar or axes not in ([0], [-1]):
            raise NotExpressible("Unsqueeze of a shape other than one gathered size")
        return Dims(list(item))
    if isinstance(item, np.ndarray):
        return np.expand_dims(item, tuple(axes))
    value = context.value(node)
    new_rank = len(value.axes) + len(axes)
    positions = sorted(a % new_rank for a in axes)
    remaining = iter(value.axes)
    return value.but(axes=tuple(None if i in positions else next(remaining) for i in range(new_rank)))


def _axes_argument(context, node):
    if context.opset >= 13 and len(node.input) > 1 and node.input[1]:
        return [int(a) for a in context.constant(node, 1)]
    axes = context.attributes(node).get("axes")
    return None if axes is None else [int(a) for a in axes]


# ---- constants and shape arithmetic -------------------------------------------------------------------------
def constant(context, node):
    attributes = context.attributes(node)
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attributes:
            return np.asarray(attributes[key])
    raise NotExpressible(f"a Constant with {', '.join(attributes)} (striate reads numeric constants)")


def shape(context, node):
    item = context.values.get(node.input[0])
    if isinstance(item, np.ndarray):
        return np.array(item.shape, dtype=np.int64)
    value = context.value(node)
    dims = [None, *value.onnx_shape()[1:]]
    attributes = context.attributes(node)
    return Dims(dims[attributes.get("start", 0) : attributes.get("end", len(dims))])


def gather(context, node):
    """Entries of a shape (x.size(0)); h[-1] of a recurrent layer's (1, N, H) state drops the unit axis."""
    item = context.values.get(node.input[0])
    indices = context.constant(node, 1)
    axis = context.attributes(node).get("axis", 0)
    if isinstance(item, np.ndarray):
        return np.take(item, indices, axis=axis)
    if isinstance(item, Dims):
        picked = [item[int(i)] for i in np.ravel(indices)]
        return Dims(picked, scalar=np.ndim(indices) == 0)
    value = context.value(node)
    axis %= len(value.axes)
    if np.ndim(indices) != 0 or value.axes[axis] is not None or int(indices) not in (0, -1):
        raise NotExpressible("Gather of a computed tensor: striate reads it only as picking the one entry of a "
                             "unit axis (h[-1] of a recurrent layer's state)")
    return value.but(axes=tuple(a for i, a in enumerate(value.axes) if i != axis))


def concat_shapes(context, node):
    """Concat of shapes and constants into a shape; other Concats are layers (onnx_layer_readers.concat)."""
    parts = []
    for name in node.input:
        item = context.values.get(name)
        parts.extend(list(item) if isinstance(item, Dims) else [int(v) for v in np.ravel(item)])
    return Dims(parts)


def constant_of_shape(context, node):
    item = context.values.get(node.input[0])
    fill = context.attributes(node).get("value", np.zeros(1, np.float32))
    dims = list(item) if isinstance(item, Dims | np.ndarray) else None
    if dims is None:
        raise NotExpressible("ConstantOfShape of a shape that is not computed from shapes")
    if None in dims:
        if np.any(fill != 0):
            raise NotExpressible("a batch-sized constant other than zeros")
        return Zeros(dims)
    return np.full([int(d) for d in dims], np.ravel(fill)[0], dtype=np.asarray(fill).dtype)


def cast(context, node):
    item = context.values.get(node.input[0])
    if isinstance(item, Dims):
        return item
    if isinstance(item, np.ndarray):
        return item.astype(context.onnx.helper.tensor_dtype_to_np_dtype(context.attributes(node)["to"]))
    if context.attributes(node)["to"] != context.onnx.TensorProto.FLOAT:
        raise NotExpressible("a cast of a computed tensor to a type other than float32")
    return context.value(node).but()
