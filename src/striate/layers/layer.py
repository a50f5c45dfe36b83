"""`Layer`: owns weights and calls functions of striate.functional; it never writes a gradient.

A layer is built once, from `input_shape=` or from the first input it sees: `build(input_shape)` creates
its weights with `add_weight`. Calling it on a Tensor runs `call`; calling it on a `SymbolicTensor`
(from `striate.Input`) records a node of a functional model instead and returns a SymbolicTensor.

Shapes include the batch axis as None: (None, 28, 28, 1).
"""

import math
import numbers
import re
import threading
from collections import defaultdict
from contextlib import contextmanager

import numpy as np

from striate.core.tensor import Tensor, as_tensor
from striate.layers import initializers

_name_counts: dict[str, int] = defaultdict(int)
_allowance = threading.local()  # .left: bytes add_weight may still allocate (None: no limit)


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
    def __init__(self, name=None, input_shape=None, trainable=True):
        self.name = name or unique_name(type(self).__name__)
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

    def get_config(self):
        """Constructor arguments as JSON-able values, so the layer can be rebuilt."""
        return {"name": self.name, "trainable": self.trainable}

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
        if _is_symbolic(inputs):
            shape = _shapes(inputs)
            self.ensure_built(shape)
            return SymbolicTensor(self.compute_output_shape(shape), layer=self,
                                  inputs=inputs if isinstance(inputs, list | tuple) else (inputs,))
        if isinstance(inputs, list | tuple):
            inputs = [as_tensor(x) for x in inputs]
        else:
            inputs = as_tensor(inputs)
        self.ensure_built(_shapes(inputs))
        return self.call(inputs, training=training)

    def ensure_built(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.input_shape = input_shape
            self.output_shape = self.compute_output_shape(input_shape)
            self.built = True

    def add_weight(self, name, shape, initializer="glorot_uniform", trainable=True, dtype=np.float32):
        _spend_allowance(f"{self.name}/{name}", shape, dtype)
        values = initializers.get(initializer)(shape, dtype=dtype)
        weight = Tensor(values, requires_grad=trainable)
        weight.name = f"{self.name}/{name}"
        self._weights.append((weight, trainable))
        return weight

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
