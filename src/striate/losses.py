"""Keras' `losses` module: Loss classes that reduce a batch to one number, and the per-sample functions.

    loss = striate.losses.CategoricalCrossentropy(label_smoothing=0.1)
    value = loss(y_true, y_pred, sample_weight=None)     # a scalar Tensor, differentiable in y_pred
    model.compile(optimizer="adam", loss="huber")         # or any name below

Each class wraps a function of striate.functional.per_sample_losses (where the formulas are), which gives one
value per sample; `__call__` then applies sample weights and the reduction, as Keras 3:

    "sum_over_batch_size" (default), "mean":  sum(w * l) / number of values
    "sum":                                    sum(w * l)
    "mean_with_sample_weight":                sum(w * l) / sum(w)
    None or "none":                           w * l, unreduced

A mask on the values (sparse_categorical_crossentropy's ignore_class, or a mask carried by y_pred) makes the
masked values count for nothing, also in the divisor. The lower-case names are the functions, as Keras
(`losses.mse(y_true, y_pred)` gives (N,)); `get("mse")` gives the class, which compile needs.
"""

import inspect

import numpy as np

from striate.core.tensor import Tensor, as_tensor
from striate.functional.per_sample_losses import (
    MASK_ATTRIBUTE,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    circle,
    cosine_similarity,
    ctc,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    same_rank,
    sparse_categorical_crossentropy,
    squared_hinge,
    tversky,
)

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base class: a subclass writes `call(y_true, y_pred)` -> per-sample values; `__call__` weights and reduces.

    Args:
        name: default the class name in snake case.
        reduction: one of REDUCTIONS (see the module docstring). Default "sum_over_batch_size".
        dtype: kept for Keras' config; the loss is computed in y_pred's dtype.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}; received {reduction!r}")
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        values = as_tensor(self.call(y_true, y_pred))
        masks = [m for m in (getattr(y_pred, MASK_ATTRIBUTE, None), getattr(values, MASK_ATTRIBUTE, None))
                 if m is not None and np.shape(m) == values.shape]
        mask = np.logical_and.reduce(masks) if masks else None
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss from a per-sample function `fn(y_true, y_pred, **kwargs)`; y_true and y_pred first meet at the
    same rank ((N,) labels against (N, 1) outputs, as Keras)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs
        for key, value in kwargs.items():  # readable as Keras' attributes: loss.from_logits, loss.label_smoothing
            setattr(self, key, value)

    def call(self, y_true, y_pred):
        y_true = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
        y_true, y_pred = same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


# Keras' loss classes, each its function's arguments (Keras' defaults), then reduction, name and dtype
class MeanSquaredError(LossFunctionWrapper):
    """mean((y_true - y_pred)^2) per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """mean(|y_true - y_pred|) per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """mean((log(1 + y_pred) - log(1 + y_true))^2) per sample (both at least 1e-7 first)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


class CosineSimilarity(LossFunctionWrapper):
    """-cos(angle between y_true and y_pred) along `axis`: -1 is best."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to `delta`, linear beyond (Huber 1964)."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """mean(log(cosh(y_pred - y_true))) per sample: about x^2 / 2 near 0, |x| - log 2 far."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)


class Hinge(LossFunctionWrapper):
    """mean(max(1 - y_true * y_pred, 0)), labels -1/+1 (0/1 converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


class SquaredHinge(LossFunctionWrapper):
    """mean(max(1 - y_true * y_pred, 0)^2), labels -1/+1 (0/1 converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


class CategoricalHinge(LossFunctionWrapper):
    """max(largest wrong-class score - true-class score + 1, 0) with one-hot y_true."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)


class KLDivergence(LossFunctionWrapper):
    """sum(y_true * log(y_true / y_pred)) per sample, both clipped to [1e-7, 1]."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


class Poisson(LossFunctionWrapper):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy of probabilities (or logits, from_logits=True), averaged over `axis`."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy scaled by (1 - p_t)^gamma, which down-weights easy examples (Lin et al. 2017)."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction, name, dtype, apply_class_balancing=apply_class_balancing,
                         alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with one-hot (or soft) targets along `axis`, of probabilities or logits."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy scaled by alpha (1 - p)^gamma per class (Lin et al. 2017)."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with integer labels; elements labelled `ignore_class` count for nothing."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


class CTC(LossFunctionWrapper):
    """Connectionist temporal classification of logits (N, T, C) against labels (N, L), 0 the blank."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction, name, dtype)


class Dice(LossFunctionWrapper):
    """1 - 2 sum(t p) / (sum(t) + sum(p) + eps) over `axis` (None: the whole batch at once)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction, name, dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """1 - TP / (TP + alpha FP + beta FN + eps) over `axis` (Salehi et al. 2017); alpha = beta = 0.5 is Dice."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(LossFunctionWrapper):
    """Circle loss of L2-normalized embeddings with integer labels, the batch against itself (Sun et al. 2020);
    only the samples with a loss above 0 count in the mean."""

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle",
                 dtype=None):
        super().__init__(circle, reduction, name, dtype, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """(1 - p[label]^q) / q with integer labels and probabilities, q in (0, 1) (Zhang & Sabuncu 2018)."""

    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must lie in (0, 1); received q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction, name, dtype, q=q)


CLASSES = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
           CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
           BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy,
           SparseCategoricalCrossentropy, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy, CTC)
# Keras' short names of the functions
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
BY_NAME = {cls.__name__: cls for cls in CLASSES}
BY_NAME.update({
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    "cosine_similarity": CosineSimilarity, "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh,
    "logcosh": LogCosh, "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence, "poisson": Poisson,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "binary_focal_crossentropy": BinaryFocalCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "dice": Dice, "tversky": Tversky, "circle": Circle, "ctc": CTC,
    "categorical_generalized_cross_entropy": CategoricalGeneralizedCrossEntropy,
})


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Keras' reduction of per-sample loss values (a Tensor): weights w (broadcast along the trailing axes of
    the values), a boolean mask (masked values weigh 0; with a mean, the others weigh total / counted so
    that the mean is over the counted values), then the reduction (see the module docstring)."""
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=values.dtype)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        scale = mask.size / max(int(mask.sum()), 1) if reduction in ("mean", "sum_over_batch_size") else 1.0
        mask_weights = mask.astype(values.dtype) * values.dtype.type(scale)
        weights = mask_weights if weights is None else mask_weights * _broadcastable(weights, mask.shape)
    if weights is not None:
        weights = _broadcastable(weights, values.shape)
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0 or values.size == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:  # the mask's weights count too
        divisor = float(np.sum(np.broadcast_to(weights, values.shape)))
    else:
        divisor = values.size
    return total / divisor if divisor else total * 0.0


def _broadcastable(weights, shape):
    """Sample weights (N,) or (N, 1) shaped to multiply values of `shape`: a last axis of 1 dropped or added as
    Keras does, then trailing axes of 1 appended."""
    if weights.ndim == len(shape) + 1 and weights.shape[-1] == 1:
        weights = weights[..., 0]
    if weights.ndim == len(shape) and weights.shape != tuple(shape) and weights.shape[-1] == 1 and len(shape) == 1:
        weights = weights.reshape(-1)
    return weights.reshape(weights.shape + (1,) * (len(shape) - weights.ndim))


def serialize(loss):
    """Keras' serialized form: {"module", "class_name", "config", "registered_name"}."""
    return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
            "registered_name": None}


def deserialize(config):
    """The Loss of a dict from `serialize` (or {"class_name", "config"})."""
    cls = BY_NAME.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None or not inspect.isclass(cls):
        raise ValueError(f"losses.deserialize: class_name must be one of {sorted(c.__name__ for c in CLASSES)}; "
                         f"received {config!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A Loss from a name (Keras' class or function names: "mse", "huber", "CategoricalCrossentropy", ...:
    default arguments), a dict from `serialize`, or a Loss or callable (returned as is)."""
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in BY_NAME:
            raise ValueError(f"loss: unknown {identifier!r}; expected one of {sorted(BY_NAME)} or a Loss")
        return BY_NAME[identifier]()
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"loss: expects a name, a dict from serialize() or a Loss; received {identifier!r}")


def _snake_case(name):
    import re

    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


__all__ = [
    "BCE", "KLD", "MAE", "MAPE", "MSE", "MSLE", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CTC",
    "CategoricalCrossentropy", "CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy",
    "CategoricalHinge", "Circle", "CosineSimilarity", "Dice", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss",
    "LossFunctionWrapper", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky", "bce",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_generalized_cross_entropy", "categorical_hinge", "circle",
    "cosine_similarity", "ctc", "deserialize", "dice", "get", "hinge", "huber", "kl_divergence", "kld", "log_cosh",
    "mae", "mape", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "poisson", "serialize", "sparse_categorical_crossentropy",
    "squared_hinge", "tversky",
]
