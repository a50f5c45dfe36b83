"""iterate_batches: one epoch visits every sample once, in a repeatable order under a seed."""

import numpy as np
import pytest

from striate.data import iterate_batches

X = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
Y = np.arange(10)


@pytest.mark.parametrize(
    ("batch_size", "drop_last", "sizes"),
    [(4, False, [4, 4, 2]), (4, True, [4, 4]), (5, False, [5, 5]), (5, True, [5, 5]), (20, False, [10]),
     (20, True, [])],
)
def test_batch_sizes(batch_size, drop_last, sizes):
    batches = list(iterate_batches(X, Y, batch_size, seed=0, drop_last=drop_last))
    assert [len(y) for _, y in batches] == sizes
    assert all(x.shape[1:] == (3,) for x, _ in batches)


@pytest.mark.parametrize("shuffle", [True, False])
def test_every_sample_exactly_once_per_epoch_with_x_and_y_aligned(shuffle):
    batches = list(iterate_batches(X, Y, 3, shuffle=shuffle, seed=1))
    y_seen = np.concatenate([y for _, y in batches])
    assert sorted(y_seen.tolist()) == list(range(10))
    for x_batch, y_batch in batches:
        assert np.array_equal(x_batch, X[y_batch])
    assert (y_seen.tolist() == list(range(10))) is not shuffle


def test_seed_makes_the_order_repeatable():
    def order(seed):
        return np.concatenate([y for _, y in iterate_batches(X, Y, 4, seed=seed)]).tolist()

    assert order(7) == order(7)
    assert order(7) != order(8)


def test_a_generator_seed_gives_a_new_order_each_epoch():
    rng = np.random.default_rng(0)
    first, second = ([y.tolist() for _, y in iterate_batches(X, Y, 10, seed=rng)] for _ in range(2))
    assert first != second


def test_mismatched_lengths_name_both():
    with pytest.raises(ValueError, match=r"len\(x\)=10, len\(y\)=9"):
        iterate_batches(X, Y[:9], 4)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        iterate_batches(X, Y, batch_size)
