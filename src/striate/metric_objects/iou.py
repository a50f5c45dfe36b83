"""MeanIoU: the mean intersection over union of classes, from a confusion matrix accumulated over batches."""

import numpy as np

from striate.metric_objects.metric import Metric, as_array


class MeanIoU(Metric):
    """Mean over classes of IoU_c = TP_c / (TP_c + FP_c + FN_c), as keras.metrics.MeanIoU (semantic
    segmentation's standard score).

    A (num_classes, num_classes) confusion matrix of (true, predicted) class pairs, weighted by sample
    weights, is summed over batches; classes absent from both (IoU 0 / 0) are left out of the mean.

    Args:
        num_classes: the number of classes C.
        ignore_class: a label whose elements are not counted.
        sparse_y_true, sparse_y_pred: whether y_true / y_pred are class ids (True) or scores along `axis`
            (argmax taken). Keras' defaults True and True: pass sparse_y_pred=False for model outputs.
        axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name, dtype)
        self.num_classes, self.ignore_class = int(num_classes), ignore_class
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
        valid = denominator != 0
        if not valid.any():
            return 0.0
        return float(np.sum(tp[valid] / denominator[valid]) / valid.sum())

    def get_config(self):
        return {"num_classes": self.num_classes, **super().get_config(), "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


def _element_weights(sample_weight, shape):
    """One weight per element of labels of `shape`, flat: weights of that shape (as Keras), or one per sample."""
    weights = np.asarray(as_array(sample_weight), np.float64)
    if weights.size != np.prod(shape):
        weights = np.broadcast_to(weights.reshape(-1, *(1,) * (len(shape) - 1)), shape)
    return weights.reshape(-1)
