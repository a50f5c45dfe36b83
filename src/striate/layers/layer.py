"""`Layer`: owns weights and calls functions of striate.functional; it never writes a gradient.

A layer is built once, from `input_shape=` or from the first input it sees: `build(input_shape)` creates
its weights with `add_weight`. Calling it on a Tensor runs `call`; calling it on a `SymbolicTensor`
(from `striate.Input`) records a node of a functional model instead and returns a SymbolicTensor.

Shapes include the batch axis as None: (None, 28, 28, 1).
"""

import functools
import inspect
import math
import numbers
import re
import threading
import weakref
from collections import defaultdict
from contextlib import contextmanager

import numpy as np

from striate import constraints, regularizers
from striate.core.tensor import Tensor, as_tensor
from striate.layers import initializers

_name_counts: dict[str, int] = defaultdict(int)
_allowance = threading.local()  # .left: bytes add_weight may still allocate (None: no limit)
_calls = threading.local()  # .depth: how many Layer calls are running in this thread (0: the next is outermost)
_holding: "weakref.WeakSet[Layer]" = weakref.WeakSet()  # layers whose _activity_losses are not empty


def unique_name(class_name):
    """conv2d, conv2d_1, conv2d_2, ... as Keras names layers."""
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", class_name).lower()
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


class SymbolicTensor:
    """A placeholder for a batch of a known shape, used to wire functional models (no data)."""

    def __init__(self, shape, layer=None, inputs=()):
        self.shape = tuple(shape)
        self.layer = layer          # the layer that produced it (None for an Input)
        self.inputs = tuple(inputs)  # the SymbolicTensors that layer was called on

    def __repr__(self):
        return f"SymbolicTensor(shape={self.shape})"


class Layer:
    def __init__(self, name=None, input_shape=None, trainable=True, activity_regularizer=None):
        self.name = name or unique_name(type(self).__name__)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._activity_losses = []  # penalties of this layer's outputs in the current forward pass
        self.input_shape = None if input_shape is None else (None, *input_shape)
        self._trainable = bool(trainable)
        self.built = False
        self.output_shape = None
        self._weights = []  # (Tensor, trainable) in creation order

    # ---- to be written by each layer -----------------------------------------------------------
    def build(self, input_shape):
        """Create weights for inputs of `input_shape` (batch axis None)."""

    def call(self, inputs, training=False):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape`, by arithmetic alone (nothing is computed)."""
        return input_shape

    # ---- arithmetic by shapes alone, which striate.inspect.plan tabulates ------------------------------
    def weight_shapes(self, input_shape):
        """[(shape, trainable), ...]: the weights `build(input_shape)` would create, none allocated (none here)."""
        return []

    def parameter_count(self, input_shape):
        """(all, trainable) parameters for inputs of `input_shape`: the weights once built, else counted from
        `weight_shapes` (nothing is allocated). A frozen layer's parameters are all non-trainable."""
        if self.built:
            return self.count_params(), int(sum(w.size for w in self.trainable_weights))
        shapes = self.weight_shapes(input_shape)
        trainable = sum(math.prod(shape) for shape, is_trainable in shapes if is_trainable) if self.trainable else 0
        return sum(math.prod(shape) for shape, _ in shapes), trainable

    def multiply_accumulates(self, input_shape, output_shape):
        """Products summed in one sample's forward pass (convolutions and matrix products; 0 here)."""
        return 0

    def floating_point_operations(self, input_shape, output_shape):
        """Inference FLOPs of one sample: 2 per multiply-accumulate (a multiply and an add); a layer adds its
        elementwise work (the rules are listed in striate.inspect.plan)."""
        return 2 * self.multiply_accumulates(input_shape, output_shape)

    def sliding_window(self, input_shape):
        """(kernel, strides, dilation, ((before, after), ...)), one entry per spatial axis, of the window the layer
        slides over inputs of `input_shape` (the arguments of striate.ops.sliding_window and the padding); None
        for a layer that slides none."""
        return None

    def receptive_field(self, field, input_shape, output_shape):
        """((size, jump, start), ...) per spatial axis after this layer, from `field` before it (in input pixels:
        see striate.inspect.plan), or None where the field ends (it cannot be told by this arithmetic).

        A window layer applies, per axis, with k_eff - 1 = d (k - 1):
            size + (k_eff - 1) jump,   jump * s,   start + ((k_eff - 1) / 2 - before) * jump.
        A layer with no window keeps the field where it keeps the spatial shape (it acts at each position), and
        ends it where it changes that shape: a layer that moves values across space otherwise says so here."""
        window = self.sliding_window(input_shape)
        if window is not None:
            return window_field(field, window)
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if all(_spatial(shape) == _spatial(output_shape) for shape in shapes):
            return field
        return None

    def get_config(self):
        """Constructor arguments as JSON-able values, so the layer can be rebuilt."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        """The layer `get_config` described, with fresh weights (keras.layers.Layer.from_config)."""
        return cls(**config)

    # ---- shared machinery ------------------------------------------------------------------------
    @property
    def trainable(self):
        """Whether fit updates this layer's weights. A frozen layer keeps them, and a BatchNormalization
        runs in inference mode even in training, as Keras 3."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Setting it sets it on every layer inside too (a model's layers, a wrapper's layer), as Keras."""
        self._trainable = bool(value)
        for layer in self.sublayers():
            layer.trainable = value

    def sublayers(self):
        """The layers this layer is made of (none; a Model and a wrapper have some)."""
        return []

    def __call__(self, inputs, training=False):
        if type(inputs) is not Tensor:  # a Tensor, the usual input, needs neither of these
            if _is_symbolic(inputs):
                shape = _shapes(inputs)
                self.ensure_built(shape)
                return SymbolicTensor(symbolic_output_shape(self, shape), layer=self,
                                      inputs=inputs if isinstance(inputs, list | tuple) else (inputs,))
            inputs = [as_tensor(x) for x in inputs] if isinstance(inputs, list | tuple) else as_tensor(inputs)
        if not self.built:
            self.ensure_built(_shapes(inputs))
        depth = _enter_call(self)  # call_scope(self), written out: a generator's context costs more than the call
        try:                       # of a small layer
            if not _takes_training(type(self)):  # a call(self, inputs) without training, as Keras allows
                return self.record_activity(self.call(inputs))
            return self.record_activity(self.call(inputs, training=training))
        finally:
            _calls.depth = depth

    def ensure_built(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.input_shape = input_shape
            self.output_shape = symbolic_output_shape(self, input_shape)
            self.built = True

    def add_weight(self, name=None, shape=(), initializer="glorot_uniform", trainable=True, dtype=np.float32,
                   regularizer=None, constraint=None):
        """A new weight, initialized. `regularizer` (see striate.regularizers) adds regularizer(weight) to
        `losses`; `constraint` (see striate.constraints) projects the weight after every optimizer step."""
        if name is None:  # Keras' add_weight(shape=..., initializer=...) names it "variable", "variable_1", ...
            name = "variable" if not self._weights else f"variable_{len(self._weights)}"
        _spend_allowance(f"{self.name}/{name}", shape, dtype)
        values = initializers.get(initializer)(shape, dtype=dtype)
        weight = Tensor(values, requires_grad=trainable)
        weight.name = f"{self.name}/{name}"
        weight.regularizer = regularizers.get(regularizer)
        weight.constraint = constraints.get(constraint)
        self._weights.append((weight, trainable))
        return weight

    # ---- regularization penalties (Keras' layer.losses) ------------------------------------------
    @property
    def losses(self):
        """The penalties to add to the training loss, as scalar Tensors (Keras' `layer.losses`): those of the
        outputs in the last forward pass (`activity_regularizer`, of this layer and of the layers inside),
        then regularizer(w) of each trainable weight w that has a regularizer."""
        penalties = [penalty for layer in self._flat_layers() for penalty in getattr(layer, "_activity_losses", ())]
        for weight in self.trainable_weights:
            regularizer = getattr(weight, "regularizer", None)
            if regularizer is not None:
                penalties.append(regularizer(weight))
        return penalties

    def record_activity(self, outputs):
        """Keep activity_regularizer(output) / batch size for each output Tensor, for `losses`; return outputs."""
        if self.activity_regularizer is not None:
            for output in outputs if isinstance(outputs, list | tuple) else [outputs]:
                if isinstance(output, Tensor):
                    penalty = self.activity_regularizer(output)
                    self._activity_losses.append(penalty / output.shape[0] if output.ndim else penalty)
                    _holding.add(self)
        return outputs

    def _flat_layers(self):
        """This layer and every layer inside it, each once."""
        layers, seen = [self], {id(self)}
        for layer in layers:
            for inner in layer.sublayers():
                if id(inner) not in seen:
                    seen.add(id(inner))
                    layers.append(inner)
        return layers

    @property
    def weights(self):
        return [w for w, _ in self._weights]

    @property
    def trainable_weights(self):
        return [w for w, trainable in self._weights if trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w, trainable in self._weights if not (trainable and self.trainable)]

    def get_weights(self):
        """Copies of the weights as NumPy arrays, in the order of `weights`: a layer's in creation order, a
        model's layer by layer in Keras' order (so `set_weights(keras_model.get_weights())` fits)."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, values):
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"{self.name}.set_weights: expected {len(weights)} arrays "
                             f"{[w.shape for w in weights]}; received {len(values)}")
        for weight, value in zip(weights, values):
            value = np.asarray(value)
            if value.shape != weight.shape:
                raise ValueError(f"{self.name}.set_weights: {weight.name} has shape {weight.shape}; "
                                 f"received {value.shape}")
        for weight, value in zip(weights, values):
            weight.data[...] = value

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


def window_field(field, window):
    """The receptive field after a window (kernel, strides, dilation, padding pairs), by the formulas in
    Layer.receptive_field."""
    kernel, strides, dilation, pads = window
    result = []
    for (size, jump, start), k, s, d, (before, _) in zip(field, kernel, strides, dilation, pads):
        span = d * (k - 1)
        result.append((size + span * jump, jump * s, start + (span / 2 - before) * jump))
    return tuple(result)


def _spatial(shape):
    """The spatial axes of a channels-last shape (None for a list of shapes)."""
    return None if isinstance(shape, list) else tuple(shape[1:-1])


def symbolic_output_shape(layer, input_shape):
    """layer.compute_output_shape, also for inputs of varying size (None beyond the batch axis, as
    Input(shape=(None, None, 3))): the shape is computed for two probe sizes in place of each None, and an
    output size that differs between them is None (it follows the input's size), one that does not is kept."""
    if not _has_unknown_size(input_shape):
        return layer.compute_output_shape(input_shape)
    first, second = (layer.compute_output_shape(_probe(input_shape, size)) for size in _PROBE_SIZES)
    return _merge_probes(first, second)


_PROBE_SIZES = (96, 113)


def _has_unknown_size(shape):
    if isinstance(shape, list):
        return any(_has_unknown_size(s) for s in shape)
    return any(d is None for d in shape[1:])


def _probe(shape, size):
    if isinstance(shape, list):
        return [_probe(s, size) for s in shape]
    return (shape[0], *(size if d is None else d for d in shape[1:]))


def _merge_probes(first, second):
    if isinstance(first, list):
        return [_merge_probes(a, b) for a, b in zip(first, second)]
    return tuple(a if a == b else None for a, b in zip(first, second))


@functools.cache
def _takes_training(cls):
    """Whether cls.call accepts a `training` argument (by name or through **kwargs)."""
    parameters = inspect.signature(cls.call).parameters.values()
    return any(p.name == "training" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


@contextmanager
def call_scope(layer):
    """Keras' call context: the outermost layer call of a forward pass first forgets the activity penalties of
    the previous pass (its own and those of the layers inside); nested calls add to them."""
    depth = _enter_call(layer)
    try:
        yield
    finally:
        _calls.depth = depth


def _enter_call(layer):
    """Enter a call of `layer` in this thread (`call_scope`): returns the depth to restore when it ends.

    Only layers with an activity regularizer ever hold penalties (`record_activity`), and each that holds some is
    in `_holding` until forgotten: while none is, the outermost call has nothing to forget and skips the walk
    over the layers inside (a ResNet's seventy)."""
    depth = getattr(_calls, "depth", 0)
    if depth == 0 and _holding:
        for inner in layer._flat_layers():
            inner._activity_losses = []
            _holding.discard(inner)
    _calls.depth = depth + 1
    return depth


@contextmanager
def weight_allowance(nbytes):
    """Within the block, `add_weight` refuses (ValueError, before allocating) to create more than `nbytes` bytes
    of weights in all, in this thread. `load_model` builds a file's architecture so: a file cannot make striate
    allocate more weights than it holds (a Dense of 200,000 units named in a small file is refused)."""
    previous = getattr(_allowance, "left", None)
    _allowance.left = nbytes
    try:
        yield
    finally:
        _allowance.left = previous


def _spend_allowance(name, shape, dtype):
    left = getattr(_allowance, "left", None)
    if left is None:
        return
    dims = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not all(isinstance(d, numbers.Integral) and d >= 0 for d in dims):
        raise ValueError(f"add_weight: {name} would have shape {dims}; a shape is non-negative integers")
    nbytes = math.prod(int(d) for d in dims) * np.dtype(dtype).itemsize
    if nbytes > left:
        raise ValueError(f"add_weight: {name} of shape {dims} ({np.dtype(dtype)}) needs {nbytes:,} bytes, more "
                         f"than the {left:,} bytes of weights left to allocate")
    _allowance.left = left - nbytes


def _is_symbolic(inputs):
    if isinstance(inputs, list | tuple):
        return any(isinstance(x, SymbolicTensor) for x in inputs)
    return isinstance(inputs, SymbolicTensor)


def _shapes(inputs):
    """(None, *shape[1:]) of a batch, or a list of them."""
    if isinstance(inputs, list | tuple):
        return [_shapes(x) for x in inputs]
    return (None, *tuple(inputs.shape)[1:])
