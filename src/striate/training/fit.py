"""The training loop behind Model.fit / evaluate / predict / train_on_batch, as Keras runs it.

One step: forward in training mode, loss, backward (autodiff fills each weight's .grad), optimizer update.
"""

import time
from contextlib import nullcontext

import numpy as np

from striate.core.random import generator
from striate.core.runtime import no_grad, workers_only
from striate.core.tensor import Tensor
from striate.data.batches import iterate_batches
from striate.training.callbacks import History
from striate.training.progress import Progress


def _require_compiled(model, what):
    if model.compiled is None:
        raise RuntimeError(f"{what}: call model.compile(optimizer, loss, metrics) first")
    return model.compiled


def _check_lengths(what, x, y):
    if y is None:
        raise ValueError(f"{what}: y is None, so x must be a dataset yielding (x_batch, y_batch) batches; received "
                         f"{type(x).__name__} of shape {np.shape(x)}")
    if len(x) != len(y):
        raise ValueError(f"{what}: x has {len(x)} samples but y has {len(y)}")


def train_on_batch(model, x, y):
    """One optimizer step on one batch; returns {"loss": ..., metric: ...} measured before the update.

    The step runs in `workers_only` mode (`striate.core.runtime`): BLAS on one thread, striate's workers
    splitting every large pass.
    """
    compiled = _require_compiled(model, "train_on_batch")
    weights = model.trainable_weights
    for weight in weights:
        weight.grad = None
    with workers_only():
        predictions = model(Tensor(x), training=True)
        loss = compiled.loss(y, predictions)
        loss.backward()
        compiled.optimizer.apply_gradients(weights)
    logs = {"loss": float(loss.item())}
    for name, metric in compiled.metrics.items():
        logs[name] = metric(y, predictions.data)
    return logs


def fit(model, x, y=None, batch_size=32, epochs=1, validation_data=None, validation_split=0.0, shuffle=True,
        callbacks=None, verbose=1, initial_epoch=0, augmentation=None):
    """Train for `epochs` passes over (x, y); returns a History. See keras.Model.fit.

    x, y: arrays; or x a dataset (`is_dataset`), such as `striate.utils.image_dataset_from_directory`'s, and y
    None: each pass over it gives the epoch's batches, so batch_size and shuffle do not apply to it.
    validation_data: (x_val, y_val), or a dataset.
    augmentation: None, or a callable `augmentation(x_batch, rng=generator) -> x_batch` (e.g. a
    `striate.data.Augmentation`) applied to every training batch with striate's generator.
    """
    _require_compiled(model, "fit")
    dataset = is_dataset(x)
    if dataset and (y is not None or validation_split):
        raise ValueError(f"fit: x is a dataset of (x_batch, y_batch), so y must be None and validation_split 0 (hold "
                         f"images out as a validation dataset); received y={type(y).__name__}, validation_split="
                         f"{validation_split}")
    if not dataset:
        _check_lengths("fit", x, y)
    if not 0 <= validation_split < 1:
        raise ValueError(f"fit: validation_split must be in [0, 1); received {validation_split}")
    if validation_split and validation_data is None:
        split = int(len(x) * (1 - validation_split))
        x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
    history = History()
    callbacks = [history, *(callbacks or [])]
    model.stop_training = False
    for callback in callbacks:
        callback.model = model
        callback.on_train_begin()

    for epoch in range(initial_epoch, epochs):
        progress = Progress(f"Epoch {epoch + 1}/{epochs}", None if dataset else len(x), verbose)
        totals, seen, started = {}, 0, time.perf_counter()
        batches = x if dataset else iterate_batches(x, y, batch_size, shuffle=shuffle, seed=generator())
        for x_batch, y_batch in batches:
            if augmentation is not None:
                x_batch = augmentation(x_batch, rng=generator())
            logs = train_on_batch(model, x_batch, y_batch)
            count = len(x_batch)
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + value * count
            seen += count
            progress.update(count, {k: v / seen for k, v in totals.items()}, seen / (time.perf_counter() - started))
        if seen == 0:
            raise ValueError(f"fit: the dataset gave no batch in epoch {epoch + 1} (a generator is used up after one "
                             f"pass; give an object that can be iterated again); received {type(x).__name__}")
        epoch_logs = {k: v / seen for k, v in totals.items()}
        if validation_data is not None:
            validation = (evaluate(model, validation_data, batch_size=batch_size) if is_dataset(validation_data)
                          else evaluate(model, *validation_data, batch_size=batch_size))
            epoch_logs.update({f"val_{k}": v for k, v in validation.items()})
        epoch_logs["seconds"] = time.perf_counter() - started
        model.epochs_trained = epoch + 1
        progress.close(epoch_logs)
        for callback in callbacks:
            callback.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    return history


def predict(model, x, batch_size=32, verbose=0):
    """Model outputs for x (an array, or a dataset whose labels are ignored), batch by batch, in inference mode,
    as one NumPy array.

    A batch of several images runs in `workers_only` mode, as a training step; a single image, which striate
    cannot cut into parts, runs outside it, where its large products get all of BLAS's threads.
    """
    batches = ((b[0] if isinstance(b, tuple) else b) for b in x) if is_dataset(x) else (
        x[start : start + batch_size] for start in range(0, len(x), batch_size))
    outputs = []
    with no_grad():
        for x_batch in batches:
            with workers_only() if len(x_batch) > 1 else nullcontext():
                outputs.append(model(Tensor(x_batch), training=False).data)
    return np.concatenate(outputs)


def evaluate(model, x, y=None, batch_size=32, verbose=0):
    """{"loss": ..., metric: ...} over all of (x, y), or over a dataset of (x_batch, y_batch) and y None, in
    inference mode."""
    compiled = _require_compiled(model, "evaluate")
    if is_dataset(x):
        predictions, y = _predict_dataset(model, x)
    else:
        _check_lengths("evaluate", x, y)
        predictions = predict(model, x, batch_size)
    with no_grad():
        loss = float(compiled.loss(y, Tensor(predictions, dtype=predictions.dtype)).item())
    logs = {"loss": loss}
    for name, metric in compiled.metrics.items():
        logs[name] = metric(y, predictions)
    return logs


def is_dataset(x):
    """Whether x is a dataset (an object iterated for batches, such as an ImageDataset) rather than an array."""
    return hasattr(x, "__iter__") and not hasattr(x, "shape") and not isinstance(x, list | tuple | dict | str)


def _predict_dataset(model, dataset):
    """(model outputs, labels) over one pass of a dataset of (x_batch, y_batch), both concatenated."""
    outputs, labels = [], []
    with no_grad(), workers_only():
        for x_batch, y_batch in dataset:
            outputs.append(model(Tensor(x_batch), training=False).data)
            labels.append(np.asarray(y_batch))
    return np.concatenate(outputs), np.concatenate(labels)
