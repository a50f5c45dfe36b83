"""Training really learns: a small CNN on scikit-learn's 8x8 digits and the lectures' network on a slice of
MNIST reach accuracy floors that a wrong gradient or shuffled labels would miss."""

import numpy as np
import pytest

import striate
from striate import layers as L


def small_cnn():
    return striate.Sequential([
        L.Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(10, activation="softmax"),
    ])


def digits():
    pytest.importorskip("sklearn")
    from striate.datasets import digits as digits_dataset

    (x_train, y_train), (x_test, y_test) = digits_dataset.load_data()
    scale = np.float32(1 / 16)
    return (x_train[..., None] * scale, y_train), (x_test[..., None] * scale, y_test)


def train_small_cnn(x, y, epochs=8):
    striate.set_random_seed(0)
    model = small_cnn()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    return model, history


def test_small_cnn_learns_the_8x8_digits():
    (x_train, y_train), (x_test, y_test) = digits()
    model, history = train_small_cnn(x_train, y_train)
    assert history.history["loss"][-1] < history.history["loss"][0] / 4
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] > 0.93


def test_shuffled_labels_do_not_generalize():
    (x_train, y_train), (x_test, y_test) = digits()
    shuffled = np.random.default_rng(0).permutation(y_train)
    model, _ = train_small_cnn(x_train, shuffled, epochs=4)
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] < 0.3


def test_same_seed_repeats_training_bit_for_bit():
    (x_train, y_train), _ = digits()
    first, _ = train_small_cnn(x_train[:300], y_train[:300], epochs=2)
    second, _ = train_small_cnn(x_train[:300], y_train[:300], epochs=2)
    for a, b in zip([w.data for w in first.weights], [w.data for w in second.weights]):
        np.testing.assert_array_equal(a, b)


def test_the_lectures_network_learns_a_slice_of_mnist():
    from striate.datasets import mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except (ImportError, FileNotFoundError) as missing:  # the package is installed by test.sh
        pytest.skip(str(missing))
    scale = np.float32(1 / 255)
    striate.set_random_seed(0)
    model = striate.models.mnist_cnn()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x_train[:3000, ..., None] * scale, y_train[:3000], batch_size=64, epochs=1, verbose=0)
    assert model.evaluate(x_test[:1000, ..., None] * scale, y_test[:1000], return_dict=True)["accuracy"] > 0.85
