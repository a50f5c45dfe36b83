"""Projections applied to a weight after every optimizer step, as keras.constraints.

A layer given `kernel_constraint=`, `bias_constraint=`, ... attaches the constraint to that weight
(`Layer.add_weight(constraint=...)`); after each update, the optimizer replaces the weight w by
`constraint(w)`. A constraint maps an array to an array of the same shape (NumPy in, NumPy out; no gradient
flows through it). Norms are taken over `axis` (an int or a list of them), kept for broadcasting:

    MaxNorm(max_value=2, axis=0)       w * clip(n, 0, max_value) / (1e-7 + n),   n = ||w|| over axis
    NonNeg()                           max(w, 0)
    UnitNorm(axis=0)                   w / (1e-7 + n)
    MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0)
                                       w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (1e-7 + n)

For a Dense kernel (C_in, units), axis=0 bounds the weights into each unit; for a Conv2D kernel
(kh, kw, C_in, filters), axis=[0, 1, 2] bounds each filter (Srivastava et al. 2014 use max-norm with dropout).

    layer = striate.layers.Dense(64, kernel_constraint=MaxNorm(3))    # or kernel_constraint="max_norm"

    >>> NonNeg()(np.array([-1.0, 2.0]))
    array([0., 2.])
"""

import inspect

import numpy as np

NORM_EPSILON = 1e-7  # Keras' backend.epsilon()


class Constraint:
    """Base class: `__call__(w) -> w` projected (here unchanged); `get_config()` / `from_config()` rebuild it."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Scales each slice along `axis` down to norm `max_value` if it is longer (Hinton et al. 2012's max-norm)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        return w * (np.clip(norms, 0, self.max_value) / (NORM_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0): weights stay non-negative."""

    def __call__(self, w):
        return np.maximum(np.asarray(w), 0)


class UnitNorm(Constraint):
    """Each slice along `axis` divided by its norm (+ 1e-7)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (NORM_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's norm n along `axis` to rate * clip(n, min_value, max_value) + (1 - rate) * n.

    rate=1 enforces [min_value, max_value] at once; a smaller rate moves towards it step by step.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (NORM_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# the lower-case names are the classes themselves, as in Keras
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

CLASSES = (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
BY_NAME = {cls.__name__: cls for cls in CLASSES}
BY_NAME.update({"constraint": Constraint, "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                "min_max_norm": MinMaxNorm})


def serialize(constraint):
    """Keras' serialized form: {"module", "class_name", "config", "registered_name"}; None for None."""
    if constraint is None:
        return None
    return {"module": "keras.constraints", "class_name": type(constraint).__name__,
            "config": constraint.get_config(), "registered_name": None}


def config_of(layer, *weights):
    """{"<weight>_constraint": serialize(layer.<weight>_constraint)} for each weight name ("kernel", "bias", ...): the
    entries of a layer's get_config, as Keras writes them (None where there is none)."""
    return {f"{weight}_constraint": serialize(getattr(layer, f"{weight}_constraint")) for weight in weights}


def deserialize(config):
    """The constraint of a dict from `serialize` (or {"class_name", "config"})."""
    cls = BY_NAME.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"constraints.deserialize: class_name must be one of "
                         f"{sorted(c.__name__ for c in CLASSES)}; received {config!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """None, a constraint (or any callable, returned as is), a name ("max_norm", "non_neg", "unit_norm",
    "MaxNorm", ...: default arguments) or a dict from `serialize`."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in BY_NAME:
            raise ValueError(f"constraints.get: unknown name; expected one of {sorted(BY_NAME)}; "
                             f"received {identifier!r}")
        return BY_NAME[identifier]()
    if callable(identifier):
        return identifier() if inspect.isclass(identifier) else identifier
    raise ValueError(f"constraints.get: expects None, a name, a dict or a callable; received {identifier!r}")


def _norms(w, axis):
    """||w|| over `axis` (an int or a list), with the reduced axes kept."""
    axis = tuple(axis) if isinstance(axis, list | tuple) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]
