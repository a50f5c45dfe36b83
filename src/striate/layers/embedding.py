"""Embedding (integer tokens -> vectors) and Masking, and how a mask of padded steps travels between layers.

A mask is a boolean array (N, T), True at real steps. As in Keras, the layer that knows which steps are
padding (Embedding with mask_zero=True, Masking) attaches it to its output Tensor; the recurrent layers,
Bidirectional and TimeDistributed read it from their input (or from an explicit `mask=` argument) and
pass it on when they return sequences. Any other layer drops it, as a Keras layer without mask support.
"""

import numpy as np

from striate import constraints, regularizers
from striate.core.tensor import Tensor
from striate.data.labels import whole_numbers
from striate.layers.layer import Layer, _is_symbolic, call_scope
from striate.ops.embedding import embedding

MASK_ATTRIBUTE = "_keras_mask"


def attach_mask(tensor, mask):
    """Return `tensor` carrying `mask` (boolean (N, T)) for the next layers; None removes it."""
    setattr(tensor, MASK_ATTRIBUTE, None if mask is None else np.asarray(mask, dtype=bool))
    return tensor


def mask_of(tensor):
    """The mask carried by `tensor`, or None."""
    return getattr(tensor, MASK_ATTRIBUTE, None)


class Embedding(Layer):
    """Looks up a row of a (input_dim, output_dim) table for each integer token, as keras.layers.Embedding.

    Shape:
        input (N, T) integers in [0, input_dim); output (N, T, output_dim).

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        embeddings_initializer: Keras' default "uniform" is U(-0.05, 0.05).
        mask_zero: if True, index 0 is padding: the output carries the mask `inputs != 0` and index 0 is not
            a word (so input_dim must count it).

    >>> Embedding(1000, 64, mask_zero=True)(np.array([[5, 7, 0, 0]])).shape
    (1, 4, 64)
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, dtype=None, **options):
        super().__init__(**options)
        if int(input_dim) < 1 or int(output_dim) < 1:
            raise ValueError(f"{self.name}: input_dim and output_dim must be positive; received "
                             f"input_dim={input_dim}, output_dim={output_dim}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.dtype = np.dtype(dtype or np.float32)

    def build(self, input_shape):
        from striate.layers.initializers import RandomUniform

        initializer = RandomUniform(-0.05, 0.05) if self.embeddings_initializer == "uniform" \
            else self.embeddings_initializer
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim), initializer,
                                          dtype=self.dtype, regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def __call__(self, inputs, training=False):
        if _is_symbolic(inputs):
            return super().__call__(inputs, training=training)
        indices = self._check_indices(inputs)  # before Layer.__call__ would turn them into float32
        self.ensure_built((None, *indices.shape[1:]))
        with call_scope(self):
            return self.record_activity(self.call(indices, training=training))

    def call(self, inputs, training=False):
        indices = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs).astype(np.int64, copy=False)
        return attach_mask(embedding(indices, self.embeddings), indices != 0 if self.mask_zero else None)

    def _check_indices(self, inputs):
        values = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
        if values.dtype == object:
            raise ValueError(f"{self.name}: received sequences of different lengths; pad them to one length "
                             "with striate.layers.pad_sequences and use mask_zero=True")
        indices = whole_numbers(self.name, "token indices", values)
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim):
            bad = indices[(indices < 0) | (indices >= self.input_dim)].flat[0]
            raise IndexError(f"{self.name}: token index {bad} is out of range for input_dim={self.input_dim} "
                             f"(valid indices 0..{self.input_dim - 1}); received indices from {indices.min()} "
                             f"to {indices.max()}")
        return indices

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def weight_shapes(self, input_shape):
        return [((self.input_dim, self.output_dim), True)]

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "mask_zero": self.mask_zero, **regularizers.config_of(self, "embeddings"),
                **constraints.config_of(self, "embeddings")}


class Masking(Layer):
    """Marks steps whose features all equal `mask_value` as padding, as keras.layers.Masking.

    Shape: input (N, T, ...) -> the same values (padded steps set to 0, as Keras), carrying the mask (N, T).
    """

    def __init__(self, mask_value=0.0, **options):
        super().__init__(**options)
        self.mask_value = float(mask_value)

    def call(self, inputs, training=False):
        if inputs.ndim < 3:
            raise ValueError(f"{self.name}: needs (N, T, features); received shape {inputs.shape}")
        feature_axes = tuple(range(2, inputs.ndim))
        mask = np.any(inputs.data != self.mask_value, axis=feature_axes)
        keep = mask.reshape(*mask.shape, *(1,) * len(feature_axes))
        return attach_mask(inputs * keep.astype(inputs.dtype), mask)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
