"""ONNX out: a Sequential or functional striate model written as an ONNX graph (opset 17), for ONNX Runtime.

    model.export("model.onnx", format="onnx")          # or striate.interchange.export_onnx(model, path)
    # onnxruntime.InferenceSession("model.onnx").run(None, {"input": x})[0] == model.predict(x)

The graph takes what the model takes: a float32 batch, channels-last (N, H, W, C) as striate's layers, with
the batch size N free ("N") and the other sizes fixed; its input is named "input" ("input_0", "input_1", ...
for several), its output "output", channels-last too. ONNX's Conv, pooling, BatchNormalization and LRN work
on channels-first (N, C, H, W) tensors, so the graph transposes where the layout changes: once after the
input, and back before a Flatten, a Dense on a map, a recurrent layer or the output. A Flatten therefore
numbers its features as striate does, h * W * C + w * C + c, and the Dense after it keeps its weights.

Each layer class has one emitter in `striate.interchange.onnx_layers.EMITTERS`, the visible table of what is
exported. Every layer of the model is tried before anything is written: a layer with no ONNX form (an
Embedding, a Bidirectional wrapper, an activation ONNX does not have, ...) is refused by name, all of them in
one ValueError, and no file appears. The model is checked by `onnx.checker` (full check) and its shapes are
inferred (stored in the file) before it is written atomically (striate.core.files.atomic_write).

Layers in inference form: Dropout, the noise layers (GaussianNoise, GaussianDropout, SpatialDropout1D/2D/3D)
and the random augmentations are the identity, BatchNormalization uses its moving statistics. The opset is 17,
so GroupNormalization is written as a composition (reshape, LayerNormalization, reshape, scale and shift).
"""

import os

import numpy as np

from striate.core.files import atomic_write
from striate.interchange import onnx_layers
from striate.interchange.onnx_package import OPSET, require_onnx
from striate.interchange.onnx_values import Refused, Value

IR_VERSION = 8  # ONNX's file version for opset 17: what every runtime reading opset 17 reads
INPUT_LAYOUT_KEY = "striate.input_layout"  # metadata telling striate.load_onnx the input is channels-last


def export_onnx(model, path):
    """Write `model` to `path` as ONNX (opset 17) and return the path.

    Raises ValueError, before writing, naming every layer ONNX cannot express, or when the model has no
    graph (a subclassed Model) or no input shape yet; ModuleNotFoundError when `onnx` is not installed.
    """
    onnx = require_onnx("export_onnx")
    path = os.fspath(path)
    proto = model_proto(model, onnx)
    with atomic_write(path) as file:
        file.write(proto.SerializeToString())
    return path


def model_proto(model, onnx=None):
    """The checked, shape-inferred onnx.ModelProto of `model` (see export_onnx)."""
    from striate import __version__

    onnx = onnx or require_onnx("export_onnx")
    input_shapes = _input_shapes(model)
    names = ["input"] if len(input_shapes) == 1 else [f"input_{i}" for i in range(len(input_shapes))]
    builder = GraphBuilder(onnx, reserved=[*names, "output"])
    inputs = [Value(name, shape, channels_first=False) for name, shape in zip(names, input_shapes)]
    output = emit_model(builder, model, inputs)
    if builder.refused:
        raise ValueError(f"export_onnx: {model.name} has {len(builder.refused)} layer(s) ONNX cannot express, so "
                         "nothing was written: " + "; ".join(builder.refused))
    output = builder.channels_last(output)
    builder.node("Identity", [output.name], "output", output_names=["output"])
    graph = onnx.helper.make_graph(
        builder.nodes, model.name,
        [_tensor_info(onnx, value.name, value.shape) for value in inputs],
        [_tensor_info(onnx, "output", output.shape)],
        initializer=builder.initializers)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="striate", producer_version=__version__)
    proto.ir_version = IR_VERSION
    onnx.helper.set_model_props(proto, {INPUT_LAYOUT_KEY: "channels_last"})
    onnx.checker.check_model(proto, full_check=True)
    return onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)


def emit_model(builder, model, inputs):
    """The nodes of a Sequential or functional `model` applied to `inputs` (Values); returns its output Value.
    A model used as a layer inside another is emitted in place, the same way."""
    if not hasattr(model, "_nodes"):  # a Sequential keeps its layers as a list, a functional model as nodes
        value = inputs[0]
        for layer in model.layers:
            value = emit_layer(builder, layer, [value])
        return value
    values = {id(symbolic): value for symbolic, value in zip(model._inputs, inputs)}
    for node in model._nodes:
        values[id(node)] = emit_layer(builder, node.layer, [values[id(i)] for i in node.inputs])
    return values[id(model._outputs)]


def emit_layer(builder, layer, inputs):
    """One layer's nodes; a layer that cannot be expressed is noted in builder.refused (a placeholder Value
    lets the walk go on to find every such layer)."""
    from striate.models.model import Model
    from striate.models.sequential import Sequential

    shapes = [value.shape for value in inputs]
    if isinstance(layer, Model):
        if hasattr(layer, "_nodes") or isinstance(layer, Sequential):
            return emit_model(builder, layer, inputs)
        builder.refused.append(f"{layer.name} ({type(layer).__name__}): a subclassed model, whose graph is Python "
                               "code")
        return Value("refused", shapes[0], False)
    output_shape = layer.compute_output_shape(shapes if len(shapes) > 1 else shapes[0])
    emitter = onnx_layers.EMITTERS.get(type(layer))
    try:
        if emitter is None:
            raise Refused("no ONNX form in striate's exporter")
        return emitter(builder, layer, inputs, tuple(output_shape))
    except Refused as refusal:
        builder.refused.append(f"{layer.name} ({type(layer).__name__}): {refusal}")
        return Value("refused", output_shape, False)


class GraphBuilder:
    """Collects nodes and initializers with unique names, and converts a Value between layouts (each
    transposition made once)."""

    def __init__(self, onnx, reserved=()):
        self.onnx = onnx
        self.nodes, self.initializers, self.refused = [], [], []
        self._names = set(reserved)  # the graph's input and output names
        self._converted = {}

    def unique(self, name):
        candidate, count = name, 0
        while candidate in self._names:
            count += 1
            candidate = f"{name}_{count}"
        self._names.add(candidate)
        return candidate

    def constant(self, name, array):
        """An initializer holding `array` (floats as float32, integers as int64); returns its name."""
        array = np.asarray(array)
        array = np.asarray(array, dtype=np.int64 if array.dtype.kind in "iub" else np.float32, order="C")
        name = self.unique(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, name, output_names=None, outputs=1, **attributes):
        """Add one node; returns its output name (a list of them when outputs > 1)."""
        name = self.unique(name)
        output_names = output_names or [name if i == 0 else self.unique(f"{name}:{i}") for i in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), list(output_names), name=name, **attributes))
        return output_names[0] if outputs == 1 else output_names

    def channels_first(self, value):
        return self._layout(value, True)

    def channels_last(self, value):
        return self._layout(value, False)

    def like(self, value, reference):
        """`value` in the layout of `reference` (tensors of rank 2 have one layout)."""
        return self._layout(value, reference.channels_first)

    def _layout(self, value, channels_first):
        rank = len(value.shape)
        if rank <= 2 or value.channels_first == channels_first:
            return Value(value.name, value.shape, channels_first and rank > 2)
        key = (value.name, channels_first)
        if key not in self._converted:
            perm = (0, rank - 1, *range(1, rank - 1)) if channels_first else (0, *range(2, rank), 1)
            suffix = "channels_first" if channels_first else "channels_last"
            self._converted[key] = self.node("Transpose", [value.name], f"{value.name}/{suffix}", perm=list(perm))
        return Value(self._converted[key], value.shape, channels_first)


def _input_shapes(model):
    from striate.models.model import Model
    from striate.models.sequential import Sequential

    if not isinstance(model, Model):
        raise ValueError(f"export_onnx: exports a striate Model; received {type(model).__name__}")
    if hasattr(model, "_inputs"):
        return [tuple(symbolic.shape) for symbolic in model._inputs]
    if not isinstance(model, Sequential):
        raise ValueError(f"export_onnx: {model.name} is a subclassed model, whose graph is Python code; build it "
                         "as a Sequential or functional model to export it")
    if model.input_shape is None:
        raise ValueError(f"export_onnx: the Sequential model {model.name} has no input shape yet; give its first "
                         "layer input_shape= or start it with striate.Input(shape)")
    return [tuple(model.input_shape)]


def _tensor_info(onnx, name, shape):
    dims = ["N" if size is None else int(size) for size in shape]
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, dims)
