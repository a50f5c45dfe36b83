"""The compiled tile transforms (`winograd_loops`) behind winograd: forward and both gradients equal PyTorch's
conv2d where tiles cross the border of the input or of the output, with any zero padding (none, even, uneven,
wider than the input), one channel or several, groups, float32 and float64, F(2x2) and F(4x4)."""

import numpy as np
import pytest
import torch

from striate.algorithms import winograd

# (N, H, W, C_in, C_out, groups, padding ((top, bottom), (left, right)), dtype)
CASES = [
    (1, 3, 3, 1, 1, 1, ((0, 0), (0, 0)), np.float64),  # one output cell: the tile is mostly past the border
    (2, 7, 9, 1, 3, 1, ((1, 1), (1, 1)), np.float64),  # odd sizes: the last tile row and column are partial
    (2, 10, 5, 4, 2, 1, ((0, 2), (3, 0)), np.float64),  # padding on one side of each axis only
    (3, 6, 13, 6, 4, 2, ((1, 1), (1, 1)), np.float64),  # two groups
    (2, 2, 2, 2, 3, 1, ((2, 2), (1, 1)), np.float64),  # an input smaller than the kernel, made whole by padding
    (1, 1, 1, 3, 2, 1, ((1, 1), (1, 1)), np.float64),  # one pixel, all the rest padding
    (2, 8, 8, 4, 4, 1, ((0, 0), (0, 0)), np.float64),  # whole tiles for m = 2 (output 6 x 6 is not for m = 4)
    (2, 11, 12, 5, 6, 1, ((2, 0), (0, 1)), np.float32),
]


def torch_reference(x, kernel, grad, groups, padding):
    """y, dx, dkernel of y = conv2d(pad(x), kernel) and the loss sum(y * grad), by PyTorch, channels-last."""
    (top, bottom), (left, right) = padding
    inputs = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    weights = torch.tensor(kernel.transpose(3, 2, 0, 1), requires_grad=True)
    padded = torch.nn.functional.pad(inputs, (left, right, top, bottom))
    y = torch.nn.functional.conv2d(padded, weights, groups=groups)
    y.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    return (y.detach().numpy().transpose(0, 2, 3, 1), inputs.grad.numpy().transpose(0, 2, 3, 1),
            weights.grad.numpy().transpose(2, 3, 1, 0))


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize(("n", "height", "width", "channels_in", "channels_out", "groups", "padding", "dtype"), CASES)
def test_winograd_forward_and_both_gradients_equal_torch(tile, n, height, width, channels_in, channels_out, groups,
                                                          padding, dtype):
    rng = np.random.default_rng(height * 100 + width)
    x = rng.standard_normal((n, height, width, channels_in)).astype(dtype)
    kernel = rng.standard_normal((3, 3, channels_in // groups, channels_out)).astype(dtype)
    out_shape = (n, height + sum(padding[0]) - 2, width + sum(padding[1]) - 2, channels_out)
    grad = rng.standard_normal(out_shape).astype(dtype)
    y, grad_input, grad_kernel = torch_reference(x, kernel, grad, groups, padding)
    tolerance = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    arguments = dict(strides=(1, 1), dilation=(1, 1), groups=groups, tile=tile, padding=padding)

    ours = winograd.conv_forward(x, kernel, **arguments)
    both = winograd.conv_gradients(x, grad, kernel, **arguments)
    alone = (winograd.conv_input_gradient(grad, kernel, x.shape, **arguments),
             winograd.conv_kernel_gradient(x, grad, kernel.shape, **arguments))

    assert ours.dtype == dtype and ours.shape == out_shape
    np.testing.assert_allclose(ours, y, **tolerance)
    for grad_input_ours, grad_kernel_ours in (both, alone):
        np.testing.assert_allclose(grad_input_ours, grad_input, **tolerance)
        np.testing.assert_allclose(grad_kernel_ours, grad_kernel, **tolerance)


def test_winograd_reads_strided_and_mixed_precision_inputs():
    rng = np.random.default_rng(5)
    wide = rng.standard_normal((2, 9, 14, 3)).astype(np.float32)
    x = wide[:, :, ::2]  # (2, 9, 7, 3), not contiguous
    kernel = rng.standard_normal((3, 3, 3, 2))  # float64: the result is float64
    grad = rng.standard_normal((2, 9, 7, 2))
    padding = ((1, 1), (1, 1))
    y, grad_input, grad_kernel = torch_reference(x.astype(np.float64), kernel, grad, 1, padding)
    arguments = dict(strides=(1, 1), dilation=(1, 1), groups=1, padding=padding)
    ours = winograd.conv_forward(x, kernel, **arguments)
    ours_input, ours_kernel = winograd.conv_gradients(x, grad, kernel, **arguments)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, y, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours_input, grad_input, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours_kernel, grad_kernel, rtol=1e-10, atol=1e-10)
