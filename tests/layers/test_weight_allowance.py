"""`weight_allowance`: within it, building refuses weights past a byte budget before allocating them."""

import threading
import tracemalloc

import numpy as np
import pytest

from striate import layers as L
from striate.layers.layer import weight_allowance


def test_weights_within_the_allowance_are_built():
    dense = L.Dense(3)
    with weight_allowance((4 * 3 + 3) * 4):  # kernel (4, 3) and bias (3,), float32
        dense(np.zeros((1, 4), np.float32))
    assert [w.shape for w in dense.weights] == [(4, 3), (3,)]


def test_a_weight_past_the_allowance_is_refused_before_it_is_allocated():
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"dense_\w*/kernel of shape \(1000, 100000\) \(float32\) needs "
                                             r"400,000,000 bytes, more than the 1,000 bytes"):
            with weight_allowance(1000):
                L.Dense(100_000, name="dense_big")(np.zeros((1, 1000), np.float32))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_the_allowance_is_spent_across_layers_and_ends_with_the_block():
    x = np.zeros((1, 4), np.float32)
    with pytest.raises(ValueError, match=r"bias of shape \(3,\) \(float32\) needs 12 bytes, more than the 8 bytes"):
        with weight_allowance(2 * (4 * 3 * 4) + 12 + 8):  # two kernels (4, 3) and one bias (3,), 8 bytes short
            L.Dense(3)(x)
            L.Dense(3)(x)
    L.Dense(1000)(np.zeros((1, 1000), np.float32))  # no allowance outside the block


def test_the_allowance_belongs_to_the_thread_that_set_it():
    built = []
    with weight_allowance(0):
        thread = threading.Thread(target=lambda: built.append(L.Dense(5)(np.zeros((1, 2), np.float32)).shape))
        thread.start()
        thread.join()
    assert built == [(1, 5)]
