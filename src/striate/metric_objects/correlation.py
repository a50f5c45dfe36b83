"""Correlation metrics, as keras.metrics: Pearson's and Lin's concordance correlation along an axis (one
value per sample), and their means over samples and batches.

    pearson_correlation      r  = mean(zt * zp),  zt = (t - mean t) / std t,  zp = (p - mean p) / std p
    concordance_correlation  rc = mean(2 (t - mean p)(p - mean p)) / (var t + var p + (mean t - mean p)^2 + eps)

(population std and var along `axis`; eps = 1e-7). Lin's coefficient (Lin 1989) has (t - mean t) in the
covariance: Keras 3.15 writes (t - mean p), and striate follows Keras so that the values agree.
"""

import numpy as np

from striate.functional.per_sample_losses import EPSILON, same_rank
from striate.metric_objects.metric import MeanMetricWrapper, as_array


def _operands(y_true, y_pred):
    y_pred = np.asarray(as_array(y_pred))
    y_pred = y_pred.astype(np.float32) if y_pred.dtype.kind != "f" else y_pred
    return same_rank(np.asarray(as_array(y_true), y_pred.dtype), y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's r along `axis`: (N, D) gives (N,)."""
    y_true, y_pred = _operands(y_true, y_pred)
    true_centred = y_true - np.mean(y_true, axis=axis, keepdims=True)
    pred_centred = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    true_scaled = true_centred / np.std(true_centred, axis=axis, keepdims=True)
    pred_scaled = pred_centred / np.std(pred_centred, axis=axis, keepdims=True)
    return np.mean(true_scaled * pred_scaled, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along `axis` as Keras computes it (module docstring): (N, D) gives (N,)."""
    y_true, y_pred = _operands(y_true, y_pred)
    true_mean = np.mean(y_true, axis=axis, keepdims=True)
    pred_mean = np.mean(y_pred, axis=axis, keepdims=True)
    true_var = np.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = np.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + np.square(true_mean - pred_mean)
    return np.mean(2 * covariance / (norm + EPSILON), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Pearson's r along `axis` per sample, averaged over samples."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name, dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """Lin's concordance correlation along `axis` per sample (as Keras computes it), averaged over samples."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name, dtype, axis=axis)
