"""The depth-stack algorithm (a 3-D convolution as one 2-D convolution of the input depths each output depth reads,
stacked as channels, by "auto") computes what the direct loop computes: with its own zero padding, in runs that
cross from one clip into the next and in runs of one image; it refuses a kernel that is not 3-D."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, assert_padded_equals_direct, generated_cases, tiny_chunks  # noqa: F401

from striate.algorithms import depth_stack

CASES = generated_cases(15, seed=17, ranks=(3,), groups=(1, 2), per_group_in=(1, 2, 3), per_group_out=(1, 2),
                        batch=(2, 4))


def _paddings(seed):
    """Two paddings of the three axes, up to 4 cells a side, so some exceed the kernel's reach."""
    rng = np.random.default_rng(seed)
    return [tuple((int(rng.integers(0, 5)), int(rng.integers(0, 5))) for _ in range(3)) for _ in range(2)]


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_depth_stack_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    """Runs of every output depth of several clips: a run's images cross from one clip into the next."""
    assert_equals_direct(depth_stack, x, kernel, strides, dilation, groups)


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:8])
def test_depth_stack_with_its_own_zero_padding_equals_direct_on_the_padded_input(x, kernel, strides, dilation,
                                                                                 groups):
    """Depths of padding read as zeros (output depths that read padding only are the bias-free zeros), and the
    input gradient leaves the padding's cells out."""
    for padding in _paddings(seed=x.size):
        assert_padded_equals_direct(depth_stack, x, kernel, strides, dilation, groups, padding)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[8:12])
def test_depth_stack_in_runs_of_one_image_on_the_runtime_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_padded_equals_direct(depth_stack, x, kernel, strides, dilation, groups, ((1, 2), (0, 1), (2, 0)))


def test_depth_stack_refuses_a_2d_kernel():
    with pytest.raises(ValueError, match="depth_stack needs a 3-D kernel"):
        depth_stack.conv_forward(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 4, 4)), (1, 1), (1, 1), 1)
