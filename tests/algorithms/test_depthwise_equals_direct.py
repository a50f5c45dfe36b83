"""The depthwise algorithm (shifted multiply-adds) computes what the direct loop computes; it refuses Cg > 1."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases, tiny_chunks  # noqa: F401

from striate.algorithms import depthwise

CASES = generated_cases(18, seed=4, groups=(1, 2, 5), per_group_in=(1,), per_group_out=(1, 2, 3))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_depthwise_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(depthwise, x, kernel, strides, dilation, groups)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:4])
def test_depthwise_in_one_image_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(depthwise, x, kernel, strides, dilation, groups)


def test_depthwise_refuses_two_channels_per_group():
    with pytest.raises(ValueError, match="depthwise needs one input channel per group"):
        depthwise.conv_forward(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 2, 4)), (1, 1), (1, 1), 2)
