"""`Metric`: Keras' stateful metric protocol, and the reducing metrics Mean, Sum and MeanMetricWrapper.

A metric accumulates over batches and reports at the end, as keras.metrics:

    metric.update_state(y_true, y_pred, sample_weight=None)   # once per batch
    metric.result()                                           # a float (or an array) over all batches so far
    metric.reset_state()                                      # forget them (Keras calls it each epoch)

State is kept in float64 NumPy scalars and arrays; inputs may be NumPy arrays or striate Tensors (read as data).
"""

import numpy as np

from striate.core.tensor import Tensor


class Metric:
    """Base class: a subclass writes update_state, result and reset_state (called by __init__)."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = dtype or "float32"

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """Keras' stateless use: update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Sum(Metric):
    """The weighted sum of all values: total += sum(w * values)."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values, _ = samplewise(values, sample_weight, np.sum)
        self.total += float(np.sum(values))

    def result(self):
        return self.total

    def reset_state(self):
        self.total = 0.0


class Mean(Metric):
    """The weighted mean over samples: values of a sample with more axes are first averaged over them;
    total += sum(w * values), count += sum(w) (the number of samples without weights); result total / count
    (0 before any)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values, weights = samplewise(values, sample_weight, np.mean)
        self.total += float(np.sum(values))
        self.count += float(np.sum(weights)) if weights is not None else (len(values) if values.ndim else 1)

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total, self.count = 0.0, 0.0


class MeanMetricWrapper(Mean):
    """The mean over samples of `fn(y_true, y_pred, **kwargs)`, a function giving one value per sample."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.fn(as_array(y_true), as_array(y_pred), **self.fn_kwargs)
        super().update_state(as_array(values), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


def samplewise(values, sample_weight, reduce):
    """Keras' reduce_to_samplewise_values: (values reduced to one per sample and multiplied by the weights,
    the weights reduced to one per sample) — weights (N,) or (N, 1) meet values (N, ...) as losses do."""
    values = np.asarray(as_array(values), dtype=np.float64)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(as_array(sample_weight), dtype=np.float64)
        if values.ndim == weights.ndim + 1 and values.shape[-1] == 1:
            values = values[..., 0]
        elif weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
            weights = weights[..., 0]
        if values.ndim > weights.ndim:
            values = reduce(values, axis=tuple(range(weights.ndim, values.ndim)))
        weights = np.broadcast_to(weights, values.shape)
        values = values * weights
        if weights.ndim > 1:
            weights = reduce(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, weights


def as_array(value):
    """A Tensor's data, or np.asarray(value)."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _snake_case(name):
    import re

    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
