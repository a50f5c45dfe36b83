"""Regression and probabilistic metrics, as keras.metrics: the mean over samples of a per-sample loss
(striate.functional.per_sample_losses), and RootMeanSquaredError = sqrt(weighted mean of squared errors)."""

import numpy as np

from striate.functional import per_sample_losses as L
from striate.metric_objects.metric import Mean, MeanMetricWrapper, as_array


def _per_sample(fn):
    """A per-sample loss on NumPy values (its result's data)."""

    def values(y_true, y_pred, **kwargs):
        return fn(y_true, np.asarray(y_pred), **kwargs).data

    values.__name__ = fn.__name__
    return values


class MeanSquaredError(MeanMetricWrapper):
    """mean((y_true - y_pred)^2) per sample, averaged over samples."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_per_sample(L.mean_squared_error), name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """mean(|y_true - y_pred|) per sample, averaged over samples."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_per_sample(L.mean_absolute_error), name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) per sample, averaged over samples."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(_per_sample(L.mean_absolute_percentage_error), name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """mean((log(1 + y_pred) - log(1 + y_true))^2) per sample, averaged over samples."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(_per_sample(L.mean_squared_logarithmic_error), name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """cos(angle between y_true and y_pred) along `axis` (1 is best; the loss is its negative)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine, name, dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """mean(log(cosh(y_pred - y_true))) per sample, averaged over samples."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(_per_sample(L.log_cosh), name, dtype)


class RootMeanSquaredError(Mean):
    """sqrt(sum(w * (y_pred - y_true)^2) / sum(w)) over all batches (the root of the mean, not a mean of roots)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = L.same_rank(np.asarray(as_array(y_true), np.float64), np.asarray(as_array(y_pred),
                                                                                          np.float64))
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


def _cosine(y_true, y_pred, axis=-1):
    return -_per_sample(L.cosine_similarity)(y_true, y_pred, axis=axis)
