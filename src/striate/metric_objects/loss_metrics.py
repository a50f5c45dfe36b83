"""Losses as metrics, as keras.metrics: the per-sample loss functions on NumPy arrays (keras.metrics.hinge,
keras.metrics.binary_crossentropy, ...), and the metric classes that average one of them over samples and
batches (keras.metrics.Hinge, keras.metrics.BinaryCrossentropy, ...).

Each function is striate.functional.per_sample_losses' function of the same name (the formulas are listed
there) evaluated on arrays: y_pred (N, ..., C) gives one value per sample and position, (N, ...), as a NumPy
array. Each class is MeanMetricWrapper(function): the weighted mean of those values over all batches.
"""

import numpy as np

from striate.functional import per_sample_losses as L
from striate.metric_objects.metric import Mean, MeanMetricWrapper, as_array


def numpy_function(loss):
    """`loss` (a per-sample loss of striate.functional.per_sample_losses) on NumPy values: its result's data."""

    def values(y_true, y_pred, **kwargs):
        return loss(y_true, np.asarray(y_pred), **kwargs).data

    values.__name__ = loss.__name__
    values.__doc__ = f"keras.metrics.{loss.__name__}: striate.functional.per_sample_losses.{loss.__name__} as NumPy."
    return values


mean_squared_error = numpy_function(L.mean_squared_error)
mean_absolute_error = numpy_function(L.mean_absolute_error)
mean_absolute_percentage_error = numpy_function(L.mean_absolute_percentage_error)
mean_squared_logarithmic_error = numpy_function(L.mean_squared_logarithmic_error)
huber = numpy_function(L.huber)
log_cosh = numpy_function(L.log_cosh)
kl_divergence = numpy_function(L.kl_divergence)
poisson = numpy_function(L.poisson)
hinge = numpy_function(L.hinge)
squared_hinge = numpy_function(L.squared_hinge)
categorical_hinge = numpy_function(L.categorical_hinge)
binary_crossentropy = numpy_function(L.binary_crossentropy)
categorical_crossentropy = numpy_function(L.categorical_crossentropy)
sparse_categorical_crossentropy = numpy_function(L.sparse_categorical_crossentropy)
binary_focal_crossentropy = numpy_function(L.binary_focal_crossentropy)
categorical_focal_crossentropy = numpy_function(L.categorical_focal_crossentropy)


class BinaryCrossentropy(MeanMetricWrapper):
    """mean(-(t log p + (1 - t) log(1 - p))) over the last axis, averaged over samples (p from logits with
    from_logits=True; labels smoothed towards 1/2 by label_smoothing)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(binary_crossentropy, name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """-sum(t log p) over `axis` for one-hot (or soft) labels, averaged over samples."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """-log p[label] for integer labels, averaged over samples. Elements labelled ignore_class have loss 0;
    as Keras, they still count in the mean without sample weights, and get weight 0 with them."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        super().__init__(sparse_categorical_crossentropy, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)

    def update_state(self, y_true, y_pred, sample_weight=None):
        losses = L.sparse_categorical_crossentropy(as_array(y_true), np.asarray(as_array(y_pred)), **self.fn_kwargs)
        mask = getattr(losses, L.MASK_ATTRIBUTE, None)
        if sample_weight is not None and mask is not None:
            weights = np.asarray(as_array(sample_weight), np.float64)
            weights = weights.reshape(weights.shape + (1,) * (mask.ndim - weights.ndim)) * mask
            sample_weight = weights
        Mean.update_state(self, losses.data, sample_weight)


class KLDivergence(MeanMetricWrapper):
    """sum(t log(t / p)) over the last axis (t and p clipped to [1e-7, 1]), averaged over samples."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name, dtype)


class Poisson(MeanMetricWrapper):
    """mean(p - t log(p + 1e-7)) over the last axis, averaged over samples."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name, dtype)


class Hinge(MeanMetricWrapper):
    """mean(max(1 - t p, 0)) over the last axis (0/1 labels read as -1/+1), averaged over samples."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name, dtype)


class SquaredHinge(MeanMetricWrapper):
    """mean(max(1 - t p, 0)^2) over the last axis (0/1 labels read as -1/+1), averaged over samples."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name, dtype)


class CategoricalHinge(MeanMetricWrapper):
    """max(max((1 - t) p) - sum(t p) + 1, 0) for one-hot labels, averaged over samples."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name, dtype)
