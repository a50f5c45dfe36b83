"""The training loop behind Model.fit / evaluate / predict / train_on_batch, as Keras runs it.

One step: forward in training mode, loss, backward (autodiff fills each weight's .grad), optimizer update.
"""

import time

import numpy as np

from striate.algorithms.chunking import workers_only
from striate.core.grad_mode import no_grad
from striate.core.random import generator
from striate.core.tensor import Tensor
from striate.data.batches import iterate_batches
from striate.training.callbacks import History
from striate.training.progress import Progress


def _require_compiled(model, what):
    if model.compiled is None:
        raise RuntimeError(f"{what}: call model.compile(optimizer, loss, metrics) first")
    return model.compiled


def _check_lengths(what, x, y):
    if len(x) != len(y):
        raise ValueError(f"{what}: x has {len(x)} samples but y has {len(y)}")


def train_on_batch(model, x, y):
    """One optimizer step on one batch; returns {"loss": ..., metric: ...} measured before the update.

    The step runs in `workers_only` mode (`striate.algorithms.chunking`): BLAS on one thread, striate's two
    workers splitting every large pass.
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


def fit(model, x, y, batch_size=32, epochs=1, validation_data=None, validation_split=0.0, shuffle=True,
        callbacks=None, verbose=1, initial_epoch=0, augmentation=None):
    """Train for `epochs` passes over (x, y); returns a History. See keras.Model.fit.

    augmentation: None, or a callable `augmentation(x_batch, rng=generator) -> x_batch` (e.g. a
    `striate.data.Augmentation`) applied to every training batch with striate's generator.
    """
    _require_compiled(model, "fit")
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
        progress = Progress(f"Epoch {epoch + 1}/{epochs}", len(x), verbose)
        totals, seen, started = {}, 0, time.perf_counter()
        for x_batch, y_batch in iterate_batches(x, y, batch_size, shuffle=shuffle, seed=generator()):
            if augmentation is not None:
                x_batch = augmentation(x_batch, rng=generator())
            logs = train_on_batch(model, x_batch, y_batch)
            count = len(x_batch)
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + value * count
            seen += count
            progress.update(count, {k: v / seen for k, v in totals.items()}, seen / (time.perf_counter() - started))
        epoch_logs = {k: v / seen for k, v in totals.items()}
        if validation_data is not None:
            validation = evaluate(model, *validation_data, batch_size=batch_size)
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
    """Model outputs for x, batch by batch, in inference mode, as one NumPy array (in `workers_only` mode, as a
    training step)."""
    outputs = []
    with no_grad(), workers_only():
        for start in range(0, len(x), batch_size):
            outputs.append(model(Tensor(x[start : start + batch_size]), training=False).data)
    return np.concatenate(outputs)


def evaluate(model, x, y, batch_size=32, verbose=0):
    """{"loss": ..., metric: ...} over all of (x, y) in inference mode."""
    compiled = _require_compiled(model, "evaluate")
    _check_lengths("evaluate", x, y)
    predictions = predict(model, x, batch_size)
    with no_grad():
        loss = float(compiled.loss(y, Tensor(predictions, dtype=predictions.dtype)).item())
    logs = {"loss": loss}
    for name, metric in compiled.metrics.items():
        logs[name] = metric(y, predictions)
    return logs
