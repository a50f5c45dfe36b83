"""The depthwise loops at their edges equal PyTorch's grouped convolution (groups = C_in), forward and both
gradients: 3x3 windows cut by 'same' padding, stride 2 on odd sizes, padding wider than the kernel's reach,
dilation, depth multipliers, partial vectors of channels, other 2-D kernels, float32 and float64; 3-D kernels in
numba's loops, both of their kernel-gradient paths (few channels: row by row, also with rows longer than one block
of sums; many: cell by cell); and the same bits at any thread count."""

import numpy as np
import pytest
import torch

import striate
from striate.algorithms import depthwise, depthwise_loops


def _same_padding(size, stride, dilation, kernel=3):
    """Keras' 'same': output ceil(size / stride), the padding split with the extra cell after."""
    total = max((-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return (total // 2, total - total // 2)


def _torch_reference(x, kernel, strides, dilation, padding, grad_output):
    """y, dx, dw of torch's conv2d with groups = C_in on x zero-padded by `padding`, in striate's layouts."""
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    w_t = torch.tensor(kernel.transpose(3, 2, 0, 1), requires_grad=True)
    (top, bottom), (left, right) = padding
    padded = torch.nn.functional.pad(x_t, (left, right, top, bottom))
    y_t = torch.nn.functional.conv2d(padded, w_t, stride=strides, dilation=dilation, groups=x.shape[-1])
    y_t.backward(torch.tensor(grad_output.transpose(0, 3, 1, 2)))
    return (y_t.detach().numpy().transpose(0, 2, 3, 1), x_t.grad.numpy().transpose(0, 2, 3, 1),
            w_t.grad.numpy().transpose(2, 3, 1, 0))


def _assert_matches_torch(x, kernel, strides, dilation, padding, tolerance):
    y = depthwise.conv_forward(x, kernel, strides, dilation, x.shape[-1], padding)
    grad_output = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    expected_y, expected_dx, expected_dw = _torch_reference(x, kernel, strides, dilation, padding, grad_output)
    dx = depthwise.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, x.shape[-1], padding)
    dw = depthwise.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, x.shape[-1], padding)
    assert y.dtype == dx.dtype == dw.dtype == x.dtype
    np.testing.assert_allclose(y, expected_y, rtol=tolerance, atol=tolerance, err_msg="forward")
    np.testing.assert_allclose(dx, expected_dx, rtol=tolerance, atol=tolerance, err_msg="input gradient")
    np.testing.assert_allclose(dw, expected_dw, rtol=tolerance, atol=tolerance * 10, err_msg="kernel gradient")


CASES = [  # (height, width, channels, multiplier, strides, dilation, padding: "same", "valid" or explicit pairs)
    (9, 7, 5, 1, (2, 2), (1, 1), "same"),  # stride 2, odd sizes: the padding is all before nothing, 1 after
    (9, 7, 5, 1, (2, 2), (1, 1), "valid"),
    (8, 8, 5, 1, (2, 2), (1, 1), "same"),  # even sizes: 0 before, 1 after
    (10, 11, 70, 1, (1, 1), (1, 1), "same"),  # 70 channels: four whole vectors of float32, then 6 lanes
    (10, 11, 70, 1, (2, 2), (1, 1), "same"),
    (7, 9, 3, 2, (1, 1), (1, 1), "same"),  # depth multiplier 2
    (7, 9, 3, 3, (2, 1), (1, 1), "valid"),  # depth multiplier 3, stride along one axis
    (11, 10, 4, 1, (1, 2), (2, 2), "same"),  # dilation 2
    (5, 6, 4, 1, (1, 1), (1, 1), ((4, 4), (0, 5))),  # padding wider than the kernel: rows and columns of zeros
    (3, 4, 6, 1, (2, 3), (1, 1), ((2, 0), (3, 3))),
    (6, 150, 8, 1, (1, 1), (1, 1), "same"),  # runs of 148 pixels along a row, half a vector of channels
    (5, 37, 32, 1, (1, 1), (1, 1), "same"),  # two whole vectors of float32 channels; runs of 35 pixels, odd
    (1, 2, 17, 1, (1, 1), (1, 1), "same"),  # one row, two columns: every window reaches into the padding
    (4, 1, 5, 2, (2, 1), (1, 1), "same"),  # one column: the taps left and right of it are padding
    (6, 9, 16, 1, (1, 3), (1, 1), ((1, 2), (2, 1))),  # windows three tap columns apart: none kept across pixels
]


def _case(height, width, channels, multiplier, strides, dilation, padding, dtype):
    rng = np.random.default_rng(height * width + channels)
    x = rng.standard_normal((2, height, width, channels)).astype(dtype)
    kernel = rng.standard_normal((3, 3, 1, channels * multiplier)).astype(dtype)
    if padding == "same":
        padding = tuple(_same_padding(n, s, d) for n, s, d in zip((height, width), strides, dilation))
    elif padding == "valid":
        padding = ((0, 0), (0, 0))
    return x, kernel, padding


@pytest.mark.parametrize(("height", "width", "channels", "multiplier", "strides", "dilation", "padding"), CASES)
def test_depthwise_3x3_float64_equals_torch_forward_and_both_gradients(height, width, channels, multiplier, strides,
                                                                        dilation, padding):
    x, kernel, padding = _case(height, width, channels, multiplier, strides, dilation, padding, np.float64)
    _assert_matches_torch(x, kernel, strides, dilation, padding, tolerance=1e-10)


@pytest.mark.parametrize(("height", "width", "channels", "multiplier", "strides", "dilation", "padding"), CASES)
def test_depthwise_3x3_float32_equals_torch_forward_and_both_gradients(height, width, channels, multiplier, strides,
                                                                        dilation, padding):
    x, kernel, padding = _case(height, width, channels, multiplier, strides, dilation, padding, np.float32)
    _assert_matches_torch(x, kernel, strides, dilation, padding, tolerance=2e-4)


CASES_3D = [  # (depth, height, width, channels, kernel, strides): 3-D kernels, in numba's loops over the channels
    (4, 5, 6, 5, (2, 3, 3), (1, 1, 1)),  # few channels, stride 1 along the rows: the kernel gradient row by row
    (3, 4, 150, 8, (2, 1, 3), (1, 1, 1)),  # rows of 150 x 8 values: more than one block of sums per row
    (4, 5, 6, 70, (2, 3, 3), (1, 1, 1)),  # 70 channels: the kernel gradient cell by cell
    (5, 6, 7, 6, (3, 2, 3), (2, 1, 2)),  # stride 2 along the rows: cell by cell; the strided input gradient
]


@pytest.mark.parametrize(("depth", "height", "width", "channels", "kernel_size", "strides"), CASES_3D)
def test_depthwise_3d_kernels_equal_torch_forward_and_both_gradients(depth, height, width, channels, kernel_size,
                                                                      strides):
    """A 3-D kernel (k_d > 1) runs in numba's loops; 'same'-like padding on every axis, float64."""
    rng = np.random.default_rng(channels + width)
    x = rng.standard_normal((2, depth, height, width, channels))
    kernel = rng.standard_normal((*kernel_size, 1, channels))
    padding = tuple(_same_padding(n, s, 1, k) for n, s, k in zip((depth, height, width), strides, kernel_size))
    y = depthwise.conv_forward(x, kernel, strides, (1, 1, 1), channels, padding)
    grad_output = rng.standard_normal(y.shape)
    dx = depthwise.conv_input_gradient(grad_output, kernel, x.shape, strides, (1, 1, 1), channels, padding)
    dw = depthwise.conv_kernel_gradient(x, grad_output, kernel.shape, strides, (1, 1, 1), channels, padding)
    x_t = torch.tensor(x.transpose(0, 4, 1, 2, 3), requires_grad=True)
    w_t = torch.tensor(kernel.transpose(4, 3, 0, 1, 2), requires_grad=True)
    flat_padding = [size for pair in reversed(padding) for size in pair]
    y_t = torch.nn.functional.conv3d(torch.nn.functional.pad(x_t, flat_padding), w_t, stride=strides, groups=channels)
    y_t.backward(torch.tensor(grad_output.transpose(0, 4, 1, 2, 3)))
    np.testing.assert_allclose(y, y_t.detach().numpy().transpose(0, 2, 3, 4, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, x_t.grad.numpy().transpose(0, 2, 3, 4, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, w_t.grad.numpy().transpose(2, 3, 4, 1, 0), rtol=1e-10, atol=1e-9)


def test_both_3d_kernel_gradient_paths_are_covered_by_the_cases():
    """The 3-D cases hold channel counts on both sides of SHORT_CHANNELS and a row longer than ROW_BLOCK values, so
    both kernel-gradient loops of numba run, the row-by-row one over several blocks."""
    channels = {case[3] for case in CASES_3D}
    assert min(channels) < depthwise_loops.SHORT_CHANNELS <= max(channels)
    assert any(case[2] * case[3] > depthwise_loops.ROW_BLOCK and case[5][2] == 1 for case in CASES_3D)


def test_3x3_forward_worked_example_by_hand():
    """One channel, a 3x3 input of ones and 'same' padding: each output is its number of taps inside x times 1
    (kernel of ones), 4 in the corners, 6 on the edges, 9 in the middle; stride 2 keeps the corners."""
    x = np.ones((1, 3, 3, 1))
    kernel = np.ones((3, 3, 1, 1))
    y = depthwise.conv_forward(x, kernel, (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    np.testing.assert_array_equal(y[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    y = depthwise.conv_forward(x, kernel, (2, 2), (1, 1), 1, ((1, 1), (1, 1)))
    np.testing.assert_array_equal(y[0, :, :, 0], [[4, 4], [4, 4]])


def test_3x3_kernel_gradient_adds_nothing_for_a_padded_tap_even_where_the_output_gradient_is_infinite():
    """Worked by hand: a 3x3 input of ones, 'same' padding, dy infinite at the top-left output and zero elsewhere.
    That output reads x under taps (1, 1), (1, 2), (2, 1), (2, 2): their sums are infinite. Its other five taps
    fall in the padding and add nothing (a product 0 x inf would be NaN), and every other output adds 0 x 1: the
    remaining sums are 0."""
    x = np.ones((1, 3, 3, 1))
    grad_output = np.zeros((1, 3, 3, 1))
    grad_output[0, 0, 0, 0] = np.inf
    dw = depthwise.conv_kernel_gradient(x, grad_output, (3, 3, 1, 1), (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    np.testing.assert_array_equal(dw[:, :, 0, 0], [[0, 0, 0], [0, np.inf, np.inf], [0, np.inf, np.inf]])


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_depthwise_passes_give_the_same_bits_at_any_thread_count(threads):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((12, 16, 16, 24)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 1, 24)).astype(np.float32)
    padding = ((1, 1), (1, 1))
    grad_output = rng.standard_normal((12, 16, 16, 24)).astype(np.float32)

    def passes():
        return (depthwise.conv_forward(x, kernel, (1, 1), (1, 1), 24, padding),
                depthwise.conv_input_gradient(grad_output, kernel, x.shape, (1, 1), (1, 1), 24, padding),
                depthwise.conv_kernel_gradient(x, grad_output, kernel.shape, (1, 1), (1, 1), 24, padding))

    before = striate.get_num_threads()
    try:
        striate.set_num_threads(1)
        one = passes()
        striate.set_num_threads(threads)
        many = passes()
    finally:
        striate.set_num_threads(before)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("kernel_size", "channels", "strides", "dilation", "dtype"), [
    ((5, 5), 24, (1, 1), (1, 1), np.float32),  # MobileNetV3's 5x5 layers: row passes of 5, a partial vector of 8
    ((5, 5), 40, (2, 2), (1, 1), np.float32),  # stride 2: no window column kept from pixel to pixel
    ((7, 7), 16, (1, 1), (1, 1), np.float32),  # ConvNeXt's 7x7: the widest row pass, the image narrower than it
    ((7, 3), 9, (1, 2), (1, 1), np.float64),  # float64: vectors of 8, the last of 1 channel
    ((2, 1), 5, (1, 1), (1, 1), np.float32),  # one column: a row pass of one tap
    ((3, 2), 17, (2, 1), (1, 1), np.float32),  # an even width: the padding split unevenly
    ((1, 4), 33, (1, 2), (1, 2), np.float32),  # stride = dilation along the row: windows kept across pixels
    ((4, 6), 8, (1, 1), (2, 2), np.float64),  # dilation 2: windows reach across most of the image
    ((2, 9), 12, (1, 1), (1, 1), np.float32),  # wider than the row passes: each cell sums its taps (`_cell`)
])
def test_depthwise_other_2d_kernels_equal_torch_forward_and_both_gradients(kernel_size, channels, strides, dilation,
                                                                           dtype):
    """A 2-D kernel other than 3x3: row passes of up to depthwise_rows.MAX_ROW_TAPS taps, every cell by `_cell`
    beyond, in all passes ('same' padding: the border cells have windows cut on every side)."""
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, 13, 11, channels)).astype(dtype)
    kernel = rng.standard_normal((*kernel_size, 1, channels)).astype(dtype)
    padding = tuple(_same_padding(n, s, d, k) for n, s, d, k in zip((13, 11), strides, dilation, kernel_size))
    _assert_matches_torch(x, kernel, strides, dilation, padding, tolerance=1e-4 if dtype == np.float32 else 1e-10)


def test_row_pass_kernel_gradient_adds_nothing_for_a_padded_tap_even_where_the_output_gradient_is_infinite():
    """Worked by hand: one row of three ones, a 1x5 kernel, 'same' padding (2 each side), dy infinite at the first
    output and zero elsewhere. The first output reads x under taps 2, 3, 4 (infinite sums); taps 0 and 1 fall in the
    padding and add nothing, and every other output adds 0 x 1."""
    x = np.ones((1, 1, 3, 1))
    grad_output = np.zeros((1, 1, 3, 1))
    grad_output[0, 0, 0, 0] = np.inf
    dw = depthwise.conv_kernel_gradient(x, grad_output, (1, 5, 1, 1), (1, 1), (1, 1), 1, ((0, 0), (2, 2)))
    np.testing.assert_array_equal(dw[0, :, 0, 0], [0, 0, np.inf, np.inf, np.inf])
