"""The separable algorithm (a column pass and a row pass) computes what the direct loop computes on rank-1 kernels."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases

from striate.algorithms import separable


def rank_one(kernel, seed):
    """A kernel of the same shape whose every slice w[:, :, c, o] is an outer product u v^T."""
    rng = np.random.default_rng(seed)
    kh, kw, per_group_in, channels_out = kernel.shape
    u = rng.standard_normal((kh, 1, per_group_in, channels_out))
    v = rng.standard_normal((1, kw, per_group_in, channels_out))
    return u * v


CASES = generated_cases(18, seed=9, ranks=(2,), kernel_sizes=(1, 2, 3, 5))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_separable_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(separable, x, rank_one(kernel, seed=x.size), strides, dilation, groups)


def test_separable_sobel_is_a_smoothing_column_pass_then_a_difference_row_pass():
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)[:, :, None, None]
    u, v = separable.factors(sobel)
    np.testing.assert_allclose(np.outer(u[:, 0, 0], v[:, 0, 0]), sobel[:, :, 0, 0], atol=1e-12)
    assert np.allclose(u[:, 0, 0] / u[0, 0, 0], [1, 2, 1])


def test_separable_refuses_a_full_rank_kernel():
    with pytest.raises(ValueError, match="separable needs a rank-1 kernel"):
        separable.conv_forward(np.zeros((1, 5, 5, 1)), np.eye(3)[:, :, None, None], (1, 1), (1, 1), 1)
