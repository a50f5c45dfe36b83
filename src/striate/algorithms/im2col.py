"""Convolution as matrix products (im2col + GEMM), on channels-last data, in bounded memory on two threads.

Same signature and result as `striate.algorithms.direct`. The windows of the (already padded) input are
copied into a matrix with one row per output position and one column per (kernel cell, input channel)
pair: cols (M, K*C_in) with M = n * prod(out) for a chunk of n images and K = prod(kernel_size) (with one
or two input channels it is built transposed, kernel cell by kernel cell, each copy running along the
output positions). Then

    forward:         y      = cols @ W                  W = kernel as (K*C_in, C_out)
    kernel gradient: dW     = sum over chunks of cols^T @ dy
    input gradient:  col2im by one matrix product per kernel offset, added in place: for each offset k,
                     dx[window cell k of every position] += dy @ W[k]^T   (no (M, K*C_in) matrix at all);
                     with fewer than 16 input channels per group those products are too thin for BLAS, so
                     one product dy @ W^T gives every offset's rows for the chunk, then the same adds; with
                     stride 1 and one or two input channels even those adds are too thin (one or two floats
                     at a time), and dx is the forward product of the zero-padded dy with the flipped,
                     transposed kernel (the "full" convolution)

With groups G the same products run batched, one per group: (G, M, K*Cg) @ (G, K*Cg, Cog).

Engineering (`striate.algorithms.chunking`): the batch is cut into chunks whose columns fit a few MiB
(`batch_chunks`), each chunk's columns are written into a per-thread buffer reused from chunk to chunk
(`scratch`), and the chunks run on two threads with BLAS held to one thread inside them (`split_batch`).
"""

import math

import numpy as np

from striate.algorithms.chunking import batch_chunks, matmul_into, scratch, split_batch
from striate.algorithms.windows import window_view, windows_output_shape

OFFSET_COPY_CHANNELS = 3  # below this many input channels per group (1 or 2), im2col copies offset by offset
THIN_CHANNELS = 16  # below this many input channels per group, col2im builds all offsets' rows in one product


def _grouped_kernel(kernel, groups, dtype):
    """kernel (*k, Cg, C_out) as G matrices (G, K*Cg, Cog); output channel g*Cog + j belongs to group g."""
    cells = math.prod(kernel.shape[:-2])
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    grouped = kernel.reshape(cells, per_group_in, groups, per_group_out).transpose(2, 0, 1, 3)
    return np.ascontiguousarray(grouped.reshape(groups, cells * per_group_in, per_group_out), dtype=dtype)


def _fill_columns(x, kernel_size, strides, dilation, groups, dtype):
    """im2col of a chunk x (n, *padded, C) into this thread's buffer: (G, M, K*Cg), possibly a transposed view."""
    windows = window_view(x, kernel_size, strides, dilation)  # (n, *out, *k, C), no copy yet
    rank = len(kernel_size)
    out_shape = windows.shape[1 : 1 + rank]
    rows, cells, per_group = x.shape[0] * math.prod(out_shape), math.prod(kernel_size), x.shape[-1] // groups
    if per_group < OFFSET_COPY_CHANNELS:
        # one or two channels: a window row holds only k_w * Cg consecutive floats, so copy offset by offset into
        # channels-first columns (G, K*Cg, M), each copy running along output positions; BLAS reads the
        # transposed view as it reads the matrix
        columns = scratch("im2col.columns", (groups, cells, per_group, rows), dtype)
        for index, offset in enumerate(np.ndindex(*kernel_size)):
            cell = windows[(slice(None),) * (1 + rank) + offset]  # (n, *out, C)
            cell = np.moveaxis(cell.reshape(*cell.shape[:-1], groups, per_group), (-2, -1), (0, 1))
            np.copyto(columns[:, index].reshape(groups, per_group, *cell.shape[2:]), cell)
        return columns.reshape(groups, cells * per_group, rows).transpose(0, 2, 1)
    columns = scratch("im2col.columns", (groups, rows, cells * per_group), dtype)
    # the one copy: every window cell to its column, group by group
    grouped_windows = windows.reshape(*windows.shape[:-1], groups, per_group)
    np.copyto(columns.reshape(groups, *windows.shape[:-1], per_group), np.moveaxis(grouped_windows, -2, 0))
    return columns


def _per_image_bytes(x_shape, kernel_size, strides, dilation, itemsize):
    out_shape = windows_output_shape(x_shape[1:-1], kernel_size, strides, dilation)
    return math.prod(out_shape) * math.prod(kernel_size) * x_shape[-1] * itemsize


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, *padded, C_in), kernel (*k, Cg, C_out) -> y (N, *out, C_out)."""
    kernel_size = kernel.shape[:-2]
    dtype = np.result_type(x, kernel)
    out_shape = windows_output_shape(x.shape[1:-1], kernel_size, strides, dilation)
    weights = _grouped_kernel(kernel, groups, dtype)  # (G, K*Cg, Cog)
    rows_per_image = math.prod(out_shape)
    y = np.empty((x.shape[0], rows_per_image, groups, kernel.shape[-1] // groups), dtype=dtype)

    def forward_chunk(images):
        columns = _fill_columns(x[images], kernel_size, strides, dilation, groups, dtype)
        out = y[images].reshape(-1, groups, y.shape[-1]).transpose(1, 0, 2)  # (G, M, Cog) view into y
        matmul_into(columns, weights, out)

    chunks = batch_chunks(x.shape[0], _per_image_bytes(x.shape, kernel_size, strides, dilation, dtype.itemsize))
    split_batch(forward_chunk, chunks, work=x.shape[0] * rows_per_image * weights.size)
    return y.reshape(x.shape[0], *out_shape, kernel.shape[-1])


def _flipped_transposed(kernel, groups):
    """The kernel of the "full" convolution that is the stride-1 input gradient: cells reversed on every axis and
    each group's (Cg, Cog) block transposed: (*k, Cg, G*Cog) -> (*k, Cog, G*Cg)."""
    rank = kernel.ndim - 2
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    flipped = kernel[(slice(None, None, -1),) * rank]
    blocks = flipped.reshape(*kernel.shape[:rank], per_group_in, groups, per_group_out)
    return np.ascontiguousarray(np.moveaxis(blocks, (-3, -1), (-1, -3))).reshape(
        *kernel.shape[:rank], per_group_out, groups * per_group_in)


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, *padded, C_in) from dLoss/dy (N, *out, C_out): col2im as one matmul-add per kernel offset."""
    rank = kernel.ndim - 2
    if kernel.shape[-2] <= 2 and all(s == 1 for s in strides):
        # stride 1 and one or two input channels: dx is the forward convolution of dy, padded by d(k-1) on each side,
        # with the flipped, transposed kernel; its columns have C_out channels per cell, wide enough for BLAS
        reach = tuple(d * (k - 1) for k, d in zip(kernel.shape[:rank], dilation))
        padded = np.pad(grad_output, ((0, 0), *((r, r) for r in reach), (0, 0)))
        return conv_forward(padded, _flipped_transposed(kernel, groups), strides, dilation, groups)
    kernel_size, per_group_in = kernel.shape[:rank], kernel.shape[-2]
    per_group_out = kernel.shape[-1] // groups
    dtype = np.result_type(grad_output, kernel)
    out_shape = grad_output.shape[1:-1]
    # per offset, the transposed weights of each group: (K, G, Cog, Cg)
    offsets = kernel.reshape(-1, per_group_in, groups, per_group_out).transpose(0, 2, 3, 1)
    offsets = np.ascontiguousarray(offsets, dtype=dtype)
    grad_input = np.zeros(input_shape, dtype=dtype)
    # with few input channels per group each offset's product is too thin for BLAS: do all offsets at once
    thin = per_group_in < THIN_CHANNELS
    stacked = np.ascontiguousarray(offsets.transpose(1, 0, 3, 2).reshape(groups, -1, per_group_out)) if thin else None

    def input_gradient_chunk(images):
        grad = grad_output[images]
        count = grad.shape[0]
        rows = count * math.prod(out_shape)
        grouped = grad.reshape(rows, groups, per_group_out).transpose(1, 0, 2)  # (G, M, Cog)
        if groups > 1:
            grouped = np.ascontiguousarray(grouped)
        target_chunk = grad_input[images]
        if thin:
            # one product for all offsets, laid out channels-first (G, K*Cg, M) = (G, K*Cg, Cog) @ (G, Cog, M), so
            # that each offset's add below runs along output positions, not along 1 to 15 channels
            all_offsets = scratch("im2col.all_offsets", (groups, len(offsets) * per_group_in, rows), dtype)
            matmul_into(stacked, grouped.transpose(0, 2, 1), all_offsets)
            per_offset = all_offsets.reshape(groups, len(offsets), per_group_in, rows).transpose(1, 0, 2, 3)
            channels_first = np.moveaxis(target_chunk, -1, 0)  # (C_in, n, *padded), a view
        else:
            contribution = scratch("im2col.contribution", (groups, rows, per_group_in), dtype)
        for index, offset in enumerate(np.ndindex(*kernel_size)):
            cells = tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                          for o, n, s, d in zip(offset, out_shape, strides, dilation))
            if thin:
                values = per_offset[index].reshape(groups * per_group_in, count, *out_shape)
                target = channels_first[(slice(None), slice(None), *cells)]  # (C_in, n, *out), a view
            else:
                matmul_into(grouped, offsets[index], contribution)
                values = contribution.transpose(1, 0, 2).reshape(count, *out_shape, groups * per_group_in)
                target = target_chunk[(slice(None), *cells)]  # (n, *out, C_in), a view into grad_input
            np.add(target, values, out=target)

    bytes_per_image = math.prod(out_shape) * kernel.shape[-2] * groups * dtype.itemsize
    if thin:
        bytes_per_image *= math.prod(kernel_size)
    chunks = batch_chunks(input_shape[0], bytes_per_image)
    work = grad_output.size * math.prod(kernel_size) * per_group_in
    split_batch(input_gradient_chunk, chunks, work)
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (*k, Cg, C_out) from the input x and dLoss/dy: cols^T @ dy, summed over the chunks."""
    kernel_size = kernel_shape[:-2]
    dtype = np.result_type(x, grad_output)
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups

    def kernel_gradient_chunk(images):
        columns = _fill_columns(x[images], kernel_size, strides, dilation, groups, dtype)
        grad = grad_output[images].reshape(-1, groups, per_group_out).transpose(1, 0, 2)  # (G, M, Cog)
        return columns.transpose(0, 2, 1) @ grad  # (G, K*Cg, Cog)

    chunks = batch_chunks(x.shape[0], _per_image_bytes(x.shape, kernel_size, strides, dilation, dtype.itemsize))
    work = grad_output.size * math.prod(kernel_size) * per_group_in
    grad = sum(split_batch(kernel_gradient_chunk, chunks, work))
    cells = math.prod(kernel_size)
    grad = grad.reshape(groups, cells, per_group_in, per_group_out).transpose(1, 2, 0, 3)
    return np.ascontiguousarray(grad.reshape(kernel_shape))
