"""im2col computes exactly what the lectures' direct loop computes: forward, input gradient, kernel gradient.

The direct loop is the reference (it is the definition); generated cases cover 1-D/2-D/3-D, strides per axis,
dilation, groups (including depthwise) and inputs with cells the last window does not reach.
"""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, assert_padded_equals_direct, tiny_chunks  # noqa: F401
from algorithm_cases import generated_cases as algorithm_generated_cases

from striate.algorithms import direct, im2col
from striate.algorithms.windows import windows_output_shape


def generated_cases(count=40, seed=7):
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        rank = 1 + index % 3
        groups = int(rng.choice([1, 2, 3]))
        per_group_in, per_group_out = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel_size = tuple(int(k) for k in rng.integers(1, 4, rank))
        strides = tuple(int(s) for s in rng.integers(1, 4, rank))
        dilation = tuple(int(d) for d in rng.integers(1, 3, rank))
        spatial = tuple(int(d * (k - 1) + 1 + rng.integers(0, 5)) for k, d in zip(kernel_size, dilation))
        batch = int(rng.integers(1, 3))
        x = rng.standard_normal((batch, *spatial, groups * per_group_in))
        kernel = rng.standard_normal((*kernel_size, per_group_in, groups * per_group_out))
        cases.append(pytest.param(x, kernel, strides, dilation, groups, id=f"case{index}-rank{rank}-g{groups}"))
    return cases


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), generated_cases())
def test_im2col_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    rank = kernel.ndim - 2
    out_shape = windows_output_shape(x.shape[1:-1], kernel.shape[:rank], strides, dilation)
    grad_output = np.random.default_rng(1).standard_normal((x.shape[0], *out_shape, kernel.shape[-1]))

    np.testing.assert_allclose(im2col.conv_forward(x, kernel, strides, dilation, groups),
                               direct.conv_forward(x, kernel, strides, dilation, groups), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        im2col.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, groups),
        direct.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, groups), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        im2col.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, groups),
        direct.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, groups), rtol=1e-12, atol=1e-12)


def test_direct_forward_is_the_lectures_sum_of_products():
    """One output value by hand: the top-left 3x3 patch of the lectures' 6x6 image times the edge filter."""
    image = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                      [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=float)
    edge = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
    y = direct.conv_forward(image[None, :, :, None], edge[:, :, None, None], (1, 1), (1, 1), 1)
    assert y[0, 0, 0, 0] == 3 * 1 + 1 * 1 + 2 * 1 - 1 * 1 - 8 * 1 - 2 * 1  # = -5


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), generated_cases(count=6, seed=8))
def test_im2col_in_one_image_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(im2col, x, kernel, strides, dilation, groups)


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"),
                         algorithm_generated_cases(12, seed=9, per_group_in=(3, 17), per_group_out=(1, 3)))
def test_im2col_with_many_channels_per_group_equals_direct(x, kernel, strides, dilation, groups):
    """3 and 17 input channels per group: the window-by-window copy and the per-offset col2im products."""
    assert_equals_direct(im2col, x, kernel, strides, dilation, groups)


def _paddings(rank, seed):
    """Three (before, after) paddings per axis: up to 4 cells, so some exceed the kernel's reach."""
    rng = np.random.default_rng(seed)
    return [tuple((int(rng.integers(0, 5)), int(rng.integers(0, 5))) for _ in range(rank)) for _ in range(3)]


PADDED_CASES = (generated_cases(count=18, seed=10)
                + algorithm_generated_cases(9, seed=11, per_group_in=(1, 3, 17), per_group_out=(1, 3))
                # 2-D, one group, 33 input channels: the input gradient by the compiled col2im
                + algorithm_generated_cases(6, seed=12, ranks=(2,), groups=(1,), per_group_in=(33,),
                                            per_group_out=(2,))
                # 1-D, one group, 17 input channels: the compiled column fill, as 2-D with height 1
                + algorithm_generated_cases(3, seed=13, ranks=(1,), groups=(1,), per_group_in=(17,)))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), PADDED_CASES)
def test_im2col_with_its_own_zero_padding_equals_direct_on_the_padded_input(x, kernel, strides, dilation, groups):
    """Each path: one or two channels (offset copies; stride 1: the full convolution of dy), thin, wide col2im and
    the compiled col2im."""
    for padding in _paddings(x.ndim - 2, seed=x.size):
        assert_padded_equals_direct(im2col, x, kernel, strides, dilation, groups, padding)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), PADDED_CASES[:4])
def test_im2col_with_its_own_zero_padding_in_one_image_chunks_equals_direct(x, kernel, strides, dilation, groups):
    assert_padded_equals_direct(im2col, x, kernel, strides, dilation, groups, _paddings(x.ndim - 2, seed=1)[0])


@pytest.mark.parametrize(("channels", "kernel_size", "dilation", "padding"), [
    (1, 3, 1, ((2, 0), (1, 2))), (1, 5, 1, ((1, 3), (4, 0))), (2, 3, 2, ((0, 4), (3, 1))), (2, 3, 1, ((1, 1), (1, 1)))])
def test_im2col_input_gradient_as_a_full_convolution_with_padding_equals_direct(channels, kernel_size, dilation,
                                                                               padding):
    """Stride 1, one or two channels, padding within the kernel's reach: dy is padded by the reach less the padding."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 7, 8, channels))
    kernel = rng.standard_normal((kernel_size, kernel_size, channels, 3))
    assert_padded_equals_direct(im2col, x, kernel, (1, 1), (dilation, dilation), 1, padding)


ROW_PART_CASES = (
    # one group, 5 channels: the compiled column fill; 1 or 2 channels or 2 groups: the columns of a padded copy
    algorithm_generated_cases(4, seed=14, ranks=(2,), groups=(1,), per_group_in=(5,), extra=(3, 6))
    + algorithm_generated_cases(4, seed=15, ranks=(2, 3), groups=(1, 2), per_group_in=(1, 2), extra=(3, 6)))


@pytest.mark.parametrize("budget", [1, 2048], ids=["one row per part", "several rows per part"])
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), ROW_PART_CASES)
def test_im2col_in_parts_of_output_rows_equals_direct(x, kernel, strides, dilation, groups, budget, monkeypatch):
    """An image whose columns exceed the chunk budget: the forward pass and the kernel gradient build them for runs
    of its output rows (`image_and_row_chunks`), on two threads, the padding's rows among them."""
    from striate.algorithms import chunking
    from striate.core import runtime

    monkeypatch.setattr(chunking, "CHUNK_BYTES", budget)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    for padding in _paddings(x.ndim - 2, seed=x.size)[:2]:
        assert_padded_equals_direct(im2col, x, kernel, strides, dilation, groups, padding)
