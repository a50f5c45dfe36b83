"""The per-group algorithm (one ungrouped convolution per group, each by "auto") computes what the direct loop
computes, also when it pads with zeros itself; it refuses a convolution of one group."""

import numpy as np
import pytest
from algorithm_cases import (  # noqa: F401
    assert_equals_direct,
    assert_padded_equals_direct,
    generated_cases,
    tiny_chunks,
)

from striate.algorithms import per_group

CASES = generated_cases(18, seed=11, groups=(2, 3, 4), per_group_in=(2, 3), per_group_out=(1, 2, 3))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_per_group_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(per_group, x, kernel, strides, dilation, groups)


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:6])
def test_per_group_with_its_own_zero_padding_equals_direct_on_the_padded_input(x, kernel, strides, dilation, groups):
    padding = ((2, 1), (0, 3), (1, 1))[: x.ndim - 2]
    assert_padded_equals_direct(per_group, x, kernel, strides, dilation, groups, padding)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:4])
def test_per_group_with_the_groups_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(per_group, x, kernel, strides, dilation, groups)


def test_per_group_refuses_one_group():
    with pytest.raises(ValueError, match="per_group needs groups > 1"):
        per_group.conv_forward(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 4, 4)), (1, 1), (1, 1), 1)
