"""scikit-learn's 8x8 digits: shapes, value range, a seeded stratified split."""

import sys

import numpy as np
import pytest

from striate.datasets import digits

CLASS_SIZES = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_shapes_dtypes_and_range():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert (x_train.shape, x_train.dtype) == ((1438, 8, 8), np.float32)
    assert (x_test.shape, x_test.dtype) == ((359, 8, 8), np.float32)
    assert (y_train.shape, y_train.dtype) == ((1438,), np.int64)
    assert (y_test.shape, y_test.dtype) == ((359,), np.int64)
    for x in (x_train, x_test):
        assert x.min() == 0 and x.max() == 16
        assert np.array_equal(x, np.rint(x))


def _multiset(images, labels):
    """The distinct (image, label) rows and how often each occurs."""
    rows = np.column_stack([images.reshape(len(images), -1), labels])
    return np.unique(rows, axis=0, return_counts=True)


def test_split_is_stratified_and_holds_every_image_exactly_once():
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_fraction=0.25, seed=3)
    assert (np.bincount(y_train) + np.bincount(y_test)).tolist() == CLASS_SIZES
    assert np.bincount(y_test).tolist() == [round(0.25 * n) for n in CLASS_SIZES]

    table = np.loadtxt(digits._source_path(), delimiter=",", dtype=np.float32)
    split_rows, split_counts = _multiset(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    file_rows, file_counts = _multiset(table[:, :64], table[:, 64])
    assert np.array_equal(split_rows, file_rows) and np.array_equal(split_counts, file_counts)


def test_same_seed_same_split_other_seed_other_split():
    (_, y_a), (x_a, _) = digits.load_data(seed=1)
    (_, y_b), (x_b, _) = digits.load_data(seed=1)
    (_, _), (x_c, _) = digits.load_data(seed=2)
    assert np.array_equal(x_a, x_b) and np.array_equal(y_a, y_b)
    assert not np.array_equal(x_a, x_c)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_test_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises(ValueError, match=f"received {fraction}"):
        digits.load_data(test_fraction=fraction)


def test_missing_scikit_learn_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # find_spec("sklearn") now returns None
    with pytest.raises(ModuleNotFoundError, match="pip install scikit-learn"):
        digits.load_data()
