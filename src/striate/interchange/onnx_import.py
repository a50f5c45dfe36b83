"""ONNX in: `striate.load_onnx(path)` builds a functional striate Model from an ONNX graph.

    model = striate.load_onnx("net.onnx")       # e.g. from torch.onnx.export(net, x, "net.onnx", dynamo=False)
    model.predict(x.transpose(0, 2, 3, 1))       # striate takes the images channels-last, (N, H, W, C)

The graph is read node by node; each node becomes a striate layer (Conv -> Conv1D/2D/3D, Gemm -> Dense, ...)
or no layer at all (Transpose, Flatten of a vector, Dropout, Identity, the Shape arithmetic a PyTorch
export computes around a reshape). The operators read are the keys of OPERATORS
(striate.interchange.onnx_layer_readers); an unknown operator anywhere in the graph is reported, all of them in
one FileFormatError, before anything is built.

Layouts. An ONNX image tensor is channels-first (N, C, H, W); striate's is channels-last (N, H, W, C). The
importer keeps striate's tensors channels-last and remembers, for every ONNX tensor, which striate axis each
of its axes is (`Value.axes`): a Transpose only renumbers, a Conv checks that its input is the channels-first
view of a channels-last tensor. Flattening an (N, C, H, W) map numbers features c * H * W + h * W + w, striate
h * W * C + w * C + c: the permutation is remembered (`Value.order`) and applied to the rows of the Dense that
follows, so the striate model computes the same numbers.

The model's input: channels-last. `input_layout="auto"` reads an ONNX input of rank 3 or more as
channels-first when it goes straight into a Conv, pooling or normalization (PyTorch's images), as given
otherwise (sequences, vectors, and the files striate writes, which say so in their metadata). The output
comes in striate's layout: a spatial map channels-last, and without the unit axes ONNX keeps after a global
pooling ((N, C) for ONNX's (N, C, 1, 1)).
"""

import os
import re

from striate.core.errors import FileFormatError
from striate.core.errors import excerpt as _short
from striate.interchange.onnx_layer_readers import OPERATORS
from striate.interchange.onnx_operators import ImportContext, NotExpressible, Value
from striate.interchange.onnx_package import require_onnx

INPUT_LAYOUTS = ("auto", "channels_first", "channels_last")
CHANNEL_OPERATORS = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                     "BatchNormalization", "LRN"}


def load_onnx(path, input_layout="auto"):
    """The striate Model computing the ONNX graph at `path` (one output).

    Args:
        path: an .onnx file.
        input_layout: "auto", "channels_first" (the graph's input is (N, C, *spatial): striate's model takes
            (N, *spatial, C)) or "channels_last" (the input is taken as it is).
    Raises FileFormatError (a ValueError) for a file that is not ONNX, lists unsupported operators, or has a
    node striate cannot express (the node, the operator and why); FileNotFoundError when there is no file;
    ModuleNotFoundError when `onnx` is not installed.
    """
    onnx = require_onnx("load_onnx")
    path = os.fspath(path)
    if input_layout not in INPUT_LAYOUTS:
        raise ValueError(f"load_onnx: input_layout must be one of {INPUT_LAYOUTS}; received {input_layout!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_onnx: {path} does not exist")
    try:
        proto = onnx.load(path)
        onnx.checker.check_model(proto)
    except Exception as error:  # protobuf's and the checker's errors: the file is no (valid) ONNX model
        raise FileFormatError(path, f"not a valid ONNX model: {_short(error)}") from None
    return _build(onnx, proto, path, input_layout)


def _build(onnx, proto, path, input_layout):
    from striate.models.model import Input, Model

    graph = proto.graph
    _check_operators(graph, path)
    constants = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in graph.initializer}
    inputs = [info for info in graph.input if info.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise FileFormatError(path, f"striate reads graphs of one input and one output; this one has "
                              f"{len(inputs)} input(s) and {len(graph.output)} output(s)")
    context = ImportContext(onnx, graph, constants, _opset(proto))
    info = inputs[0]
    layout = _input_layout(proto, graph, info.name, input_layout)
    dims = _input_dims(path, info)
    if layout == "channels_first" and len(dims) >= 3:
        striate_input = Input((*dims[2:], dims[1]))
        rank = len(dims)
        axes = (0, rank - 1, *range(1, rank - 1))
    else:
        striate_input = Input(tuple(dims[1:]))
        axes = tuple(range(len(dims)))
    context.values[info.name] = Value(striate_input, axes)

    for index, node in enumerate(graph.node):
        where = f"node {node.name or index} ({node.op_type})"
        try:
            outputs = OPERATORS[node.op_type](context, node)
        except NotExpressible as reason:
            raise FileFormatError(path, f"{where}: {reason}") from None
        except (ValueError, TypeError) as error:  # a striate layer refused the sizes or arguments the node gave it
            raise FileFormatError(path, f"{where}: {_short(error, 400)}") from None
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for name, value in zip(node.output, outputs):
            if name:
                context.values[name] = value

    output = context.values.get(graph.output[0].name)
    if not isinstance(output, Value) or output.tensor is striate_input:
        raise FileFormatError(path, f"the output {graph.output[0].name} is no computed tensor striate can express")
    if output.order is not None:
        raise FileFormatError(path, "the output is a flattened channels-first map, whose feature order striate's "
                              "channels-last flatten does not give; end the graph with a layer after the flatten")
    return Model(striate_input, output.tensor, name=_model_name(graph.name, path))


def _check_operators(graph, path):
    """One FileFormatError listing every operator (with its nodes) striate does not read."""
    unknown = {}
    for index, node in enumerate(graph.node):
        if node.domain not in ("", "ai.onnx") or node.op_type not in OPERATORS:
            label = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            unknown.setdefault(label, []).append(node.name or f"#{index}")
    if unknown:
        listed = "; ".join(f"{op} ({len(nodes)} node{'s' if len(nodes) > 1 else ''}: {', '.join(nodes[:3])}"
                           f"{', ...' if len(nodes) > 3 else ''})" for op, nodes in unknown.items())
        raise FileFormatError(path, f"unsupported ONNX operators: {listed}. striate reads: "
                              f"{', '.join(sorted(OPERATORS))}")


def _opset(proto):
    for opset in proto.opset_import:
        if opset.domain in ("", "ai.onnx"):
            return int(opset.version)
    return 1


def _input_layout(proto, graph, name, requested):
    if requested != "auto":
        return requested
    from striate.interchange.onnx_export import INPUT_LAYOUT_KEY

    if any(prop.key == INPUT_LAYOUT_KEY for prop in proto.metadata_props):
        return "channels_last"
    consumers = {node.op_type for node in graph.node if name in node.input}
    return "channels_first" if consumers & CHANNEL_OPERATORS else "channels_last"


def _input_dims(path, info):
    """The input's sizes, the first (batch) free; the others must be known numbers."""
    dims = []
    for axis, dim in enumerate(info.type.tensor_type.shape.dim):
        known = dim.HasField("dim_value") and dim.dim_value > 0
        if axis > 0 and not known:
            raise FileFormatError(path, f"the input {info.name} has no fixed size on axis {axis} "
                                  f"({dim.dim_param or '?'}); striate builds a model for fixed sizes but the batch")
        dims.append(int(dim.dim_value) if known and axis > 0 else None)
    if len(dims) < 2:
        raise FileFormatError(path, f"the input {info.name} has rank {len(dims)}; striate needs (batch, ...)")
    return dims


def _model_name(graph_name, path):
    name = re.sub(r"[^0-9A-Za-z_]+", "_", graph_name or "").strip("_")
    return name or re.sub(r"[^0-9A-Za-z_]+", "_", os.path.splitext(os.path.basename(path))[0]) or "onnx_model"
