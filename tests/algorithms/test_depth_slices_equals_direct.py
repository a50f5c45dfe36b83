"""The depth-slices algorithm (a 3-D convolution as 2-D convolutions over depth slices, each by "auto") computes what
the direct loop computes; it refuses a kernel that is not 3-D."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases

from striate.algorithms import depth_slices

CASES = generated_cases(15, seed=13, ranks=(3,), groups=(1, 2), per_group_in=(1, 2, 3), per_group_out=(1, 2))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_depth_slices_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(depth_slices, x, kernel, strides, dilation, groups)


def test_depth_slices_refuses_a_2d_kernel():
    with pytest.raises(ValueError, match="depth_slices needs a 3-D kernel"):
        depth_slices.conv_forward(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 4, 4)), (1, 1), (1, 1), 1)
