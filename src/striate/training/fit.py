"""The training loop behind Model.fit / evaluate / predict / train_on_batch / test_on_batch / predict_on_batch,
as Keras 3 runs it.

One step: forward in training mode, the loss (weighted by sample weights when given), backward (autodiff fills
each weight's .grad), optimizer update. Callbacks are called in Keras' order (training/callbacks.py):

    on_train_begin
      for each epoch: on_epoch_begin(epoch)
        for each batch: on_train_batch_begin(b), step, on_train_batch_end(b, running logs)
                        (stops early when a callback sets model.stop_training)
        validation, every validation_freq epochs: evaluate's on_test_* hooks on the same callbacks
        on_epoch_end(epoch, {"loss", metrics..., "val_loss", "val_<metric>"...})
    on_train_end(last epoch's logs)

Data (x, y) may be arrays (a list of arrays for a model of several inputs), or x alone a dataset: an
iterable of batches (x_b, y_b) or (x_b, y_b, sample_weight_b) such as `striate.utils.image_dataset_from_directory`'s,
a generator, or a `striate.utils.PyDataset` (`__len__` batches, `__getitem__(i)` the i-th).
"""

import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.random import generator
from striate.core.runtime import no_grad, workers_only
from striate.core.tensor import Tensor
from striate.distributed.data_parallel import data_parallel
from striate.training.callbacks import CallbackList, History
from striate.training.compiled import Running
from striate.training.finite import check_finite_batch
from striate.training.progress import Progress

if TYPE_CHECKING:
    from striate.models.model import Model
    from striate.training.callbacks import Callback

Logs = float | list[float] | dict[str, float]
"""What evaluate and *_on_batch return: the loss alone, [loss, metric, ...], or {name: value} (return_dict)."""
Verbose = Literal["auto", 0, 1, 2]


def _require_compiled(model: "Model", what: str) -> Any:
    if model.compiled is None:
        raise RuntimeError(f"{what}: call model.compile(optimizer, loss, metrics) first")
    return model.compiled


# ---- one batch ------------------------------------------------------------------------------------------------
def train_on_batch(model: "Model", x: Any, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
                   class_weight: dict[int, float] | None = None, return_dict: bool = False) -> Logs:
    """One optimizer step on one batch; returns the loss (and metrics) measured before the update: the loss
    alone, [loss, metric, ...] with metrics, or the dict with return_dict=True (keras.Model.train_on_batch).

    The step runs in `workers_only` mode (`striate.core.runtime`): BLAS on one thread, striate's workers
    splitting every large pass.
    """
    compiled = _require_compiled(model, "train_on_batch")
    sample_weight = _sample_weights("train_on_batch", y, sample_weight, class_weight, _count(x))
    running = Running(compiled)
    _train_step(model, x, y, sample_weight, running)
    logs = running.result()
    return logs if return_dict else compiled.flatten(logs)


def test_on_batch(model: "Model", x: Any, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
                  return_dict: bool = False) -> Logs:
    """The loss (and metrics) of one batch in inference mode, as train_on_batch returns them
    (keras.Model.test_on_batch)."""
    compiled = _require_compiled(model, "test_on_batch")
    running = Running(compiled)
    _test_step(model, x, y, _sample_weights("test_on_batch", y, sample_weight, None, _count(x)), running)
    logs = running.result()
    return logs if return_dict else compiled.flatten(logs)


def predict_on_batch(model: "Model", x: Any) -> NDArray[Any]:
    """The model's outputs for one batch, in inference mode, as a NumPy array."""
    with no_grad():
        return model(_as_input(x), training=False).data


def _train_step(model, x, y, sample_weight, running, parallel=None):
    """Forward, weighted loss, backward and update on one batch; adds the batch to `running`. With `parallel`
    (a striate.distributed.DataParallel) the batch is this rank's shard: backward starts from the shard's loss
    sum (mean x samples) and the gradients are summed over the ranks and divided by the global batch size."""
    compiled = model.compiled
    weights = model.trainable_weights
    if parallel is not None and _count(x) == 0:
        parallel.step_without_samples(weights, compiled.optimizer)
        return
    for weight in weights:
        weight.grad = None
    with workers_only():
        predictions = model(_as_input(x), training=True)
        y = compiled.labels_for(y, predictions)
        loss = compiled.compute_loss(y, predictions, sample_weight) + regularization(model)
        if parallel is None:
            loss.backward()
        else:
            (loss * _count(x)).backward()
            parallel.average_gradients(weights, _count(x))
        compiled.optimizer.apply_gradients(weights)
    running.update(float(loss.item()), y, predictions.data)


def _test_step(model, x, y, sample_weight, running):
    compiled = model.compiled
    with no_grad(), workers_only() if _count(x) > 1 else nullcontext():
        predictions = model(_as_input(x), training=False)
        y = compiled.labels_for(y, predictions)
        loss = compiled.compute_loss(y, predictions, sample_weight) + regularization(model)
    running.update(float(loss.item()), y, predictions.data)


def regularization(model: "Model") -> Any:
    """The sum of `model.losses` (the penalties of striate.regularizers), which Keras adds to the loss; 0 without."""
    return sum(model.losses, 0.0)


# ---- fit ------------------------------------------------------------------------------------------------------
def fit(model: "Model", x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
        verbose: Verbose = "auto", callbacks: "Sequence[Callback] | None" = None, validation_split: float = 0.0,
        validation_data: Any = None, shuffle: bool = True, class_weight: dict[int, float] | None = None,
        sample_weight: ArrayLike | None = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
        validation_steps: int | None = None, validation_batch_size: int | None = None,
        validation_freq: int | Sequence[int] = 1, augmentation: Callable[..., Any] | None = None,
        initial_step: int = 0, distributed: Any = False) -> History:
    """Train for `epochs` passes over (x, y); returns a History (keras.Model.fit).

    x, y: arrays; or x a dataset and y None (see the module's docstring; batch_size and shuffle do not
        apply to a dataset, which gives its own batches).
    batch_size: samples per batch; default 32.
    verbose: "auto" or 1 (a progress bar), 2 (one line per epoch), 0 (silent).
    validation_split: the fraction of (x, y) held out, taken from the end before shuffling, as Keras.
    validation_data: (x_val, y_val), (x_val, y_val, sample_weight_val), or a dataset.
    class_weight: {class: weight}: each sample's loss weighted by its class's weight (1 for a class not
        named). sample_weight: (N,) weights of the samples' losses. The loss is sum_i w_i l_i / batch size.
    steps_per_epoch: batches per epoch; the data is then drawn on across epochs (a generator's included).
    validation_steps, validation_batch_size: the batches and batch size of validation.
    validation_freq: validate every that many epochs (an int), or after the epochs listed (1-based).
    augmentation: None, or a callable `augmentation(x_batch, rng=generator) -> x_batch` (e.g. a
        `striate.data.Augmentation`) applied to every training batch with striate's generator.
    initial_step: batches of initial_epoch trained before (resuming a checkpoint saved mid-epoch,
        striate.training.checkpoint): the epoch draws its order as usual and skips them.
    distributed: True (or a `striate.distributed.DataParallel`) in an MPI job: each rank trains on its shard
        of every global batch of batch_size samples, gradients and epoch logs are reduced over the ranks, and
        only rank 0 draws the progress bar (striate.distributed.data_parallel).
    Every training batch is checked for NaN and infinity first (striate.training.finite; a ValueError
    names the batch).
    """
    compiled = _require_compiled(model, "fit")
    batch_size = 32 if batch_size is None else batch_size
    if is_dataset(x) and (y is not None or validation_split or sample_weight is not None):
        raise ValueError(f"fit: x is a dataset of (x_batch, y_batch), so y must be None and validation_split 0 "
                         f"(hold images out as a validation dataset), and sample_weight None (the dataset's batches "
                         f"may carry weights); received y={type(y).__name__}, validation_split={validation_split}")
    if not 0 <= validation_split < 1:
        raise ValueError(f"fit: validation_split must be in [0, 1); received {validation_split}")
    if validation_split and validation_data is None:
        _check_lengths("fit", x, y)
        split = int(_count(x) * (1 - validation_split))
        x, validation_x = _take(x, slice(None, split)), _take(x, slice(split, None))
        y, validation_data = y[:split], (validation_x, y[split:])
        if sample_weight is not None:
            validation_data += (np.asarray(sample_weight)[split:],)
            sample_weight = np.asarray(sample_weight)[:split]
    data = Batches("fit", x, y, sample_weight, batch_size, shuffle, steps_per_epoch, class_weight)
    parallel = data_parallel(model, distributed)
    verbose = 1 if verbose == "auto" else verbose
    history = History()
    callback_list = CallbackList(callbacks, model, {"verbose": verbose, "epochs": epochs, "steps": data.steps},
                                 history=history)
    model.stop_training = False
    model._initial_epoch = None
    running = Running(compiled)
    callback_list.call("on_train_begin", None)
    initial_epoch = model._initial_epoch or initial_epoch
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        running.reset()
        callback_list.call("on_epoch_begin", epoch, None)
        progress = Progress(f"Epoch {epoch + 1}/{epochs}", data.samples,
                            verbose if parallel is None or parallel.is_main else 0)
        started, batch = time.perf_counter(), -1
        for batch, (x_batch, y_batch, weights) in enumerate(data.epoch() if parallel is None else parallel.epoch(data)):
            if epoch == initial_epoch and batch < initial_step:
                continue
            check_finite_batch(x_batch, y_batch, epoch, batch)
            callback_list.call("on_train_batch_begin", batch, None)
            if augmentation is not None:
                x_batch = augmentation(x_batch, rng=generator())
            _train_step(model, x_batch, y_batch, weights, running, parallel)
            logs = running.result()
            images, seen = (_count(x_batch), running.seen) if parallel is None else parallel.global_counts()
            progress.update(images, logs, seen / (time.perf_counter() - started))
            callback_list.call("on_train_batch_end", batch, logs)
            if model.stop_training:
                break
        if batch < 0:
            raise ValueError(f"fit: the dataset gave no batch in epoch {epoch + 1} (a generator is used up after one "
                             f"pass; give an object that can be iterated again, or steps_per_epoch); received "
                             f"{type(x).__name__}")
        epoch_logs = running.result() if parallel is None else parallel.epoch_logs(running)
        if validation_data is not None and _should_validate(epoch, validation_freq) and parallel is not None:
            validation = parallel.evaluate(model, validation_data, validation_batch_size or batch_size)
            epoch_logs.update({f"val_{key}": value for key, value in validation.items()})
        elif validation_data is not None and _should_validate(epoch, validation_freq):
            x_val, y_val, weights_val = _unpack(validation_data)
            validation_logs = evaluate(model, x_val, y_val, batch_size=validation_batch_size or batch_size,
                                       verbose=0, sample_weight=weights_val, steps=validation_steps,
                                       callbacks=callback_list, return_dict=True)
            assert isinstance(validation_logs, dict)  # return_dict=True
            epoch_logs.update({f"val_{key}": value for key, value in validation_logs.items()})
        model.epochs_trained = epoch + 1
        progress.close(epoch_logs)
        callback_list.call("on_epoch_end", epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.call("on_train_end", epoch_logs)
    return history


def _should_validate(epoch: int, validation_freq: int | Sequence[int]) -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


# ---- evaluate and predict -------------------------------------------------------------------------------------
def evaluate(model: "Model", x: Any = None, y: ArrayLike | None = None, batch_size: int | None = None,
             verbose: Verbose = "auto", sample_weight: ArrayLike | None = None, steps: int | None = None,
             callbacks: "Sequence[Callback] | CallbackList | None" = None, return_dict: bool = False) -> Logs:
    """The loss and metrics over all of (x, y), or over a dataset and y None, in inference mode: the loss
    alone, [loss, metric, ...] with metrics, or the dict with return_dict=True (keras.Model.evaluate).

    callbacks: a list, or the CallbackList of a running fit (its validation).
    """
    compiled = _require_compiled(model, "evaluate")
    data = Batches("evaluate", x, y, sample_weight, 32 if batch_size is None else batch_size, False, steps)
    verbose = 1 if verbose == "auto" else verbose
    if not isinstance(callbacks, CallbackList):
        callbacks = CallbackList(callbacks, model, {"verbose": verbose, "epochs": 1, "steps": data.steps})
    running = Running(compiled)
    progress = Progress("evaluate", data.samples, verbose)
    callbacks.call("on_test_begin", None)
    started = time.perf_counter()
    for batch, (x_batch, y_batch, weights) in enumerate(data.epoch()):
        callbacks.call("on_test_batch_begin", batch, None)
        _test_step(model, x_batch, y_batch, weights, running)
        logs = running.result()
        progress.update(_count(x_batch), logs, running.seen / (time.perf_counter() - started))
        callbacks.call("on_test_batch_end", batch, logs)
    logs = running.result()
    progress.close(logs)
    callbacks.call("on_test_end", logs)
    return logs if return_dict else compiled.flatten(logs)


def predict(model: "Model", x: Any, batch_size: int | None = None, verbose: Verbose = "auto",
            steps: int | None = None, callbacks: "Sequence[Callback] | None" = None) -> NDArray[Any]:
    """Model outputs for x (an array, a list of arrays, or a dataset whose labels are ignored), batch by batch,
    in inference mode, as one NumPy array (keras.Model.predict).

    A batch of several images runs in `workers_only` mode, as a training step; a single image, which striate
    cannot cut into parts, runs outside it, where its large products get all of BLAS's threads.

    Arrays that fit in one batch, with verbose=0 and no callbacks (a server's call on one image), skip the batch
    loop's bookkeeping (the batches, callbacks and progress bar: 21-33 us of a small network's 200-300 us batch-1
    predict, 8-11 us left) and give the same array.
    """
    if verbose == 0 and not callbacks and steps is None and _one_batch(x, 32 if batch_size is None else batch_size):
        return np.concatenate([_predict_batch(model, _take(x, slice(None)))])
    data = Batches("predict", x, None, None, 32 if batch_size is None else batch_size, False, steps)
    verbose = 1 if verbose == "auto" else verbose
    callback_list = CallbackList(callbacks, model, {"verbose": verbose, "epochs": 1, "steps": data.steps})
    progress = Progress("predict", data.samples, verbose)
    callback_list.call("on_predict_begin", None)
    outputs, started, seen = [], time.perf_counter(), 0
    for batch, (x_batch, _, _) in enumerate(data.epoch()):
        callback_list.call("on_predict_batch_begin", batch, None)
        outputs.append(_predict_batch(model, x_batch))
        seen += _count(x_batch)
        progress.update(_count(x_batch), {}, seen / (time.perf_counter() - started))
        callback_list.call("on_predict_batch_end", batch, {"outputs": outputs[-1]})
    progress.close({})
    callback_list.call("on_predict_end", None)
    if not outputs:
        raise ValueError(f"predict: x gave no batch; received {type(x).__name__}")
    return np.concatenate(outputs)


def _predict_batch(model, x_batch):
    """The model's outputs (NumPy) for one batch in inference mode, in `workers_only` mode for several samples."""
    with no_grad(), workers_only() if _count(x_batch) > 1 else nullcontext():
        return model(_as_input(x_batch), training=False).data


def _one_batch(x, batch_size):
    """Whether x is an array (or a list of arrays) of at least one and at most `batch_size` samples, batch_size a
    valid one (else `Batches` takes x, and raises what is wrong)."""
    return (type(batch_size) is int and batch_size >= 1 and not is_dataset(x)
            and (isinstance(x, np.ndarray) or isinstance(x, list | tuple) and len(x) > 0 and all(
                isinstance(part, np.ndarray) for part in x)) and 0 < _count(x) <= batch_size)


# ---- data -----------------------------------------------------------------------------------------------------
class Batches:
    """The batches (x_batch, y_batch, sample_weight_batch or None) of one source, epoch after epoch, as Keras'
    EpochIterator: arrays cut into `batch_size` slices (in a new random order each epoch with shuffle, drawn
    from striate's generator when the epoch's first batch is taken), or a dataset's own batches.

    With `steps`, each epoch takes that many batches, drawing on where the previous epoch stopped; a source
    that runs out ends the epoch early (with a warning) and starts over in the next one.
    """

    def __init__(self, what, x, y, sample_weight, batch_size, shuffle, steps=None, class_weight=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"{what}: batch_size must be a positive integer; received {batch_size!r}")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"{what}: steps must be a positive integer or None; received {steps!r}")
        if class_weight is not None and sample_weight is not None:
            raise ValueError(f"{what}: give class_weight or sample_weight, not both")
        self.what, self.x, self.y, self.batch_size, self.shuffle = what, x, y, int(batch_size), shuffle
        self.class_weight, self.dataset = class_weight, is_dataset(x)
        if not self.dataset:
            if what != "predict":
                _check_lengths(what, x, y)
            self.sample_weight = _sample_weights(what, y, sample_weight, class_weight, _count(x))
            self.samples = _count(x)
            per_pass = -(-self.samples // self.batch_size)
        else:
            self.sample_weight, self.samples = None, None
            per_pass = len(x) if hasattr(x, "__len__") else None
        self.steps = steps if steps is not None else per_pass
        self.limit, self._current = steps, None

    def epoch(self):
        """The batches of the next epoch."""
        if self.limit is None:
            yield from self._pass()
            return
        for step in range(self.limit):
            if self._current is None:
                self._current = self._pass()
            try:
                yield next(self._current)
            except StopIteration:
                self._current = None
                warnings.warn(f"{self.what}: the data ran out after {step} of steps={self.limit} batches in this "
                              "epoch; the next epoch starts it over", stacklevel=2)
                return

    def _pass(self):
        """One pass over the source."""
        if not self.dataset:
            count = self.samples
            order = generator().permutation(count) if self.shuffle else np.arange(count)
            # predict only reads its batches: in order, each is a slice of x (a view, no copy of the images)
            in_place = self.what == "predict" and not self.shuffle
            for start in range(0, count, self.batch_size):
                indices = slice(start, start + self.batch_size) if in_place else order[start:start + self.batch_size]
                y = None if self.y is None else np.asarray(self.y)[indices]
                weights = None if self.sample_weight is None else self.sample_weight[indices]
                yield _take(self.x, indices), y, weights
            return
        source = self.x
        if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
            batches = (source[index] for index in range(len(source)))
        else:
            batches = iter(source)
        for element in batches:
            x, y, weights = _unpack(element)
            if self.class_weight is not None:
                weights = _sample_weights(self.what, y, None, self.class_weight, _count(x))
            yield x, y, weights
        if hasattr(source, "on_epoch_end"):
            source.on_epoch_end()


def _unpack(element):
    """(x, y, sample_weight) of a batch or of validation_data given as x, (x,), (x, y) or (x, y, w)."""
    if isinstance(element, tuple):
        if not 1 <= len(element) <= 3:
            raise ValueError(f"a batch is (x,), (x, y) or (x, y, sample_weight); received a tuple of {len(element)}")
        return (*element, *(None,) * (3 - len(element)))
    return element, None, None


def _sample_weights(what, y, sample_weight, class_weight, count):
    """(N,) weights from sample_weight, or from class_weight and the labels y (integers (N,) or (N, 1), or
    one-hot rows); None when neither is given."""
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError(f"{what}: give class_weight or sample_weight, not both")
        labels = np.asarray(y)
        labels = labels.argmax(axis=-1) if labels.ndim > 1 and labels.shape[-1] > 1 else labels.reshape(len(labels))
        return np.array([class_weight.get(int(label), 1.0) for label in labels], dtype=np.float32)
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float32)
    if weights.shape != (count,):
        raise ValueError(f"{what}: sample_weight must hold one weight per sample, shape ({count},); received shape "
                         f"{weights.shape}")
    return weights


def _check_lengths(what, x, y):
    if y is None:
        raise ValueError(f"{what}: y is None, so x must be a dataset yielding (x_batch, y_batch) batches; received "
                         f"{type(x).__name__} of shape {np.shape(x)}")
    if _count(x) != len(y):
        raise ValueError(f"{what}: x has {_count(x)} samples but y has {len(y)}")


def _count(x):
    """Samples in x: an array, or a list of arrays (a model of several inputs)."""
    return len(x[0]) if isinstance(x, list | tuple) else len(x)


def _take(x, index):
    return [np.asarray(part)[index] for part in x] if isinstance(x, list | tuple) else np.asarray(x)[index]


def _as_input(x):
    return [Tensor(part) for part in x] if isinstance(x, list | tuple) else Tensor(x)


def is_dataset(x: Any) -> bool:
    """Whether x is a dataset (an object giving batches: an iterable, a generator, a PyDataset) rather than an
    array or a list of arrays."""
    return ((hasattr(x, "__iter__") or hasattr(x, "__getitem__")) and not hasattr(x, "shape")
            and not isinstance(x, list | tuple | dict | str))
