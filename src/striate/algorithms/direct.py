"""Convolution by its definition, as the lectures draw it: slide the kernel, multiply, add.

This is the reference every faster algorithm is tested against, written to be read, not to be fast.
All three functions take an input that is ALREADY PADDED (padding is a separate op) and compute a
cross-correlation, as every deep-learning library calls "convolution":

    y[n, o, g*Cog + j] = sum over kernel offsets k and channels c of
                         x[n, o*s + k*d, g*Cg + c] * w[k, c, g*Cog + j]

Shapes (one entry of `o`, `k`, `s`, `d` per spatial axis):
    x: (N, *padded_spatial, C_in)    kernel w: (*kernel_size, Cg, C_out)    y: (N, *out, C_out)
    with groups G: Cg = C_in / G input channels and Cog = C_out / G output channels per group, and
    out = floor((padded - d(k-1) - 1) / s) + 1 per axis.
"""

import numpy as np

from striate.algorithms.windows import windows_output_shape


def _window_at(position, kernel_size, strides, dilation):
    """Index of the input cells that one output position sees: (all images, window cells, all channels)."""
    cells = tuple(
        slice(p * s, p * s + (k - 1) * d + 1, d) for p, k, s, d in zip(position, kernel_size, strides, dilation)
    )
    return (slice(None), *cells, slice(None))


def _group_slices(kernel_shape, groups):
    """(input channels, output channels) of each group: group g reads Cg inputs and writes Cog outputs."""
    channels_in, channels_out = kernel_shape[-2], kernel_shape[-1] // groups
    for g in range(groups):
        yield slice(g * channels_in, (g + 1) * channels_in), slice(g * channels_out, (g + 1) * channels_out)


def conv_forward(x, kernel, strides, dilation, groups):
    """y = x (cross-correlated with) kernel, one output position at a time."""
    rank = kernel.ndim - 2
    kernel_size = kernel.shape[:rank]
    out_shape = windows_output_shape(x.shape[1:-1], kernel_size, strides, dilation)
    y = np.zeros((x.shape[0], *out_shape, kernel.shape[-1]), dtype=np.result_type(x, kernel))
    for position in np.ndindex(*out_shape):
        window = x[_window_at(position, kernel_size, strides, dilation)]  # (N, *k, C_in)
        for inputs, outputs in _group_slices(kernel.shape, groups):
            # multiply each window cell by its weight and add them all: one number per image and filter
            y[(slice(None), *position, outputs)] = np.tensordot(
                window[..., inputs], kernel[..., outputs], axes=rank + 1
            )
    return y


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx: each output's gradient flows back to the window cells it was computed from, times the weights."""
    rank = kernel.ndim - 2
    kernel_size = kernel.shape[:rank]
    grad_input = np.zeros(input_shape, dtype=np.result_type(grad_output, kernel))
    for position in np.ndindex(*grad_output.shape[1:-1]):
        window = _window_at(position, kernel_size, strides, dilation)
        for inputs, outputs in _group_slices(kernel.shape, groups):
            contribution = np.tensordot(grad_output[(slice(None), *position, outputs)], kernel[..., outputs],
                                        axes=([1], [rank + 1]))  # (N, *k, Cg)
            grad_input[(*window[:-1], inputs)] += contribution
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dw: each weight collects (input cell it multiplied) x (gradient of that output), over all outputs."""
    rank = len(kernel_shape) - 2
    kernel_size = kernel_shape[:rank]
    grad_kernel = np.zeros(kernel_shape, dtype=np.result_type(x, grad_output))
    for position in np.ndindex(*grad_output.shape[1:-1]):
        window = x[_window_at(position, kernel_size, strides, dilation)]
        for inputs, outputs in _group_slices(kernel_shape, groups):
            grad_kernel[..., outputs] += np.tensordot(
                window[..., inputs], grad_output[(slice(None), *position, outputs)], axes=([0], [0])
            )
    return grad_kernel
