"""RunCheckpoint: saved every N steps, resumed mid-epoch to the uninterrupted run's exact weights; a checkpoint
with NaN weights is not saved, so the file keeps the last good one."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.models.saving import load_metadata, load_model
from striate.training.callbacks import Callback
from striate.training.checkpoint import RunCheckpoint


def problem():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((80, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def noisy(x_batch, rng):
    """An augmentation drawing from striate's generator, so that a resume must restore it exactly."""
    return x_batch + np.float32(0.1) * rng.standard_normal(x_batch.shape).astype(np.float32)


def fresh_model():
    striate.set_random_seed(3)
    model = striate.Sequential([L.Dense(16, activation="relu", input_shape=(4,)), L.Dropout(0.5),
                                L.Dense(2, activation="softmax")])
    model.compile(striate.optim.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    return model


class Interrupt(Exception):
    pass


class InterruptAt(Callback):
    """Raise (as a kill would stop the process) after the given 0-based batch of the given epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Interrupt


def test_a_run_interrupted_mid_epoch_resumes_to_the_uninterrupted_weights(tmp_path):
    x, y = problem()
    options = {"batch_size": 8, "epochs": 3, "augmentation": noisy, "verbose": 0}  # 10 batches per epoch
    reference = fresh_model()
    reference.fit(x, y, **options)

    path = str(tmp_path / "checkpoint.safetensors")
    model = fresh_model()
    with pytest.raises(Interrupt):  # in epoch 2 (index 1), after batch 7; the last checkpoint is at 6 steps
        model.fit(x, y, callbacks=[RunCheckpoint(path, every=3), InterruptAt(1, 6)], **options)
    assert load_metadata(path)["step"] == "6" and load_metadata(path)["epoch"] == "1"

    striate.set_random_seed(99)  # whatever the generator holds now, the checkpoint's states replace it
    resumed, epochs_done, step, checkpoint = RunCheckpoint.resume(path, every=3)
    assert (epochs_done, step) == (1, 6)
    resumed.fit(x, y, initial_epoch=epochs_done, initial_step=step, callbacks=[checkpoint], **options)
    for mine, theirs in zip(resumed.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)
    assert checkpoint.saved == (3, 0) and load_metadata(path)["step"] == "0"


def test_resuming_without_the_epoch_start_state_would_differ(tmp_path):
    """The test above can fail: skipping the trained batches alone, in another order, gives other weights."""
    x, y = problem()
    options = {"batch_size": 8, "epochs": 2, "augmentation": noisy, "verbose": 0}
    reference = fresh_model()
    reference.fit(x, y, **options)
    path = str(tmp_path / "checkpoint.safetensors")
    with pytest.raises(Interrupt):
        fresh_model().fit(x, y, callbacks=[RunCheckpoint(path, every=3), InterruptAt(1, 4)], **options)
    resumed = load_model(path)  # the step's random state only, no RunCheckpoint to restore the epoch's order
    resumed.fit(x, y, initial_epoch=1, initial_step=3, **options)
    assert not np.array_equal(resumed.weights[0].data, reference.weights[0].data)


class PoisonAfter(Callback):
    """Make a weight NaN after the given 0-based batch of the first epoch (as a diverging step would)."""

    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch:
            self.model.weights[0].data[0, 0] = np.nan


def test_non_finite_weights_are_never_checkpointed_and_the_last_good_one_stays(tmp_path):
    x, y = problem()
    path = str(tmp_path / "checkpoint.safetensors")
    model = fresh_model()
    checkpoint = RunCheckpoint(path, every=2)
    model.fit(x, y, batch_size=8, epochs=1, callbacks=[PoisonAfter(4), checkpoint], verbose=0)
    assert checkpoint.saved == (0, 4) and checkpoint.refused == (0, 6)
    good = load_model(path)
    assert all(np.isfinite(weight.data).all() for weight in good.weights)
    assert load_metadata(path)["step"] == "4"


@pytest.mark.parametrize("extra, problem", [({"step": "three"}, "the metadata 'step' must be a whole number"),
                                            ({"step": "3"}, "needs the metadata 'epoch_random_state'"),
                                            ({"step": "3", "epoch_random_state": "{}"}, "a state of striate's"),
                                            ({"algorithm_choices": '[["forward", [[1, 5, 5, 3]], "im2col"]]'},
                                             "'algorithm_choices' must be"),
                                            ({"algorithm_choices": '[["forward", [[1], [3], [1], [1], 1], "fast"]]'},
                                             "'algorithm_choices' must be .*an entry \\['forward', 'fast', 1\\]")])
def test_a_checkpoint_with_a_malformed_position_is_one_file_format_error(tmp_path, extra, problem):
    from striate import FileFormatError
    from striate.models.saving import save_model

    path = str(tmp_path / "checkpoint.safetensors")
    save_model(fresh_model(), path, extra_metadata=extra)
    with pytest.raises(FileFormatError, match=problem):
        RunCheckpoint.resume(path)


def test_a_checkpoint_keeps_the_measured_algorithms_and_resuming_restores_them(tmp_path):
    """A new process could measure another candidate fastest (values differing in the last bits): the resumed run
    takes the choices the run had made, as the checkpoint recorded them."""
    from striate.algorithms import Case, measured

    case = Case((8, 10, 10, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1)
    measured.forget_measured()
    measured.record({("forward", case): "vectorized", ("kernel gradient", case): "winograd"})
    x, y = problem()
    path = str(tmp_path / "checkpoint.safetensors")
    model = fresh_model()
    model.fit(x, y, batch_size=8, epochs=1, callbacks=[RunCheckpoint(path)], verbose=0)
    measured.forget_measured()  # as in a new process
    RunCheckpoint.resume(path)
    assert measured.measured_choices() == {("forward", case): "vectorized", ("kernel gradient", case): "winograd"}
    measured.forget_measured()
