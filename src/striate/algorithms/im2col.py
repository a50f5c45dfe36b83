"""Convolution as one matrix product (im2col + GEMM), on channels-last data.

Same signature and result as `striate.algorithms.direct`. The windows of the (already padded) input are
copied into a matrix with one row per output position and one column per (kernel cell, input channel)
pair: cols (M, K*C_in) with M = N * prod(out) and K = prod(kernel_size). Then

    forward:         y      = cols @ W                  W = kernel as (K*C_in, C_out)
    kernel gradient: dW     = cols^T @ dy
    input gradient:  dcols  = dy @ W^T, then col2im (scatter_windows) adds each row back into its window.

With groups G the same products run batched, one per group: (G, M, K*Cg) @ (G, K*Cg, Cog).
"""

import math

from striate.algorithms.windows import scatter_windows, window_view


def _columns(x, kernel_size, strides, dilation, groups):
    """im2col: (G, M, K*Cg) copies of the input windows, and the output spatial shape."""
    rank = len(kernel_size)
    windows = window_view(x, kernel_size, strides, dilation)  # (N, *out, *k, C_in), no copy yet
    out_shape = windows.shape[1 : 1 + rank]
    rows, cells, channels = x.shape[0] * math.prod(out_shape), math.prod(kernel_size), x.shape[-1]
    if groups == 1:
        return windows.reshape(1, rows, cells * channels), out_shape
    per_group = channels // groups
    grouped = windows.reshape(rows, cells, groups, per_group).transpose(2, 0, 1, 3)
    return grouped.reshape(groups, rows, cells * per_group), out_shape


def _grouped_kernel(kernel, groups):
    """kernel (*k, Cg, C_out) as G matrices (G, K*Cg, Cog); output channel g*Cog + j belongs to group g."""
    cells = math.prod(kernel.shape[:-2])
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    grouped = kernel.reshape(cells, per_group_in, groups, per_group_out).transpose(2, 0, 1, 3)
    return grouped.reshape(groups, cells * per_group_in, per_group_out)


def _grouped_output(grad_output, groups):
    """(N, *out, C_out) as (G, M, Cog)."""
    per_group = grad_output.shape[-1] // groups
    return grad_output.reshape(-1, groups, per_group).transpose(1, 0, 2)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, *padded, C_in), kernel (*k, Cg, C_out) -> y (N, *out, C_out)."""
    columns, out_shape = _columns(x, kernel.shape[:-2], strides, dilation, groups)
    y = columns @ _grouped_kernel(kernel, groups)  # (G, M, Cog)
    return y.transpose(1, 0, 2).reshape(x.shape[0], *out_shape, kernel.shape[-1])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, *padded, C_in) from dLoss/dy (N, *out, C_out)."""
    rank = kernel.ndim - 2
    kernel_size, per_group_in = kernel.shape[:rank], kernel.shape[-2]
    grad_columns = _grouped_output(grad_output, groups) @ _grouped_kernel(kernel, groups).transpose(0, 2, 1)
    out_shape = grad_output.shape[1:-1]
    rows = grad_columns.shape[1]
    per_window = grad_columns.reshape(groups, rows, math.prod(kernel_size), per_group_in).transpose(1, 2, 0, 3)
    per_window = per_window.reshape(grad_output.shape[0], *out_shape, *kernel_size, groups * per_group_in)
    return scatter_windows(per_window, input_shape, strides, dilation)


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (*k, Cg, C_out) from the input x and dLoss/dy."""
    columns, _ = _columns(x, kernel_shape[:-2], strides, dilation, groups)
    grad = columns.transpose(0, 2, 1) @ _grouped_output(grad_output, groups)  # (G, K*Cg, Cog)
    cells = math.prod(kernel_shape[:-2])
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups
    grad = grad.reshape(groups, cells, per_group_in, per_group_out).transpose(1, 2, 0, 3)
    return grad.reshape(kernel_shape)
