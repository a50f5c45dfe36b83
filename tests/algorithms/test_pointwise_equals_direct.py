"""The pointwise (1x1) algorithm computes what the direct loop computes; it refuses larger kernels."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases

from striate.algorithms import pointwise


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"),
                         generated_cases(18, seed=3, kernel_sizes=(1,), per_group_in=(1, 4)))
def test_pointwise_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(pointwise, x, kernel, strides, dilation, groups)


def test_pointwise_refuses_a_3x3_kernel():
    with pytest.raises(ValueError, match=r"pointwise needs a 1x1 kernel \(one cell per axis\); received "
                                         r"kernel_size=\(3, 3\)"):
        pointwise.conv_forward(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 2)), (1, 1), (1, 1), 1)
