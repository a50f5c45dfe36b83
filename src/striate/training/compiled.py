"""What `Model.compile` fixes: the optimizer, the loss and the metrics to report, and how a batch's loss and
metrics are measured and averaged over an epoch, as Keras 3 does.

Keras' conventions kept here:
- labels (N,) or (N, 1) both fit a sparse loss against (N, C) outputs, and (N,) fits (N, 1) outputs;
- with sample weights w the loss is sum_i w_i l_i / N (Keras' "sum_over_batch_size"), l_i the sample's loss;
- an epoch's loss and metrics are means over the batches so far, weighted by batch size;
- `evaluate` and `train_on_batch` return the loss alone when there are no metrics, else the list
  [loss, metric_1, ...] in compile's order (`flatten`), or the dict with return_dict=True.
"""

import inspect

import numpy as np

from striate import losses
from striate.ops import stack


def accuracy(y_true, y_pred):
    """Fraction of correct predictions: integer labels (N,) or (N, 1), one-hot labels, or one sigmoid output
    (threshold 0.5)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        return float(np.mean((y_pred[:, 0] > 0.5) == y_true.reshape(-1)))
    predicted = np.argmax(y_pred, axis=-1)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    truth = np.argmax(y_true, axis=-1) if y_true.ndim == y_pred.ndim else y_true
    return float(np.mean(predicted == truth))


METRICS = {"accuracy": accuracy, "acc": accuracy}


class Compiled:
    def __init__(self, optimizer, loss, metrics):
        from striate import optim

        if loss is None:
            raise ValueError("compile: a loss is needed, e.g. loss='sparse_categorical_crossentropy'")
        self.optimizer = optim.get(optimizer)
        self.loss = losses.get(loss)
        self.metrics = {}
        for metric in metrics or []:
            name, function = _metric(metric)
            self.metrics[name] = function
        self._loss_takes_weights = "sample_weight" in inspect.signature(self.loss.__call__).parameters

    def labels_for(self, y, predictions):
        """y reshaped as Keras matches it to the outputs: (N, 1) integer labels of a sparse loss squeezed to
        (N,); (N,) targets of (N, 1) outputs expanded to (N, 1)."""
        y, shape = np.asarray(y), predictions.shape
        sparse = getattr(self.loss, "name", "").startswith("sparse")
        if sparse and y.ndim == len(shape) and y.ndim > 1 and y.shape[-1] == 1:
            return y[..., 0]
        if not sparse and y.ndim == len(shape) - 1 and shape[-1] == 1:
            return y[..., None]
        return y

    def compute_loss(self, y, predictions, sample_weight=None):
        """The batch loss (a Tensor): the loss's batch mean, or sum_i w_i l_i / N with sample weights (N,)."""
        if sample_weight is None:
            return self.loss(y, predictions)
        if self._loss_takes_weights:
            return self.loss(y, predictions, sample_weight=sample_weight)
        count = predictions.shape[0]
        per_sample = stack([self.loss(y[i:i + 1], predictions[i:i + 1]) for i in range(count)])
        return (per_sample * np.asarray(sample_weight, dtype=predictions.dtype)).sum() / count

    def names(self):
        return ["loss", *self.metrics]

    def flatten(self, logs):
        """Keras' return value of evaluate / train_on_batch / test_on_batch: the loss alone, or a list in
        compile's order (loss first)."""
        values = [logs[name] for name in self.names()]
        return values[0] if len(values) == 1 else values


class Running:
    """The running means of the loss and metrics over the batches seen since `reset` (weighted by batch size,
    as Keras' loss tracker and mean metrics), for the logs of batch and epoch callbacks."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.reset()

    def reset(self):
        self.totals, self.seen = {}, 0
        for metric in self.compiled.metrics.values():
            if hasattr(metric, "reset_state"):
                metric.reset_state()

    def update(self, loss, y, predictions):
        """Add one batch: its loss (a float) and its labels and outputs (arrays)."""
        count = len(predictions)
        self.seen += count
        self.totals["loss"] = self.totals.get("loss", 0.0) + loss * count
        for name, metric in self.compiled.metrics.items():
            if hasattr(metric, "update_state"):
                metric.update_state(y, predictions)
            else:
                self.totals[name] = self.totals.get(name, 0.0) + metric(y, predictions) * count

    def result(self):
        """{metric: ..., "loss": ...}: the metrics in compile's order, then the loss, as Keras 3 orders its logs."""
        logs = {}
        for name in [*self.compiled.metrics, "loss"]:
            metric = self.compiled.metrics.get(name)
            if hasattr(metric, "result"):
                logs[name] = float(np.asarray(metric.result()))
            else:
                logs[name] = self.totals.get(name, 0.0) / max(self.seen, 1)
        return logs


def _metric(metric):
    """(log name, metric) for a name of METRICS (or of striate.metrics.get, where there is one), a metric
    object with update_state / result / reset_state, or a function metric(y_true, y_pred) -> float."""
    if isinstance(metric, str):
        if metric in METRICS:
            return ("accuracy" if metric == "acc" else metric), METRICS[metric]
        from striate import metrics as metric_module

        if hasattr(metric_module, "get"):
            return metric, metric_module.get(metric)
        raise ValueError(f"compile: unknown metric {metric!r}; expected one of {sorted(METRICS)}, a metric object "
                         "or a function metric(y_true, y_pred)")
    if callable(metric) or hasattr(metric, "update_state"):
        return getattr(metric, "name", None) or metric.__name__, metric
    raise ValueError(f"compile: a metric is a name, a metric object or a function; received {metric!r}")
