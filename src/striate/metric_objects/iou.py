"""Intersection over union of classes (semantic segmentation's standard score), from a confusion matrix
accumulated over batches, as keras.metrics: IoU (the mean over chosen classes), MeanIoU (over all classes),
BinaryIoU (of thresholded scores), OneHotIoU and OneHotMeanIoU (of one-hot labels).

A (num_classes, num_classes) matrix M of (true, predicted) class pairs, weighted by sample weights, is summed
over batches. Per class c

    IoU_c = TP_c / (TP_c + FP_c + FN_c) = M[c, c] / (sum_j M[c, j] + sum_i M[i, c] - M[c, c] + eps)

(eps = 1e-7), and the result is the mean of IoU_c over the target classes whose denominator is not 0
(classes absent from both inputs are left out), as Keras.
"""

import numpy as np

from striate.functional.per_sample_losses import EPSILON
from striate.metric_objects.metric import Metric, as_array


class IoU(Metric):
    """Mean of IoU_c over the classes of `target_class_ids` (module docstring), as keras.metrics.IoU.

    Args:
        num_classes: the number of classes C.
        target_class_ids: the classes whose IoU is averaged (each in [0, C)).
        ignore_class: a label whose elements are not counted.
        sparse_y_true, sparse_y_pred: whether y_true / y_pred are class ids (True) or scores along `axis`
            (argmax taken). Keras' defaults True and True: pass sparse_y_pred=False for model outputs.
        axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        target_class_ids = list(target_class_ids)
        if not target_class_ids or not all(0 <= int(c) < num_classes for c in target_class_ids):
            raise ValueError(f"{type(self).__name__}: target_class_ids must be classes in [0, {num_classes}); "
                             f"received {target_class_ids}")
        super().__init__(name, dtype)
        self.num_classes, self.ignore_class = int(num_classes), ignore_class
        self.target_class_ids = target_class_ids
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        true, predicted = y_true.reshape(-1).astype(np.int64), y_pred.reshape(-1).astype(np.int64)
        weights = np.ones(true.shape) if sample_weight is None else _element_weights(sample_weight, y_true.shape)
        keep = np.ones(true.shape, bool) if self.ignore_class is None else true != self.ignore_class
        if np.any(keep & ((true < 0) | (true >= self.num_classes) | (predicted < 0) |
                          (predicted >= self.num_classes))):
            raise ValueError(f"{self.name}: class ids must lie in [0, {self.num_classes}); received y_true from "
                             f"{true.min()} to {true.max()} and y_pred from {predicted.min()} to {predicted.max()}")
        pairs = true[keep] * self.num_classes + predicted[keep]
        self.total_cm += np.bincount(pairs, weights=weights[keep], minlength=self.num_classes**2).reshape(
            self.num_classes, self.num_classes)

    def result(self):
        tp = np.diag(self.total_cm)
        denominator = self.total_cm.sum(axis=0) + self.total_cm.sum(axis=1) - tp
        tp, denominator = tp[self.target_class_ids], denominator[self.target_class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, tp / (denominator + EPSILON), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + EPSILON))

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, **super().get_config(),
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class MeanIoU(IoU):
    """Mean of IoU_c over all classes, as keras.metrics.MeanIoU (arguments as IoU's)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, range(num_classes), name, dtype, ignore_class, sparse_y_true, sparse_y_pred,
                         axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of two classes, the prediction being 1 where y_pred >= threshold, as keras.metrics.BinaryIoU.

    Args:
        target_class_ids: [0], [1] or [0, 1] (the mean of both).
        threshold: scores at or above it predict class 1.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name, dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = (np.asarray(as_array(y_pred), np.float64) >= self.threshold).astype(np.int64)
        super().update_state(y_true, predicted, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, **Metric.get_config(self)}


class OneHotIoU(IoU):
    """IoU for one-hot labels (argmax along `axis`) and scores, as keras.metrics.OneHotIoU."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU for one-hot labels (argmax along `axis`) and scores, as keras.metrics.OneHotMeanIoU."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


def _element_weights(sample_weight, shape):
    """One weight per element of labels of `shape`, flat: weights of that shape (as Keras), or one per sample."""
    weights = np.asarray(as_array(sample_weight), np.float64)
    if weights.size != np.prod(shape):
        weights = np.broadcast_to(weights.reshape(-1, *(1,) * (len(shape) - 1)), shape)
    return weights.reshape(-1)
