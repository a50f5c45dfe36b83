"""Weight penalties added to the training loss, as keras.regularizers.

A regularizer is a function of one weight (or one layer output) returning a scalar Tensor, differentiable
through striate's autodiff. A layer given `kernel_regularizer=`, `bias_regularizer=`, ... attaches it to that
weight (`Layer.add_weight(regularizer=...)`); `activity_regularizer=` applies it to the layer's output,
divided by the batch size. `layer.losses` / `model.losses` list the penalties of the current weights, and
training adds their sum to the loss.

    L1(l1)           l1 * sum(|w|)                       "l1": l1 = 0.01
    L2(l2)           l2 * sum(w^2)                       "l2": l2 = 0.01
    L1L2(l1, l2)     l1 * sum(|w|) + l2 * sum(w^2)       "l1_l2": l1 = l2 = 0
    OrthogonalRegularizer(factor, mode)   factor * mean |<u_i, u_j>| / 2 over pairs of distinct unit rows
                                          (or columns) u of a 2-D weight

    layer = striate.layers.Dense(5, kernel_regularizer=L2(0.01))     # or kernel_regularizer="l2"

    >>> float(L2(0.5)(np.array([[1.0, 2.0]])).item())                 # 0.5 * (1 + 4)
    2.5
"""

import inspect
import math
import numbers

import numpy as np

from striate.core.tensor import as_tensor
from striate.ops import abs, maximum, sqrt

NORM_EPSILON = 1e-7  # Keras' backend.epsilon(): the least norm a vector is divided by


class Regularizer:
    """Base class: `__call__(x) -> scalar`; `get_config()` gives the constructor arguments, `from_config` inverts it."""

    def __call__(self, x):
        return as_tensor(0.0)

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2), l1, l2 >= 0 (defaults 0 and 0, as Keras: pass the one you want)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("L1L2", "l1", 0.0 if l1 is None else l1)
        self.l2 = _factor("L1L2", "l2", 0.0 if l2 is None else l2)

    def __call__(self, x):
        x = as_tensor(x)
        penalty = as_tensor(np.zeros((), x.dtype))
        if self.l1:
            penalty = penalty + abs(x).sum() * self.l1
        if self.l2:
            penalty = penalty + (x * x).sum() * self.l2
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """l1 * sum(|x|), l1 >= 0 (default 0.01)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, x):
        return abs(as_tensor(x)).sum() * self.l1

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x^2), l2 >= 0 (default 0.01). Its gradient 2 * l2 * x is what SGD's coupled weight decay adds."""

    def __init__(self, l2=0.01):
        self.l2 = _factor("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, x):
        x = as_tensor(x)
        return (x * x).sum() * self.l2

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode="rows") or columns (mode="columns") of a 2-D weight towards orthogonality.

    With u_i the rows (columns) scaled to unit norm (norms below 1e-7 count as 1e-7) and n of them:

        penalty = factor * 0.5 * sum_{i != j} |<u_i, u_j>| / (n (n - 1) / 2)

    Args:
        factor: >= 0. Default 0.01.
        mode: "rows" or "columns". Default "rows".
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns'; received {mode!r}")
        self.mode = mode

    def __call__(self, x):
        x = as_tensor(x)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: the input must have rank 2; received shape {x.shape}")
        vectors = x if self.mode == "rows" else x.T
        units = vectors / maximum(sqrt((vectors * vectors).sum(axis=1, keepdims=True)), NORM_EPSILON)
        count = vectors.shape[0]
        off_diagonal = 1 - np.eye(count, dtype=x.dtype)
        pairs = count * (count - 1) / 2
        return abs((units @ units.T) * off_diagonal).sum() * (self.factor * 0.5 / pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# the lower-case names are the classes themselves, as in Keras (keras.regularizers.l1_l2 is L1L2, whose
# defaults are l1 = l2 = 0)
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer


CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
BY_NAME = {cls.__name__: cls for cls in CLASSES}
BY_NAME.update({"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer,
                "regularizer": Regularizer})


def serialize(regularizer):
    """Keras' serialized form: {"module", "class_name", "config", "registered_name"}; None for None."""
    if regularizer is None:
        return None
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}


def config_of(layer, *weights):
    """{"<weight>_regularizer": serialize(layer.<weight>_regularizer)} for each weight name ("kernel", "bias", ...): the
    entries of a layer's get_config, as Keras writes them (None where there is none)."""
    return {f"{weight}_regularizer": serialize(getattr(layer, f"{weight}_regularizer")) for weight in weights}


def deserialize(config):
    """The regularizer of a dict from `serialize` (or {"class_name", "config"})."""
    cls = BY_NAME.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None or not inspect.isclass(cls):
        raise ValueError(f"regularizers.deserialize: class_name must be one of "
                         f"{sorted(c.__name__ for c in CLASSES)}; received {config!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """None, a regularizer (or any callable, returned as is), a name ("l1", "l2", "l1_l2", "L1", ...: default
    arguments) or a dict from `serialize`."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in BY_NAME:  # Keras spells L1L2's snake-case name "l1l2"; its docs say "l1_l2"
            raise ValueError(f"regularizers.get: unknown name; expected one of {sorted(BY_NAME)}; "
                             f"received {identifier!r}")
        return BY_NAME[identifier]()
    if callable(identifier):
        return identifier() if inspect.isclass(identifier) else identifier
    raise ValueError(f"regularizers.get: expects None, a name, a dict or a callable; received {identifier!r}")


def _factor(owner, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < math.inf:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0; received {name}={value!r}")
    return float(value)


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2",
           "orthogonal_regularizer", "serialize"]
