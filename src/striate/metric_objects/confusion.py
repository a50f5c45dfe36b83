"""Metrics read off confusion counts at thresholds, as keras.metrics: Precision, Recall, AUC and the four
counts TruePositives, FalsePositives, TrueNegatives, FalseNegatives.

Scores y_pred (probabilities) and 0/1 labels y_true of any matching shape are compared elementwise, all axes
flattened: an element is predicted positive at threshold t when y_pred > t. Per threshold, with weights w
(sample weights broadcast to y_pred's shape, 1 without):

    TP = sum w [y = 1, p > t]    FP = sum w [y = 0, p > t]    TN = sum w [y = 0, p <= t]    FN = sum w [y = 1, p <= t]
    precision = TP / (TP + FP)   recall = TP / (TP + FN)       (0 when the denominator is 0)

top_k keeps, per row, only the k highest scores (the others become "not predicted"); class_id keeps the
column of one class (both as Keras, top_k first).
"""

import numbers

import numpy as np

from striate.metric_objects.metric import Metric, as_array

NEG_INF = -1e10  # Keras' score of the entries top_k drops, and Precision's threshold with top_k


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None):
    """(TP, FP, TN, FN), each an array over `thresholds`, of one batch."""
    y_true, y_pred = np.asarray(as_array(y_true), np.float64), np.asarray(as_array(y_pred), np.float64)
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ValueError(f"confusion metrics: y_true and y_pred must have the same shape; received "
                             f"{y_true.shape} and {y_pred.shape}")
        y_true = y_true.reshape(y_pred.shape)
    weights = np.ones_like(y_pred) if sample_weight is None else _weights(sample_weight, y_pred.shape)
    if top_k is not None:
        kth = -np.partition(-y_pred, top_k - 1, axis=-1)[..., top_k - 1: top_k]
        y_pred = np.where(y_pred >= kth, y_pred, NEG_INF)
    if class_id is not None:
        y_true, y_pred, weights = y_true[..., class_id], y_pred[..., class_id], weights[..., class_id]
    positive = y_true.reshape(-1) > 0.5
    scores, weights = y_pred.reshape(-1), weights.reshape(-1)
    above = scores[None, :] > np.asarray(thresholds, np.float64)[:, None]  # (thresholds, elements)
    tp = (above & positive) @ weights
    fp = (above & ~positive) @ weights
    return tp, fp, (~above & ~positive) @ weights, (~above & positive) @ weights


def _weights(sample_weight, shape):
    weights = np.asarray(as_array(sample_weight), np.float64)
    if weights.ndim == len(shape) + 1 and weights.shape[-1] == 1:
        weights = weights[..., 0]
    return np.broadcast_to(weights.reshape(weights.shape + (1,) * (len(shape) - weights.ndim)), shape)


def _ratio(numerator, denominator):
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


class _Thresholded(Metric):
    """Counts at a list of thresholds; a float result for one threshold, a list for several."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        default = 0.5 if top_k is None else NEG_INF
        self.init_thresholds = thresholds
        listed = [default] if thresholds is None else (
            [thresholds] if isinstance(thresholds, numbers.Real) else list(thresholds))
        if not all(isinstance(t, numbers.Real) and (t == NEG_INF or 0 <= t <= 1) for t in listed):
            raise ValueError(f"{type(self).__name__}: thresholds must be numbers in [0, 1]; received {thresholds!r}")
        self.thresholds, self.top_k, self.class_id = np.array(listed, np.float64), top_k, class_id
        self.reset_state()

    def reset_state(self):
        size = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(size), np.zeros(size)
        self.true_negatives, self.false_negatives = np.zeros(size), np.zeros(size)

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k, self.class_id)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _single(self, values):
        return float(values[0]) if self.init_thresholds is None or isinstance(self.init_thresholds, numbers.Real) \
            else values

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_Thresholded):
    """TP / (TP + FP) at each threshold (default 0.5; with top_k, any score among the top k)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._single(_ratio(self.true_positives, self.true_positives + self.false_positives))


class Recall(_Thresholded):
    """TP / (TP + FN) at each threshold (default 0.5; with top_k, any score among the top k)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._single(_ratio(self.true_positives, self.true_positives + self.false_negatives))


class _Count(_Thresholded):
    count_name = ""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, None, None, name, dtype)

    def result(self):
        return self._single(getattr(self, self.count_name).copy())

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """The (weighted) number of positives predicted positive."""

    count_name = "true_positives"


class FalsePositives(_Count):
    """The (weighted) number of negatives predicted positive."""

    count_name = "false_positives"


class TrueNegatives(_Count):
    """The (weighted) number of negatives predicted negative."""

    count_name = "true_negatives"


class FalseNegatives(_Count):
    """The (weighted) number of positives predicted negative."""

    count_name = "false_negatives"


class AUC(Metric):
    """Area under the ROC curve (recall against false-positive rate) or the precision-recall curve, from
    counts at num_thresholds thresholds, as Keras (so an approximation of the exact area).

    Thresholds: -1e-7, then i / (num_thresholds - 1) for i = 1 .. num_thresholds - 2, then 1 + 1e-7 (or the
    given `thresholds`, sorted, between those two). The area is a Riemann sum over consecutive thresholds
    i, i + 1: (x_i - x_{i+1}) * height, the height the mean of y_i and y_{i+1} ("interpolation"; for the PR
    curve, Davis & Goadrich 2006's interpolation of precision), their minimum ("minoring") or maximum
    ("majoring").

    Args:
        num_thresholds: > 1. Default 200.
        curve: "ROC" or "PR". Default "ROC".
        summation_method: "interpolation", "minoring" or "majoring".
        thresholds: None, or a list of thresholds in [0, 1] (num_thresholds is then their count + 2).
        multi_label: treat each column of (N, L) inputs as its own label: the areas are averaged over labels
            (weighted by label_weights when given). False flattens everything into one problem.
        from_logits: apply a sigmoid to y_pred first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name, dtype)
        if curve not in ("ROC", "PR") or summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR' and summation_method 'interpolation', 'minoring' or "
                             f"'majoring'; received curve={curve!r}, summation_method={summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        elif num_thresholds <= 1:
            raise ValueError(f"AUC: num_thresholds must be > 1; received {num_thresholds}")
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, curve, summation_method
        self.init_thresholds = thresholds
        self.thresholds = np.array([-1e-7, *inner, 1 + 1e-7])
        self.multi_label, self.num_labels, self.from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        self.reset_state()

    def reset_state(self):
        self.counts = None  # (4, thresholds) or (4, thresholds, labels): TP, FP, TN, FN

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_array(y_true), np.asarray(as_array(y_pred), np.float64)
        if self.from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"AUC: multi_label needs y_pred of rank 2; received shape {y_pred.shape}")
            weights = None if sample_weight is None else _weights(sample_weight, y_pred.shape)
            counts = np.stack([np.stack(confusion_counts(
                np.asarray(y_true).reshape(y_pred.shape)[:, j], y_pred[:, j], self.thresholds,
                None if weights is None else weights[:, j])) for j in range(y_pred.shape[1])], axis=-1)
        else:
            counts = np.stack(confusion_counts(y_true, y_pred, self.thresholds, sample_weight))
            if self.label_weights is not None:  # Keras weighs each column (label) of the flattened problem
                raise ValueError("AUC: label_weights needs multi_label=True in striate")
        self.counts = counts if self.counts is None else self.counts + counts

    def result(self):
        if self.counts is None:
            return 0.0
        tp, fp, tn, fn = self.counts
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr(tp, fp, fn)
        else:
            recall = _ratio(tp, tp + fn)
            x, y = (_ratio(fp, fp + tn), recall) if self.curve == "ROC" else (recall, _ratio(tp, tp + fp))
            heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
                       "majoring": np.maximum(y[:-1], y[1:])}[self.summation_method]
            areas = ((x[:-1] - x[1:]) * heights).sum(axis=0)
        if not self.multi_label:
            return float(areas)
        if self.label_weights is None:
            return float(np.mean(areas))
        return float(np.sum(areas * self.label_weights) / np.sum(self.label_weights))

    @staticmethod
    def _interpolated_pr(tp, fp, fn):
        """Davis & Goadrich 2006: precision interpolated between thresholds, integrated over recall."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _ratio(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        p_ratio = np.where(both, _ratio(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _ratio(slope * (dtp + intercept * np.log(p_ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return increments.sum(axis=0)

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self.from_logits}
        if self.init_thresholds is not None:
            config["thresholds"] = list(self.thresholds[1:-1])
        return config
