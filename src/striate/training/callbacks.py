"""Callbacks called by `fit` at the end of each epoch: History, EarlyStopping and ModelCheckpoint."""

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


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when `monitor` improves, with save_best_only).

    `filepath` may contain "{epoch}" (1-based, as Keras) and any log key, e.g. "ckpt-{epoch:02d}.safetensors".
    Each file holds what `striate.load_model` needs to resume: weights, optimizer state, epoch, random state.
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        self.filepath, self.monitor, self.save_best_only = filepath, monitor, save_best_only
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0

    def on_train_begin(self):
        self.best = np.inf

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            if self.monitor not in logs:
                raise KeyError(f"ModelCheckpoint: monitor {self.monitor!r} is not among the logs {sorted(logs)}")
            value = self.sign * logs[self.monitor]
            if value >= self.best:
                return
            self.best = value
        self.model.save(self.filepath.format(epoch=epoch + 1, **logs))
