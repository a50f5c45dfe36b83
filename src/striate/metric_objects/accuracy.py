"""Accuracy metrics, as keras.metrics: a function giving 1 or 0 per sample, and its mean over batches.

    accuracy                      y_true == y_pred elementwise
    binary_accuracy               y_true == (y_pred > threshold)
    categorical_accuracy          argmax(y_true) == argmax(y_pred)            (one-hot labels)
    sparse_categorical_accuracy   y_true == argmax(y_pred)                    (integer labels (N,) or (N, 1))
    top_k_categorical_accuracy    argmax(y_true) is among the k highest scores (ties count as in, as Keras)
    sparse_top_k_categorical_accuracy   y_true is among the k highest scores
"""

import numpy as np

from striate.functional.per_sample_losses import same_rank
from striate.metric_objects.metric import MeanMetricWrapper


def accuracy(y_true, y_pred):
    y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
    return (y_true == (y_pred > threshold)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """With from_sorted_ids=True, y_pred holds class ids sorted by score (N, >= k) instead of scores."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if from_sorted_ids:
        return np.any(y_pred[..., :k] == y_true[..., None], axis=-1).astype(np.float32)
    labels = y_true.astype(np.int64)
    target_scores = np.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]
    k = min(k, y_pred.shape[-1])
    kth_largest = -np.partition(-y_pred, k - 1, axis=-1)[..., k - 1]
    return (target_scores >= kth_largest).astype(np.float32)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true (elementwise)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the 0/1 label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is the one-hot label's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the k highest scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest scores."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k, from_sorted_ids=from_sorted_ids)

    def get_config(self):  # as Keras: from_sorted_ids only when set
        config = super().get_config()
        if not config["from_sorted_ids"]:
            del config["from_sorted_ids"]
        return config
