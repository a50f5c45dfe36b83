"""The fusion plan of a functional model: runs of layers that one op computes together.

`Model.call` runs the graph node by node, each layer one op or more, each op one pass over its activation. Where
a node's output is read only by the next node, some runs of layers are one op's work, which saves the passes in
between and the arrays kept for backward:

    convolution -> relu (an Activation or ReLU layer)       the convolution's own fused activation
    batch normalization -> relu                              batch_norm(..., activation="relu")
    Add of two -> relu                                       ops.add_relu
    convolution -> batch normalization [-> relu]             at inference, one convolution with the batch norm
                                                             folded into its weights (below)

Folding. At inference batch normalization is y = x * scale + shift per channel, scale = gamma / sqrt(var + eps),
shift = beta - mean * scale (`BatchNormalization.inference_scale_shift`); after a convolution with kernel w and
bias b that is the convolution with kernel w * scale (per output channel) and bias b * scale + shift
(`scaled_weights` of the convolution layer). It is used only where nothing can ask for a gradient (grad mode off,
as in predict and evaluate), the batch norm uses its moving statistics and the kernel has no more values than the
output (`folding_pays`: otherwise scaling the output is the cheaper of the two); elsewhere the run is the
convolution, then the batch norm (with its relu fused).

A run is fused only when its inner outputs are read by no other node and are not model outputs, its layers are
exactly these classes (a subclass may change `call`), none has an activity regularizer, the convolution has no
activation of its own, and the relu is plain (max(x, 0): no threshold, slope or cap). Everything else runs node
by node, as written. The values a fused run computes equal the layers' own, up to rounding (tests/models).
"""

import math

from striate.core.runtime import is_grad_enabled
from striate.layers import activations
from striate.layers.activation_layers import ReLU
from striate.layers.convolution import Conv1D, Conv2D, Conv3D, DepthwiseConv1D, DepthwiseConv2D
from striate.layers.core import Activation
from striate.layers.merge import Add
from striate.layers.normalization import BatchNormalization
from striate.ops import add_relu

CONVOLUTIONS = (Conv1D, Conv2D, Conv3D, DepthwiseConv1D, DepthwiseConv2D)


def is_plain_relu(layer):
    """Whether the layer computes max(x, 0) and nothing else."""
    if type(layer) is Activation:
        return layer.activation is activations.BY_NAME["relu"]
    return (type(layer) is ReLU and layer.max_value is None and not layer.negative_slope
            and not layer.threshold)


def _is_linear_convolution(layer):
    return type(layer) in CONVOLUTIONS and layer.activation is activations.linear


class Step:
    """One node of the graph run by its layer: values[node] = layer(values of its inputs)."""

    def __init__(self, node):
        self.node = node

    def run(self, arguments, training):
        return self.node.layer(arguments if len(arguments) > 1 else arguments[0], training=training)


class ConvolutionRelu(Step):
    """convolution -> relu: the convolution with "relu" fused."""

    def __init__(self, node, convolution):
        super().__init__(node)
        self.convolution = convolution

    def run(self, arguments, training):
        return self.convolution.convolve(arguments[0], "relu")


class BatchNormRelu(Step):
    """batch normalization -> relu: one batch_norm op with the relu inside."""

    def __init__(self, node, batch_norm):
        super().__init__(node)
        self.batch_norm = batch_norm

    def run(self, arguments, training):
        return self.batch_norm.normalize(arguments[0], training, activation="relu")


class AddRelu(Step):
    """Add of two inputs -> relu: one add_relu op."""

    def run(self, arguments, training):
        return add_relu(arguments[0], arguments[1])


class ConvolutionBatchNorm(Step):
    """convolution -> batch normalization [-> relu]: folded into one convolution at inference (grad mode off,
    moving statistics), else the convolution, then the batch norm with the relu fused."""

    def __init__(self, node, convolution, batch_norm, relu):
        super().__init__(node)
        self.convolution, self.batch_norm, self.activation = convolution, batch_norm, "relu" if relu else None

    def run(self, arguments, training):
        inputs = arguments[0]
        if (not is_grad_enabled() and not self.batch_norm.uses_batch_statistics(training)
                and folding_pays(self.convolution, inputs.shape)):
            folded = self.convolution.scaled_weights(*self.batch_norm.inference_scale_shift())
            return self.convolution.convolve(inputs, self.activation, **folded)
        return self.batch_norm.normalize(self.convolution.convolve(inputs), training, self.activation)


def folding_pays(convolution, input_shape):
    """Whether scaling the kernel (one multiply per kernel value) costs less than scaling the output (one per
    output value, about N * prod(spatial / strides) * filters): a batch of one through a deep layer (7x7 cells,
    512 x 512 x 3 x 3 kernel) has 100 times fewer outputs than kernel values, and there the batch norm runs after
    the convolution instead."""
    kernel = convolution.kernel.shape
    output_values = input_shape[0] * math.prod(input_shape[1:-1]) // math.prod(convolution.strides) * kernel[-1]
    return math.prod(kernel) <= output_values


class _Link:
    """A Sequential model's layer as a graph node: it reads the previous link's output only."""

    def __init__(self, layer, previous):
        self.layer, self.inputs = layer, (previous,)


def chain_plan(layers):
    """The fusion plan of a plain stack of layers (Sequential): [(step, first node of its run), ...]."""
    nodes, previous = [], _Link(None, None)
    for layer in layers:
        previous = _Link(layer, previous)
        nodes.append(previous)
    return fusion_plan(nodes, nodes[-1:])


def fusion_plan(nodes, outputs):
    """The steps that compute `nodes` (in graph order, each after its inputs; `outputs` the model's), runs fused
    where allowed. Returns [(step, first node of its run), ...]: the step reads the first node's inputs and
    produces the value of its `node`, the last of the run."""
    readers = {}
    for node in nodes:
        for parent in node.inputs:
            readers[id(parent)] = readers.get(id(parent), 0) + 1
    for output in outputs:
        readers[id(output)] = readers.get(id(output), 0) + 1
    only_reader = {}  # id(node) -> the node that alone reads it
    for node in nodes:
        for parent in node.inputs:
            if readers[id(parent)] == 1:
                only_reader[id(parent)] = node

    def next_in_run(node, accepts):
        """The node that alone reads `node`'s output, if `accepts` its layer."""
        reader = only_reader.get(id(node))
        if reader is None or len(reader.inputs) != 1 or reader.layer.activity_regularizer is not None:
            return None
        return reader if accepts(reader.layer) else None

    steps, fused = [], set()
    for node in nodes:
        if id(node) in fused:
            continue
        step = _fused_run(node, next_in_run)
        last = step.node
        run, current = [node], node
        while current is not last:
            current = only_reader[id(current)]
            run.append(current)
        fused.update(id(n) for n in run[1:])
        steps.append((step, node))
    return steps


def _fused_run(node, next_in_run):
    """The step that starts at `node`: the longest fusable run from it, or the node alone."""
    layer = node.layer
    if layer.activity_regularizer is not None:
        return Step(node)
    if _is_linear_convolution(layer):
        batch_norm = next_in_run(node, lambda other: type(other) is BatchNormalization)
        if batch_norm is not None:
            relu = next_in_run(batch_norm, is_plain_relu)
            return ConvolutionBatchNorm(relu or batch_norm, layer, batch_norm.layer, relu is not None)
        relu = next_in_run(node, is_plain_relu)
        return ConvolutionRelu(relu, layer) if relu is not None else Step(node)
    if type(layer) is BatchNormalization:
        relu = next_in_run(node, is_plain_relu)
        return BatchNormRelu(relu, layer) if relu is not None else Step(node)
    if type(layer) is Add and len(node.inputs) == 2:
        relu = next_in_run(node, is_plain_relu)
        return AddRelu(relu) if relu is not None else Step(node)
    return Step(node)
