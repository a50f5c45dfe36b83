"""Each callback against Keras' own, driven through the same sequence of logs with a stand-in model, or
against a worked example."""

import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras
from striate import callbacks
from striate import layers as L

pytestmark = [IGNORE_KERAS_WARNINGS, pytest.mark.filterwarnings("ignore::UserWarning")]


class StandIn:
    """What a callback touches of a model: the optimizer's learning rate, stop_training, weights (the
    current epoch's number, so a restore shows which epoch it came from), save / save_weights (recorded)."""

    def __init__(self):
        self.optimizer = SimpleNamespace(learning_rate=0.1)
        self.stop_training, self.epoch, self.saved = False, 0, []

    def get_weights(self):
        return [np.array([self.epoch])]

    def set_weights(self, weights):
        self.epoch = int(weights[0][0])

    def save(self, path, overwrite=True):
        self.saved.append(("model", path))

    def save_weights(self, path, overwrite=True):
        self.saved.append(("weights", path))


def drive(callback, epoch_logs, batch_logs=()):
    """Run `callback` through fit's calls with the given logs of each epoch (and of each batch in every epoch);
    returns (model, [(learning rate, stop_training) after each epoch], the logs each epoch ended with)."""
    model = StandIn()
    callback.set_model(model)
    callback.on_train_begin({})
    trace, ended = [], []
    for epoch, logs in enumerate(epoch_logs):
        model.epoch = epoch
        callback.on_epoch_begin(epoch, {})
        for batch, logs_of_batch in enumerate(batch_logs):
            callback.on_train_batch_begin(batch, {})
            callback.on_train_batch_end(batch, dict(logs_of_batch))
            if model.stop_training:
                break
        logs = dict(logs)
        callback.on_epoch_end(epoch, logs)
        ended.append(logs)
        trace.append((float(model.optimizer.learning_rate), model.stop_training))
        if model.stop_training:
            break
    callback.on_train_end({})
    return model, trace, ended


def same_as_keras(name, *arguments, epoch_logs, batch_logs=(), **options):
    ours = drive(getattr(callbacks, name)(*arguments, **options), epoch_logs, batch_logs)
    theirs = drive(getattr(keras.callbacks, name)(*arguments, **options), epoch_logs, batch_logs)
    return ours, theirs


VAL_LOSS = [{"loss": v + 0.1, "val_loss": v} for v in (1.0, 0.8, 0.79995, 0.81, 0.9, 0.7, 0.75, 0.76, 0.77, 0.78)]
VAL_ACCURACY = [{"val_accuracy": v} for v in (0.5, 0.6, 0.6, 0.59, 0.7, 0.7, 0.71, 0.69, 0.68, 0.5)]


@pytest.mark.parametrize("options", [
    dict(patience=2), dict(patience=1, min_delta=0.01), dict(patience=2, restore_best_weights=True),
    dict(patience=2, baseline=0.75), dict(patience=1, start_from_epoch=4, restore_best_weights=True),
    dict(monitor="val_accuracy", mode="max", patience=2, restore_best_weights=True),
])
def test_early_stopping_stops_and_restores_where_keras_does(options):
    logs = VAL_ACCURACY if options.get("monitor") == "val_accuracy" else VAL_LOSS
    (ours, our_trace, _), (theirs, their_trace, _) = same_as_keras("EarlyStopping", epoch_logs=logs, **options)
    assert our_trace == their_trace
    assert ours.epoch == theirs.epoch  # the weights of the same epoch restored (or the last epoch's kept)


@pytest.mark.parametrize("options", [
    dict(patience=1), dict(patience=2, factor=0.5, cooldown=1), dict(patience=1, min_lr=0.02, factor=0.3),
    dict(patience=1, min_delta=0.05), dict(monitor="val_accuracy", mode="max", patience=1),
])
def test_reduce_lr_on_plateau_changes_the_rate_when_keras_does(options):
    logs = VAL_ACCURACY if options.get("monitor") == "val_accuracy" else VAL_LOSS
    (_, our_trace, our_logs), (_, their_trace, their_logs) = same_as_keras("ReduceLROnPlateau", epoch_logs=logs,
                                                                          **options)
    np.testing.assert_allclose([rate for rate, _ in our_trace], [rate for rate, _ in their_trace], rtol=1e-6)
    assert [log["learning_rate"] for log in our_logs] == pytest.approx([log["learning_rate"] for log in their_logs])


def test_learning_rate_scheduler_sets_the_schedule_s_rate_as_keras():
    def halve_after_two(epoch, rate):
        return rate if epoch < 2 else rate * 0.5

    def by_epoch(epoch):
        return 0.1 / (1 + epoch)

    for schedule in (halve_after_two, by_epoch):
        (_, ours, our_logs), (_, theirs, their_logs) = same_as_keras("LearningRateScheduler", schedule,
                                                                    epoch_logs=VAL_LOSS[:5])
        assert ours == theirs
        assert [log["learning_rate"] for log in our_logs] == pytest.approx([log["learning_rate"] for log in their_logs])


def test_terminate_on_nan_stops_at_the_first_non_finite_loss_and_names_the_batch(capsys):
    batches = [{"loss": 0.5}, {"loss": 0.4}, {"loss": math.inf}, {"loss": 0.3}]
    terminator = callbacks.TerminateOnNaN()
    (_, ours, _), (_, theirs, _) = (drive(terminator, VAL_LOSS[:3], batches),
                                    drive(keras.callbacks.TerminateOnNaN(), VAL_LOSS[:3], batches))
    assert ours == theirs == [(0.1, True)]
    assert (terminator.stopped_epoch, terminator.stopped_batch) == (0, 2)
    assert capsys.readouterr().out.splitlines() == ["Batch 2: Invalid loss, terminating training"] * 2
    with pytest.raises(RuntimeError, match="at batch 1 of epoch 1"):
        drive(callbacks.TerminateOnNaN(raise_error=True), VAL_LOSS[:1], [{"loss": 0.1}, {"loss": math.nan}])


def test_terminate_on_nan_ends_a_real_fit_at_the_batch_whose_loss_is_nan():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 3)).astype(np.float32), np.zeros((12, 1), np.float32)
    y[5] = 1e30  # in the second batch of 4: its square overflows float32
    model = striate.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(striate.optim.SGD(0.0), "mse")
    terminator = callbacks.TerminateOnNaN()
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=[terminator])
    assert (terminator.stopped_epoch, terminator.stopped_batch) == (0, 1) and history.epoch == [0]


@pytest.mark.parametrize("append", [False, True])
def test_csv_logger_writes_the_rows_keras_writes(tmp_path, append):
    logs = [{"loss": 0.5, "accuracy": 0.25, "val_loss": 0.625, "val_accuracy": 0.5},
            {"loss": 0.25, "accuracy": 0.75, "val_loss": 0.5, "val_accuracy": 0.75}]
    texts = []
    for module in (callbacks, keras.callbacks):
        path = tmp_path / f"{module.__name__}.csv"
        for _ in range(2 if append else 1):
            drive(module.CSVLogger(str(path), append=append), logs)
        texts.append(path.read_text())
    assert texts[0] == texts[1]
    assert texts[0].splitlines()[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(texts[0].splitlines()) == (5 if append else 3)


def test_csv_logger_has_every_finished_epoch_on_disk_while_training_runs(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(str(path))
    logger.set_model(StandIn())
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 0.5})
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,0.5,NA"]  # flushed, file still open
    logger.on_train_end({})


@pytest.mark.parametrize("options", [
    dict(filepath="{folder}/m-{epoch:02d}-{val_loss:.2f}.keras"),
    dict(filepath="{folder}/best.keras", save_best_only=True),
    dict(filepath="{folder}/best-{epoch}.weights.h5", save_best_only=True, save_weights_only=True),
    dict(filepath="{folder}/acc-{epoch}.keras", save_best_only=True, monitor="val_accuracy", mode="max",
         initial_value_threshold=0.55),
    dict(filepath="{folder}/e{epoch}-b{batch}.keras", save_freq=3),
])
def test_model_checkpoint_saves_the_files_keras_saves(tmp_path, options):
    options = {**options, "filepath": options["filepath"].replace("{folder}", str(tmp_path))}
    logs = [{**a, **b} for a, b in zip(VAL_LOSS, VAL_ACCURACY)][:6]
    batches = [{"loss": 0.5}] * 4
    (ours, _, _), (theirs, _, _) = same_as_keras("ModelCheckpoint", epoch_logs=logs, batch_logs=batches, **options)
    assert ours.saved == theirs.saved and ours.saved


def test_model_checkpoint_refuses_a_file_kind_it_cannot_write():
    with pytest.raises(ValueError, match="must end in .weights.h5 or .safetensors"):
        callbacks.ModelCheckpoint("ckpt.keras", save_weights_only=True)


def test_backup_and_restore_resumes_an_interrupted_run_where_it_stopped(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.integers(0, 2, 16)

    def model():
        striate.set_random_seed(0)
        net = striate.Sequential([L.Dense(2, activation="softmax", input_shape=(3,))])
        net.compile(striate.optim.SGD(0.1), "sparse_categorical_crossentropy")
        return net

    def interrupt(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    uninterrupted = model()
    uninterrupted.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0)
    resumed, backup = model(), callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        resumed.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0,
                    callbacks=[backup, callbacks.LambdaCallback(on_epoch_end=interrupt)])
    metadata = (tmp_path / "backup" / "training_metadata.json").read_text()
    assert metadata == '{"epoch": 3, "batch": 0}'  # epochs 0, 1 and 2 done and backed up
    fresh = model()  # a new process: the same initial weights, then the backup's
    history = fresh.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0, callbacks=[backup])
    assert history.epoch == [3, 4]
    for ours, expected in zip(fresh.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_allclose(ours, expected, rtol=1e-6)
    assert not os.path.exists(tmp_path / "backup")  # delete_checkpoint


def test_lambda_callback_calls_the_functions_it_was_given():
    seen = []
    callback = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch)),
                                        on_test_end=lambda logs: seen.append(("test", sorted(logs))))
    model = striate.Sequential([L.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    x = np.ones((4, 2), np.float32)
    model.fit(x, np.ones((4, 1)), epochs=2, validation_data=(x, np.ones((4, 1))), verbose=0, callbacks=[callback])
    assert seen == [("test", ["loss"]), ("epoch", 0), ("test", ["loss"]), ("epoch", 1)]
    with pytest.raises(TypeError, match="unknown hooks"):
        callbacks.LambdaCallback(on_epoch_ended=print)
