"""Callbacks, as Keras 3's: objects whose methods `fit`, `evaluate` and `predict` call at fixed points.

The protocol (every method takes `logs`, a dict, possibly empty):
    on_train_begin / on_train_end(logs)           fit's start; its end, with the last epoch's logs
    on_epoch_begin(epoch) / on_epoch_end(epoch, logs)   logs: {"loss", metrics..., "val_loss", ...}
    on_train_batch_begin(batch) / on_train_batch_end(batch, logs)   logs: the epoch's running means
    on_test_begin / on_test_batch_begin / on_test_batch_end / on_test_end   evaluate, and fit's validation
    on_predict_begin / on_predict_batch_begin / on_predict_batch_end / on_predict_end
                                                  on_predict_batch_end's logs: {"outputs": the batch's outputs}
`epoch` and `batch` count from 0. `self.model` is the model, `self.params` {"verbose", "epochs", "steps"}.

Callbacks here: History, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler,
CSVLogger, TerminateOnNaN, BackupAndRestore, LambdaCallback.
"""

import csv
import json
import math
import os
import shutil
import warnings

import numpy as np

from striate.core.files import atomic_write

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """The base class: every method does nothing. `on_batch_begin` / `on_batch_end` are what Keras' base
    on_train_batch_begin / on_train_batch_end call, so either may be overridden."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once before the first epoch."""

    def on_train_end(self, logs=None):
        """Called once after the last epoch, with its logs."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called before each epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called after each epoch with that epoch's logs ({"loss": ..., "val_loss": ...})."""

    def on_batch_begin(self, batch, logs=None):
        """Called before each training batch (through on_train_batch_begin)."""

    def on_batch_end(self, batch, logs=None):
        """Called after each training batch (through on_train_batch_end)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        """Called when evaluation starts (evaluate, or fit's validation)."""

    def on_test_end(self, logs=None):
        """Called when evaluation ends, with its logs."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch, with the running logs."""

    def on_predict_begin(self, logs=None):
        """Called when predict starts."""

    def on_predict_end(self, logs=None):
        """Called when predict ends."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch; logs {"outputs": the batch's outputs}."""


class CallbackList:
    """Calls one hook on every callback in order (History last, as Keras, so it records what the others add
    to the logs, such as ReduceLROnPlateau's "learning_rate")."""

    def __init__(self, callbacks, model, params, history=None):
        self.callbacks = [*(callbacks or []), *([history] if history is not None else [])]
        for callback in self.callbacks:
            if not all(hasattr(callback, hook) for hook in (*HOOKS, "set_model", "set_params")):
                raise TypeError(f"callbacks: each must be a striate.callbacks.Callback; received "
                                f"{type(callback).__name__}")
            callback.set_model(model)
            callback.set_params(params)

    def call(self, hook, *arguments):
        *position, logs = arguments
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            getattr(callback, hook)(*position, logs)


class History(Callback):
    """Records every epoch's logs: `history.history["loss"]` is the list of epoch losses. fit returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


# ---- watching one logged value --------------------------------------------------------------------------------
_GROWING = ("acc", "auc", "precision", "recall", "iou", "f1", "top_k")
_SHRINKING = ("loss", "error", "mae", "mse", "hinge", "divergence", "crossentropy")


class _Monitor(Callback):
    """The comparison of Keras' MonitorCallback: `current` improves on `reference` when current - min_delta <
    reference (mode "min") or current + min_delta > reference (mode "max"); any value improves on None."""

    def __init__(self, monitor, mode, baseline=None, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max'; received {mode!r}")
        self.monitor, self.mode, self.best, self.min_delta = monitor, mode, baseline, abs(min_delta)
        self._sign = None

    def _set_direction(self):
        mode, name = self.mode, self.monitor.removeprefix("val_")
        if mode == "auto":
            if any(part in name for part in _SHRINKING):
                mode = "min"
            elif any(part in name for part in _GROWING):
                mode = "max"
            else:
                raise ValueError(f"{type(self).__name__}: cannot tell whether {self.monitor!r} should grow or "
                                 "shrink; pass mode='max' or mode='min'")
        self._sign = 1.0 if mode == "max" else -1.0

    def _is_improvement(self, current, reference):
        if self._sign is None:
            self._set_direction()
        if reference is None:
            return True
        return self._sign * (current - reference) > self.min_delta

    def _value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__}: {self.monitor!r} is not among the logs {sorted(logs or {})}",
                          stacklevel=3)
        return value


class EarlyStopping(_Monitor):
    """Stop training when `monitor` has not improved by more than `min_delta` for `patience` epochs, as
    keras.callbacks.EarlyStopping.

    baseline: an improvement that does not reach it does not reset the patience counter.
    restore_best_weights: at the end of training, set the weights of the best epoch (the first epoch's
        when none improved).
    start_from_epoch: epochs before it are not watched (a warm-up).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model (or its weights) every epoch, or every `save_freq` batches, as
    keras.callbacks.ModelCheckpoint.

    filepath: may hold "{epoch}" (1-based) and any log key, e.g. "ckpt-{epoch:02d}-{val_loss:.2f}.keras"
        ("{batch}" too with save_freq in batches). Its extension picks the file: ".keras" (Keras' archive),
        ".safetensors" (striate's, with the optimizer state, epoch and random state for resuming), and
        with save_weights_only ".weights.h5" (Keras') or ".safetensors".
    save_best_only: save only when `monitor` improves on the best value so far (`mode`: "min", "max", or
        "auto" from the name); initial_value_threshold is the value to beat at first.
    save_freq: "epoch", or an int: save after every that many training batches.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int of batches; received "
                             f"{save_freq!r}")
        endings = (".weights.h5", ".safetensors") if save_weights_only else (".keras", ".safetensors")
        if not self.filepath.endswith(endings):
            raise ValueError(f"ModelCheckpoint: with save_weights_only={save_weights_only} the filepath must end "
                             f"in {' or '.join(endings)}; received {self.filepath!r}")
        self._batches_since_saving, self._last_batch, self._epoch = 0, None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        seen = batch + 1 if self._last_batch is None or batch <= self._last_batch else batch - self._last_batch
        self._last_batch = batch
        self._batches_since_saving += seen
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        fields = {"epoch": epoch + 1, **({} if batch is None else {"batch": batch + 1}), **logs}
        try:
            path = self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: cannot fill in the filepath {self.filepath!r}: {error} is not among "
                           f"{sorted(fields)}") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: can save the best model only with {self.monitor!r} in the logs",
                              stacklevel=2)
            elif not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            else:
                self.best = current
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: saved the model to {path}")


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by `factor` when `monitor` has not improved by more than `min_delta` for
    `patience` epochs, never below `min_lr`; then wait `cooldown` epochs. Adds "learning_rate" to the epoch
    logs. As keras.callbacks.ReduceLROnPlateau."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be below 1; received {factor}")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.wait, self.cooldown_counter = 0, 0

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        optimizer = self.model.optimizer
        logs["learning_rate"] = _learning_rate("ReduceLROnPlateau", optimizer)
        current = self._value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = logs["learning_rate"]
                if old > np.float32(self.min_lr):
                    optimizer.learning_rate = max(old * self.factor, self.min_lr)
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                              f"{optimizer.learning_rate}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate before each epoch to `schedule(epoch, current_rate)` (or `schedule(epoch)`), as
    keras.callbacks.LearningRateScheduler. Adds "learning_rate" to the epoch logs."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        current = _learning_rate("LearningRateScheduler", optimizer)
        try:
            rate = self.schedule(epoch, current)
        except TypeError:
            rate = self.schedule(epoch)
        if not isinstance(rate, float | np.floating):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float; received {rate!r} for "
                             f"epoch {epoch}")
        optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate("LearningRateScheduler", self.model.optimizer)


def _learning_rate(what, optimizer):
    rate = getattr(optimizer, "learning_rate", None)
    if rate is None:
        raise ValueError(f"{what}: the model's optimizer has no learning_rate; compile the model first")
    if callable(rate):
        raise ValueError(f"{what}: the optimizer's learning rate is a schedule ({type(rate).__name__}); give it a "
                         "number to let a callback change it")
    return float(rate)


class CSVLogger(Callback):
    """Append one row per epoch to a CSV file: "epoch" then the log keys in sorted order, as
    keras.callbacks.CSVLogger. Each row is written and flushed to disk when its epoch ends, so a stopped run
    leaves every finished epoch's row and no partial one. append=True continues an existing file."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys, self._file, self._writer = None, None, None

    def on_train_begin(self, logs=None):
        header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115 (kept open for the run)
        self._header, self.keys, self._writer = header, None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], delimiter=self.separator)
            if self._header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{key: _csv_value(logs.get(key, "NA")) for key in self.keys}})
        self._file.flush()
        os.fsync(self._file.fileno())

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None


def _csv_value(value):
    if isinstance(value, str) or np.ndim(value) == 0:
        return value
    return f"[{', '.join(map(str, np.ravel(value)))}]"


class TerminateOnNaN(Callback):
    """Stop training at the first training batch whose loss is NaN or infinite, as
    keras.callbacks.TerminateOnNaN; prints "Batch b: Invalid loss, terminating training" (or raises a
    RuntimeError naming the batch, with raise_error=True). `stopped_epoch` and `stopped_batch` tell where."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error, self.stopped_epoch, self.stopped_batch, self._epoch = raise_error, None, None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch} of epoch {self._epoch + 1}. Loss "
                               f"value: {loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.stopped_epoch, self.stopped_batch = self._epoch, batch
        self.model.stop_training = True


class BackupAndRestore(Callback):
    """Back the weights up to `backup_dir` every epoch (or every `save_freq` batches) and, when fit starts
    again after an interruption, restore them and continue from the epoch after the last backup, as
    keras.callbacks.BackupAndRestore.

    Files: backup_dir/latest.weights.h5 (Keras' weights file) and backup_dir/training_metadata.json
    ({"epoch": epochs done, "batch": ...}), both written atomically; with double_checkpoint the previous
    pair is kept as *.bkp and used if the latest cannot be read. delete_checkpoint removes backup_dir when
    training finishes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must be a folder path; received an empty value")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int of batches; received "
                             f"{save_freq!r}")
        self.backup_dir, self.save_freq = os.fspath(backup_dir), save_freq
        self.double_checkpoint, self.delete_checkpoint = double_checkpoint, delete_checkpoint
        self._weights = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata = os.path.join(self.backup_dir, "training_metadata.json")
        self._batches_since_saving, self._last_batch, self._epoch = 0, 0, 0

    def on_train_begin(self, logs=None):
        try:
            self._restore(self._weights, self._metadata)
        except (OSError, ValueError):
            if not os.path.exists(self._weights + ".bkp"):
                raise
            self._restore(self._weights + ".bkp", self._metadata + ".bkp")

    def _restore(self, weights, metadata):
        if os.path.exists(weights):
            self.model.load_weights(weights)
        if os.path.exists(metadata):
            with open(metadata) as file:
                self.model._initial_epoch = int(json.load(file)["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        self._epoch, self._last_batch = epoch + 1, 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        seen = batch + 1 if batch <= self._last_batch else batch - self._last_batch
        self._last_batch = batch
        self._batches_since_saving += seen
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights, self._metadata):
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp")
        self.model.save_weights(self._weights)
        with atomic_write(self._metadata, "w") as file:
            json.dump({"epoch": self._epoch, "batch": self._last_batch}, file)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)


class LambdaCallback(Callback):
    """A callback made of functions, as keras.callbacks.LambdaCallback: LambdaCallback(on_epoch_end=lambda
    epoch, logs: ...). Any hook of the protocol may be given by name."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **hooks):
        super().__init__()
        hooks.update(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        unknown = sorted(set(hooks) - set(HOOKS) - {"on_batch_begin", "on_batch_end"})
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {unknown}; the hooks are {list(HOOKS)}")
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)
