"""The toeplitz algorithm (kernel rows as banded matrices, one wide product) computes what the direct loop computes."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases, tiny_chunks  # noqa: F401

from striate.algorithms import toeplitz

CASES = generated_cases(30, seed=11, ranks=(2,), kernel_sizes=(1, 2, 3, 5), groups=(1,), per_group_in=(1, 2, 6),
                        per_group_out=(1, 3, 6))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_toeplitz_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(toeplitz, x, kernel, strides, dilation, groups)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:6])
def test_toeplitz_in_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(toeplitz, x, kernel, strides, dilation, groups)


def test_toeplitz_band_of_a_1x2_kernel_on_a_width_3_row_is_the_shifted_kernel():
    """One input channel, one filter [a, b] over a row of 3: T = [[a, 0], [b, a], [0, b]] (rows = input cells)."""
    kernel = np.array([[2.0, 5.0]])[:, :, None, None]
    banded = toeplitz._banded(kernel, window=3, tile=2, stride=1, dilation=1, dtype=np.float64)
    np.testing.assert_array_equal(banded, [[2, 0], [5, 2], [0, 5]])


def test_toeplitz_lenet_conv1_shape_in_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 32, 32, 1), dtype=np.float32)
    kernel = rng.standard_normal((5, 5, 1, 6), dtype=np.float32)
    y = toeplitz.conv_forward(x, kernel, (1, 1), (1, 1), 1)
    assert y.shape == (4, 28, 28, 6) and y.dtype == np.float32
    reference = np.einsum("nhwijc,ijcf->nhwf", np.lib.stride_tricks.sliding_window_view(x, (5, 5), (1, 2))
                          .transpose(0, 1, 2, 4, 5, 3), kernel.astype(np.float64))
    np.testing.assert_allclose(y, reference, rtol=1e-4, atol=1e-4)


def test_toeplitz_refuses_groups_and_other_ranks():
    with pytest.raises(ValueError, match=r"toeplitz needs a 2-D kernel and groups=1; received a kernel of shape "
                                         r"\(3, 3, 1, 4\) with groups=2"):
        toeplitz.conv_forward(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 1, 4)), (1, 1), (1, 1), 2)
    with pytest.raises(ValueError, match="toeplitz needs a 2-D kernel"):
        toeplitz.conv_forward(np.zeros((1, 5, 2)), np.zeros((3, 2, 4)), (1,), (1,), 1)


@pytest.mark.parametrize("tile_columns", [1, 4, 12])
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:12])
def test_toeplitz_in_tiles_narrower_than_a_row_equals_direct(monkeypatch, tile_columns, x, kernel, strides, dilation,
                                                             groups):
    monkeypatch.setattr(toeplitz, "TILE_COLUMNS", tile_columns)
    assert_equals_direct(toeplitz, x, kernel, strides, dilation, groups)


@pytest.mark.parametrize(("strides", "dilation"), [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 2), (2, 2))])
def test_toeplitz_lenet_conv1_in_tiles_of_7_equals_direct(strides, dilation):
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal((2, 32, 32, 1)), rng.standard_normal((5, 5, 1, 6))
    assert toeplitz.tile_width(28, 6) == 7
    assert_equals_direct(toeplitz, x, kernel, strides, dilation, 1)


def test_toeplitz_tile_is_the_narrowest_divisor_of_the_row_with_32_product_columns():
    assert toeplitz.tile_width(28, 6) == 7  # LeNet conv1: 42 columns, where 4 would give 24
    assert toeplitz.tile_width(10, 16) == 2  # LeNet conv2
    assert toeplitz.tile_width(13, 6) == 13  # a prime width: whole rows
    assert toeplitz.tile_width(8, 64) == 2  # never 1 (im2col's product): 128 columns
