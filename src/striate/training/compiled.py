"""What `Model.compile` fixes: the optimizer, the loss and the metrics to report."""

import numpy as np

from striate import losses


def accuracy(y_true, y_pred):
    """Fraction of correct predictions: integer labels, one-hot labels, or one sigmoid output (threshold 0.5)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        return float(np.mean((y_pred[:, 0] > 0.5) == y_true.reshape(-1)))
    predicted = np.argmax(y_pred, axis=-1)
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
        for name in metrics or []:
            if name not in METRICS:
                raise ValueError(f"compile: unknown metric {name!r}; expected one of {sorted(METRICS)}")
            self.metrics["accuracy" if name == "acc" else name] = METRICS[name]
