"""predict's batches: in order, slices of x (no copy of the images); fit's batches stay copies, so an augmentation
that writes into its batch never changes the caller's data."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.training.fit import Batches


def test_predict_takes_each_batch_as_a_slice_of_x():
    x = np.arange(7 * 3, dtype=np.float32).reshape(7, 3)
    batches = [batch for batch, _, _ in Batches("predict", x, None, None, 3, False).epoch()]
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert all(np.shares_memory(batch, x) for batch in batches)
    np.testing.assert_array_equal(np.concatenate(batches), x)
    parts = [batch for batch, _, _ in Batches("predict", [x, 2 * x], None, None, 4, False).epoch()]
    np.testing.assert_array_equal(parts[1][1], 2 * x[4:])


def test_fit_batches_in_order_are_copies():
    x, y = np.zeros((4, 3), np.float32), np.arange(4)
    for batch, _, _ in Batches("fit", x, y, None, 2, False).epoch():
        batch += 1  # an augmentation writing in place
    np.testing.assert_array_equal(x, 0)


def test_predict_in_batches_equals_the_model_on_each_slice():
    striate.set_random_seed(0)
    model = striate.Sequential([L.InputLayer((5,)), L.Dense(4, activation="relu"), L.Dense(2)])
    x = np.random.default_rng(0).standard_normal((9, 5)).astype(np.float32)
    kept = x.copy()
    predicted = model.predict(x, batch_size=4, verbose=0)
    expected = np.concatenate([model.predict_on_batch(x[start:start + 4]) for start in (0, 4, 8)])
    np.testing.assert_array_equal(predicted, expected)
    np.testing.assert_array_equal(x, kept)
    assert not np.shares_memory(model.predict(x[:1], batch_size=1, verbose=0), x)  # the result is a new array


def test_predict_of_one_batch_without_callbacks_is_the_layers_arithmetic_in_a_new_array():
    striate.set_random_seed(0)
    model = striate.Sequential([L.InputLayer((5,)), L.Dense(4, activation="relu"), L.Dense(2)])
    (w1, b1), (w2, b2) = ([w.data.astype(np.float64) for w in layer.weights] for layer in model.layers)
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    for batch_size in (3, 32):
        predicted = model.predict(x, batch_size=batch_size, verbose=0)
        np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)
        assert predicted.dtype == np.float32 and not np.shares_memory(predicted, x)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.predict(x, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="x gave no batch"):
        model.predict(x[:0], verbose=0)
