"""F-scores of multi-label (or one-hot) predictions, as keras.metrics.FBetaScore and F1Score.

A score counts as "predicted" where y_pred > threshold, or, with threshold None, where it is its row's
highest (and not ~0). Per class c, over all batches, with sample weights w (one per row):

    TP_c = sum w [pred, y = 1]    FP_c = sum w [pred, y = 0]    FN_c = sum w [not pred, y = 1]
    precision = TP / (TP + FP + eps)      recall = TP / (TP + FN + eps)      (eps = 1e-7)
    F_beta = (1 + beta^2) precision recall / (beta^2 precision + recall + eps)

average: None gives F_beta per class (C,); "micro" sums the counts over classes first; "macro" is the mean
of the per-class scores; "weighted" their mean weighted by each class's (weighted) number of true labels.
F1 is beta = 1 (van Rijsbergen 1979).
"""

import numpy as np

from striate.functional.per_sample_losses import EPSILON
from striate.metric_objects.metric import Metric, as_array

AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """F_beta of thresholded multi-label predictions (module docstring).

    Args:
        average: None, "micro", "macro" or "weighted".
        beta: > 0, a float: recall counts beta times as much as precision.
        threshold: a float in (0, 1], or None: each row's highest score is the prediction.

    Shape:
        y_true (N, C) 0/1 labels, y_pred (N, C) scores, sample_weight (N,).
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        name_of = type(self).__name__
        if average not in AVERAGES:
            raise ValueError(f"{name_of}: average must be one of {AVERAGES}; received {average!r}")
        if not isinstance(beta, float) or beta <= 0:
            raise ValueError(f"{name_of}: beta must be a float > 0; received {beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or not 0 < threshold <= 1):
            raise ValueError(f"{name_of}: threshold must be None or a float in (0, 1]; received {threshold!r}")
        super().__init__(name, dtype)
        self.average, self.beta, self.threshold = average, beta, threshold
        self.reset_state()

    def reset_state(self):
        self.counts = None  # (4, C), or (4,) for "micro": TP, FP, FN, true labels

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(as_array(y_true), np.float64), np.asarray(as_array(y_pred), np.float64)
        if y_true.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}: expects y_true and y_pred of one shape (N, C); received "
                             f"{y_true.shape} and {y_pred.shape}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weights = np.ones((len(y_true), 1)) if sample_weight is None else \
            np.asarray(as_array(sample_weight), np.float64).reshape(-1, 1)
        axis = None if self.average == "micro" else 0
        counts = np.stack([np.sum(weights * values, axis=axis) for values in (
            predicted * y_true, predicted * (1 - y_true), (1 - predicted) * y_true, y_true)])
        if self.counts is not None and self.counts.shape != counts.shape:
            raise ValueError(f"{type(self).__name__}: every batch must have {self.counts.shape[-1]} classes; "
                             f"received shape {y_true.shape}")
        self.counts = counts if self.counts is None else self.counts + counts

    def result(self):
        if self.counts is None:
            return 0.0
        tp, fp, fn, true_labels = self.counts
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta**2
        scores = (1 + beta2) * precision * recall / (beta2 * precision + recall + EPSILON)
        if self.average == "weighted":
            return float(np.sum(scores * true_labels / (np.sum(true_labels) + EPSILON)))
        if self.average is not None:
            return float(np.mean(scores))
        return scores

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
