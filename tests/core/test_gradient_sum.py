"""A tensor read twice gets the sum of its two gradients; a large sum is added in parts on the threads
(core/tensor.py `_sum`), with the same bits on 1 thread as on 2."""

import numpy as np
import pytest

import striate
from striate import Tensor
from striate.core import tensor as tensor_module


@pytest.mark.parametrize("size", [10, 2 * tensor_module.SUM_PART + 17])
def test_gradient_of_a_tensor_read_twice_is_the_sum_of_both(size):
    rng = np.random.default_rng(size)
    values = rng.standard_normal(size).astype(np.float32)
    upstream = rng.standard_normal(size).astype(np.float32)
    x = Tensor(values, requires_grad=True)
    (x * 2.0 + x * 3.0).backward(upstream)
    np.testing.assert_array_equal(x.grad, (upstream * np.float32(2.0)) + (upstream * np.float32(3.0)))


def test_large_gradient_sum_has_the_same_bits_on_one_and_two_threads():
    values = np.random.default_rng(0).standard_normal(3 * tensor_module.SUM_PART + 5)
    gradients, previous = [], striate.get_num_threads()
    for threads in (1, 2):
        striate.set_num_threads(threads)
        try:
            x = Tensor(values, requires_grad=True)
            (x * 0.1 + x * 0.7).sum().backward()
            gradients.append(x.grad)
        finally:
            striate.set_num_threads(previous)
    np.testing.assert_array_equal(gradients[0], gradients[1])
