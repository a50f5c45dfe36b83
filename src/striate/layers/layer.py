"""`Layer`: owns weights and calls functions of striate.functional; it never writes a gradient.

A layer is built once, from `input_shape=` or from the first input it sees: `build(input_shape)` creates
its weights with `add_weight`. Calling it on a Tensor runs `call`; calling it on a `SymbolicTensor`
(from `striate.Input`) records a node of a functional model instead and returns a SymbolicTensor.

Shapes include the batch axis as None: (None, 28, 28, 1).
"""

import re
from collections import defaultdict

import numpy as np

from striate.core.tensor import Tensor, as_tensor
from striate.layers import initializers

_name_counts: dict[str, int] = defaultdict(int)


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
        self.trainable = trainable
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
        """Copies of the weights as NumPy arrays, in creation order."""
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


def _is_symbolic(inputs):
    if isinstance(inputs, list | tuple):
        return any(isinstance(x, SymbolicTensor) for x in inputs)
    return isinstance(inputs, SymbolicTensor)


def _shapes(inputs):
    """(None, *shape[1:]) of a batch, or a list of them."""
    if isinstance(inputs, list | tuple):
        return [_shapes(x) for x in inputs]
    return (None, *tuple(inputs.shape)[1:])
