"""Regression metrics, as keras.metrics: the mean over samples of a per-sample loss (loss_metrics' NumPy
functions), RootMeanSquaredError = sqrt(weighted mean of squared errors) and R2Score."""

import warnings

import numpy as np

from striate.functional import per_sample_losses as L
from striate.metric_objects import loss_metrics
from striate.metric_objects.metric import Mean, MeanMetricWrapper, Metric, as_array


class MeanSquaredError(MeanMetricWrapper):
    """mean((y_true - y_pred)^2) per sample, averaged over samples."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(loss_metrics.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """mean(|y_true - y_pred|) per sample, averaged over samples."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(loss_metrics.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) per sample, averaged over samples."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(loss_metrics.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """mean((log(1 + y_pred) - log(1 + y_true))^2) per sample, averaged over samples."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(loss_metrics.mean_squared_logarithmic_error, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """cos(angle between y_true and y_pred) along `axis` (1 is best; the loss is its negative)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine, name, dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """mean(log(cosh(y_pred - y_true))) per sample, averaged over samples."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(loss_metrics.log_cosh, name, dtype)


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
    return -loss_metrics.numpy_function(L.cosine_similarity)(y_true, y_pred, axis=axis)


class R2Score(Metric):
    """The coefficient of determination R^2 = 1 - SS_res / SS_tot per output column, over all batches, as
    keras.metrics.R2Score. With weights w (one per sample, or one per element):

        SS_res = sum w (y - p)^2      SS_tot = sum w y^2 - (sum w y)^2 / sum w      (per column)

    1 is a perfect fit, 0 the column mean's fit; a column with SS_tot = 0 scores 0.

    Args:
        class_aggregation: "uniform_average" (the mean over columns), "variance_weighted_average" (weighted by
            SS_tot) or None (the array over columns).
        num_regressors: p > 0 gives the adjusted R^2 = 1 - (1 - R^2)(n - 1) / (n - p - 1), n the number of
            elements seen (Keras counts elements, not rows); plain R^2 (and a warning) where n - 1 <= p.

    Shape:
        y_true, y_pred (N, C) (or (N,) with (N, 1)).
    """

    AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        if class_aggregation not in self.AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {self.AGGREGATIONS}; received "
                             f"{class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0; received {num_regressors}")
        super().__init__(name, dtype)
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.reset_state()

    def reset_state(self):
        self.sums = None  # (4, C): sum w y, sum w y^2, sum w (y - p)^2, sum w
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = L.same_rank(np.asarray(as_array(y_true), np.float64),
                                     np.asarray(as_array(y_pred), np.float64))
        if y_true.ndim != 2 or y_pred.shape != y_true.shape:
            raise ValueError(f"R2Score: expects y_true and y_pred of one shape (N, C); received {y_true.shape} and "
                             f"{y_pred.shape}")
        weights = np.ones(1) if sample_weight is None else np.asarray(as_array(sample_weight), np.float64)
        weights = np.broadcast_to(weights[:, None] if weights.ndim == 1 else weights, y_true.shape)
        sums = np.stack([np.sum(weights * y_true, axis=0), np.sum(weights * y_true**2, axis=0),
                         np.sum(weights * (y_true - y_pred) ** 2, axis=0), np.sum(weights, axis=0)])
        if self.sums is not None and self.sums.shape != sums.shape:
            raise ValueError(f"R2Score: every batch must have {self.sums.shape[1]} columns; received {y_true.shape}")
        self.sums = sums if self.sums is None else self.sums + sums
        self.num_samples += y_true.size

    def result(self):
        if self.sums is None:
            return 0.0
        weighted_sum, squared_sum, residual, count = self.sums
        total = squared_sum - weighted_sum * (weighted_sum / count)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - residual / total
        scores = np.where(np.isinf(scores), 0.0, scores)
        if self.class_aggregation == "uniform_average":
            score = np.mean(scores)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * scores) / np.sum(total)
        else:
            score = scores
        n, p = self.num_samples, self.num_regressors
        if p and p >= n - 1:
            warnings.warn(f"R2Score: {p} regressors for {n} values: the adjusted R^2 needs n - 1 > p; "
                          "returning the plain R^2", stacklevel=2)
        elif p:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return float(score) if np.ndim(score) == 0 else score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
