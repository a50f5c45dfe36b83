"""The depthwise algorithm (shifted multiply-adds) computes what the direct loop computes, also when it pads with
zeros itself; it refuses Cg > 1."""

import numpy as np
import pytest
from algorithm_cases import (  # noqa: F401
    assert_equals_direct,
    assert_padded_equals_direct,
    generated_cases,
    tiny_chunks,
)

from striate.algorithms import depthwise

CASES = generated_cases(18, seed=4, groups=(1, 2, 5), per_group_in=(1,), per_group_out=(1, 2, 3))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_depthwise_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(depthwise, x, kernel, strides, dilation, groups)


def _paddings(count, seed):
    """(before, after) per axis for three axes: none, symmetric, asymmetric, and wider than the kernel's reach."""
    rng = np.random.default_rng(seed)
    return [tuple((int(rng.integers(0, 5)), int(rng.integers(0, 5))) for _ in range(3)) for _ in range(count)]


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_depthwise_with_its_own_zero_padding_equals_direct_on_the_padded_input(x, kernel, strides, dilation, groups):
    rank = x.ndim - 2
    for padding in _paddings(3, seed=x.size):
        assert_padded_equals_direct(depthwise, x, kernel, strides, dilation, groups, padding[:rank])


@pytest.mark.parametrize("padding", [((1, 1), (1, 1)), ((0, 2), (3, 0)), ((4, 4), (2, 2))])
@pytest.mark.parametrize(("strides", "dilation"), [((1, 1), (1, 1)), ((2, 1), (1, 1)), ((1, 1), (2, 3))])
def test_depthwise_3x3_window_path_with_padding_equals_direct(padding, strides, dilation):
    """The 3x3 windows summed in one expression (inside the input) and the border cells (taps cut by the padding)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 9, 11, 20))
    kernel = rng.standard_normal((3, 3, 1, 20))
    assert_padded_equals_direct(depthwise, x, kernel, strides, dilation, 20, padding)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:4])
def test_depthwise_in_one_image_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(depthwise, x, kernel, strides, dilation, groups)


def test_depthwise_refuses_two_channels_per_group():
    with pytest.raises(ValueError, match="depthwise needs one input channel per group"):
        depthwise.conv_forward(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 2, 4)), (1, 1), (1, 1), 2)
