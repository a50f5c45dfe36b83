"""Callbacks called by `fit` at the end of each epoch: History and EarlyStopping."""

import numpy as np


class Callback:
    model = None

    def on_train_begin(self):
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch, logs):
        """Called after each epoch with that epoch's logs ({"loss": ..., "val_loss": ...})."""


class History(Callback):
    """Records every epoch's logs: `history.history["loss"]` is the list of epoch losses. fit returns it."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs (Keras)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False):
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.restore_best_weights = restore_best_weights
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0

    def on_train_begin(self):
        self.best, self.wait, self.best_weights, self.stopped_epoch = np.inf, 0, None, None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: monitor {self.monitor!r} is not among the logs {sorted(logs)}")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = [w.data.copy() for w in self.model.weights]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.best_weights is not None:
                for weight, best in zip(self.model.weights, self.best_weights):
                    weight.data[...] = best
