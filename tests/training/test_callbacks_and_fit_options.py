"""fit's options and callbacks: History, EarlyStopping, validation_split, augmentation, errors."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.training import EarlyStopping


def tiny_problem(count=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((count, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def compiled_model(learning_rate=0.1):
    striate.set_random_seed(0)
    model = striate.Sequential([L.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(striate.optim.SGD(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_history_records_every_epoch_and_validation_split():
    x, y = tiny_problem()
    history = compiled_model().fit(x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][2] < history.history["loss"][0]


def test_early_stopping_stops_when_the_monitor_stops_improving():
    x, y = tiny_problem()
    model = compiled_model(learning_rate=0.0)  # nothing changes, so val_loss never improves after epoch 1
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    history = model.fit(x, y, epochs=20, validation_data=(x, y), callbacks=[stopper], verbose=0)
    assert len(history.epoch) == 3 and stopper.stopped_epoch == 2


def test_augmentation_sees_every_training_batch():
    x, y = tiny_problem(16)
    seen = []

    def record(batch, rng):
        seen.append(len(batch))
        return batch

    compiled_model().fit(x, y, batch_size=5, epochs=1, augmentation=record, verbose=0)
    assert seen == [5, 5, 5, 1]


def test_fit_before_compile_is_an_error():
    model = striate.Sequential([L.Dense(2, input_shape=(4,))])
    with pytest.raises(RuntimeError, match="call model.compile"):
        model.fit(np.zeros((2, 4)), np.zeros(2))


def test_mismatched_sample_counts_are_an_error():
    with pytest.raises(ValueError, match="fit: x has 3 samples but y has 2"):
        compiled_model().fit(np.zeros((3, 4), np.float32), np.zeros(2))


def test_unknown_loss_names_the_choices():
    model = striate.Sequential([L.Dense(2, input_shape=(4,))])
    with pytest.raises(ValueError, match="loss: unknown 'cross'"):
        model.compile("adam", "cross")
