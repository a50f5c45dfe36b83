"""The best of one rate while another is held at a floor, over a grid of thresholds, as keras.metrics:
SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall and RecallAtPrecision.

Confusion counts (TP, FP, TN, FN; see confusion.py) are summed over batches at num_thresholds thresholds
0, 1 / (n - 1), ..., 1 (just 0.5 for n = 1; scores are clipped to [0, 1] first for n > 1), giving per
threshold

    sensitivity = recall = TP / (TP + FN)    specificity = TN / (TN + FP)    precision = TP / (TP + FP)

(0 where the denominator is 0). The result is max over thresholds of the dependent rate among those where
the constrained rate >= value (0 if there is none): SensitivityAtSpecificity(0.8) is the best sensitivity
at specificity >= 0.8.
"""

import numpy as np

from striate.metric_objects.confusion import _ratio, confusion_counts
from striate.metric_objects.metric import Metric, as_array


class _AtConstraint(Metric):
    """Counts at evenly spaced thresholds; a subclass names its value (`constraint`) and writes `rates`."""

    constraint = ""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if not 0 <= value <= 1 or num_thresholds < 1:
            raise ValueError(f"{type(self).__name__}: {self.constraint} must lie in [0, 1] and num_thresholds be "
                             f">= 1; received {self.constraint}={value}, num_thresholds={num_thresholds}")
        super().__init__(name, dtype)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        self.thresholds = np.array([0.5]) if num_thresholds == 1 else np.linspace(0, 1, num_thresholds)
        self.reset_state()

    def reset_state(self):
        self.true_positives, self.false_positives = np.zeros(self.num_thresholds), np.zeros(self.num_thresholds)
        self.true_negatives, self.false_negatives = np.zeros(self.num_thresholds), np.zeros(self.num_thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(as_array(y_pred), np.float64)
        if self.num_thresholds > 1:
            y_pred = np.clip(y_pred, 0.0, 1.0)
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, class_id=self.class_id)
        self.true_positives += counts[0]
        self.false_positives += counts[1]
        self.true_negatives += counts[2]
        self.false_negatives += counts[3]

    def rates(self):
        """(the constrained rate, the rate maximised), each over thresholds."""
        raise NotImplementedError

    def result(self):
        constrained, dependent = self.rates()
        return float(np.max(np.where(constrained >= self.value, dependent, 0.0), initial=0.0))

    def _sensitivity(self):
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    def _specificity(self):
        return _ratio(self.true_negatives, self.true_negatives + self.false_positives)

    def _precision(self):
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self.constraint: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) at specificity >= `specificity`."""

    constraint = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def rates(self):
        return self._specificity(), self._sensitivity()


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity at sensitivity (recall) >= `sensitivity`."""

    constraint = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def rates(self):
        return self._sensitivity(), self._specificity()


class PrecisionAtRecall(_AtConstraint):
    """The best precision at recall >= `recall`."""

    constraint = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def rates(self):
        return self._sensitivity(), self._precision()


class RecallAtPrecision(_AtConstraint):
    """The best recall at precision >= `precision`."""

    constraint = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def rates(self):
        return self._precision(), self._sensitivity()
