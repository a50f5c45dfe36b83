"""Losses, each reduced to one number by the mean over the batch (as Keras' and PyTorch's defaults)."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.tensor import Tensor, as_tensor
from striate.core.types import Shape
from striate.functional.arguments import check_numeric
from striate.ops import abs, clip, exp, log, log_softmax, maximum

PROBABILITY_EPSILON = 1e-7  # Keras' clip for losses computed from probabilities


def cross_entropy(y_pred: ArrayLike, labels: ArrayLike, from_logits: bool = True) -> Tensor:
    """Categorical cross-entropy, -mean over the batch of sum_c y[n, c] log p[n, c].

    Args:
        y_pred: (N, C) logits (from_logits=True; log-softmax is taken stably) or probabilities
            (from_logits=False; clipped to [1e-7, 1 - 1e-7] as Keras).
        labels: (N,) integer classes, or (N, C) one-hot / soft targets.
    """
    op = "cross_entropy"
    check_numeric(op, "y_pred", y_pred)
    y_pred = as_tensor(y_pred)
    targets = _targets(op, labels, y_pred.shape, y_pred.dtype)
    if from_logits:
        log_probabilities = log_softmax(y_pred, axis=-1)
    else:
        log_probabilities = log(clip(y_pred, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON))
    return -(log_probabilities * targets).sum(axis=-1).mean()


def _targets(op: str, labels: ArrayLike, prediction_shape: Shape, dtype: np.dtype) -> NDArray[Any]:
    labels = np.asarray(labels)
    if len(prediction_shape) != 2:
        raise ValueError(f"{op}: y_pred must be (N, C); received shape {prediction_shape}")
    batch, classes = prediction_shape
    if labels.shape == (batch,):
        if labels.dtype.kind not in "iu" and not np.array_equal(labels, np.round(labels)):
            raise TypeError(f"{op}: integer labels must be whole numbers; received dtype {labels.dtype}")
        labels = labels.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(f"{op}: labels must lie in [0, {classes}) for {classes} classes; received values "
                             f"from {labels.min()} to {labels.max()}")
        return np.eye(classes, dtype=dtype)[labels]
    if labels.shape == (batch, classes):
        return labels.astype(dtype)
    raise ValueError(f"{op}: labels must be ({batch},) integers or ({batch}, {classes}) one-hot for y_pred of "
                     f"shape {prediction_shape}; received shape {labels.shape}")


def binary_cross_entropy(y_pred: ArrayLike, targets: ArrayLike, from_logits: bool = False) -> Tensor:
    """-mean(t log p + (1 - t) log(1 - p)) over all elements.

    From logits z it is computed as max(z, 0) - z t + log(1 + e^-|z|), which never overflows; from
    probabilities, p is clipped to [1e-7, 1 - 1e-7] first (Keras).
    """
    op = "binary_cross_entropy"
    check_numeric(op, "y_pred", y_pred)
    check_numeric(op, "targets", targets)
    y_pred = as_tensor(y_pred)
    targets = np.asarray(targets, dtype=y_pred.dtype)
    if targets.shape != y_pred.shape:
        raise ValueError(f"{op}: targets {targets.shape} and y_pred {y_pred.shape} must have the same shape")
    if from_logits:
        return (maximum(y_pred, 0.0) - y_pred * targets + log(1 + exp(-abs(y_pred)))).mean()
    p = clip(y_pred, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    return -(targets * log(p) + (1 - targets) * log(1 - p)).mean()


def mse(y_pred: ArrayLike, y_true: ArrayLike) -> Tensor:
    """Mean squared error over all elements: mean((y_pred - y_true)^2)."""
    check_numeric("mse", "y_pred", y_pred)
    y_pred = as_tensor(y_pred)
    if np.shape(y_true) != y_pred.shape:
        raise ValueError(f"mse: y_true {np.shape(y_true)} and y_pred {y_pred.shape} must have the same shape")
    difference = y_pred - y_true
    return (difference * difference).mean()
