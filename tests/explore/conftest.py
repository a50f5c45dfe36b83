"""Fixtures of the explorer's tests: a tiny CNN trained on 500 MNIST images (seconds), saved to a file, its
Explorer and a test client, and `server_url`: the real `striate explore` command in a subprocess."""

import numpy as np
import pytest
from explore_browser import serve

import striate
from striate import layers as L
from striate.datasets import mnist


@pytest.fixture(scope="session")
def mnist_test_images():
    """(x (10000, 28, 28, 1) float32 in [0, 1], y) of MNIST's test set."""
    _, (x_test, y_test) = mnist.load_data()
    return x_test[..., None].astype(np.float32) / 255, y_test


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    """A tiny CNN trained for 2 epochs on 300 MNIST training images: same padding, pooling, a stride-2 conv."""
    (x_train, y_train), _ = mnist.load_data()
    striate.set_random_seed(0)
    model = striate.Sequential([
        L.Conv2D(4, 3, padding="same", activation="relu", input_shape=(28, 28, 1), name="conv1"),
        L.MaxPooling2D(2, name="pool1"),
        L.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv2"),
        L.Flatten(name="flatten"),
        L.Dense(10, activation="softmax", name="predictions"),
    ], name="tiny_cnn")
    model.compile(striate.optim.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x_train[:500, ..., None].astype(np.float32) / 255, y_train[:500], batch_size=32, epochs=3, verbose=0)
    path = tmp_path_factory.mktemp("explore") / "tiny.safetensors"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def model(model_path):
    return striate.load_model(model_path)


@pytest.fixture(scope="session")
def explorer(model_path):
    from striate.explore import Explorer

    return Explorer.from_path(model_path)


@pytest.fixture(scope="session")
def client(explorer):
    from starlette.testclient import TestClient

    from striate.explore import create_app

    with TestClient(create_app(explorer)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def server_url(model_path):
    """The URL of `striate explore MODEL --port 0` running in a subprocess; at the end it is stopped with
    Ctrl-C (SIGINT) and must exit cleanly with status 0."""
    with serve(model_path) as url:
        yield url
