"""Convolution as matrix products (im2col + GEMM), on channels-last data, in bounded memory on striate's threads.

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
                     one product dy @ W^T gives every offset's rows for the chunk, then the same adds; a 2-D
                     layer of one group with COL2IM_CHANNELS input channels takes one product for every offset
                     too, and a compiled col2im adds its rows into dx (`im2col_loops.add_columns`); with
                     stride 1 and one or two input channels even those adds are too thin (one or two floats
                     at a time), and dx is the forward product of the zero-padded dy with the flipped,
                     transposed kernel (the "full" convolution)

With groups G the same products run batched, one per group: (G, M, K*Cg) @ (G, K*Cg, Cog).

Engineering (`striate.algorithms.chunking`): the batch is cut into chunks whose columns fit a few MiB
(`batch_chunks`; in the forward pass and the kernel gradient an image whose columns alone exceed that is cut into
runs of its output rows, `image_and_row_chunks`), each chunk's columns are written into a per-thread buffer reused
from chunk to chunk (`scratch`), and the chunks run on striate's threads with BLAS held to one thread inside them
(`split_batch`).

The zero padding is taken here too (`padding`, `PADS_WITH_ZEROS`): a 2-D chunk of one group and at least three
channels has its columns filled straight from the unpadded input by a compiled loop (`im2col_loops`, cells
outside the input written as zeros); any other chunk is copied into a zeroed per-thread buffer at the padding's
offset before its columns are cut. The input gradient of a chunk is added up in such a buffer and its inside
copied out; the padded input never exists as a whole.
"""

import math

import numpy as np

from striate.algorithms import im2col_loops
from striate.algorithms.chunking import (
    batch_chunks,
    image_and_row_chunks,
    matmul_into,
    scratch,
    split_batch,
    sum_in_order,
)
from striate.algorithms.windows import inside, padded_shape, window_view, windows_output_shape

OFFSET_COPY_CHANNELS = 3  # below this many input channels per group (1 or 2), im2col copies offset by offset
THIN_CHANNELS = 16  # below this many input channels per group, col2im builds all offsets' rows in one product
PADS_WITH_ZEROS = True  # every pass takes `padding` (see the module's docstring)
# 2-D input gradients of one group with this many input channels (and a kernel of several cells) run as one wide
# product and the compiled col2im: measured against the per-offset products, 0.64-0.97x the time from 32 to 128
# channels (stride-2 layers most), 1.05-2.0x at 6 and 16 channels (a compiled loop over so few channels is slow)
# and 1.38x at 512 (per-offset products already wide, the columns nine times dx's size)
COL2IM_CHANNELS = (32, 256)


def _padded_chunk(x, padding):
    """x (n, *spatial, C) itself without padding, else copied into this thread's zeroed buffer at the offset."""
    if padding is None or not any(before or after for before, after in padding):
        return x
    padded = scratch("im2col.padded", padded_shape(x.shape, padding), x.dtype)
    padded[...] = 0
    padded[inside(padding, x.shape[1:-1])] = x
    return padded


def _grouped_kernel(kernel, groups, dtype):
    """kernel (*k, Cg, C_out) as G matrices (G, K*Cg, Cog); output channel g*Cog + j belongs to group g."""
    cells = math.prod(kernel.shape[:-2])
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    grouped = kernel.reshape(cells, per_group_in, groups, per_group_out).transpose(2, 0, 1, 3)
    return np.ascontiguousarray(grouped.reshape(groups, cells * per_group_in, per_group_out), dtype=dtype)


def _fill_columns(x, kernel_size, strides, dilation, groups, dtype, rows=slice(None)):
    """im2col of a chunk x (n, *padded, C), its output rows `rows` (first spatial axis), into this thread's buffer:
    (G, M, K*Cg), possibly a transposed view."""
    windows = window_view(x, kernel_size, strides, dilation)[:, rows]  # (n, *out, *k, C), no copy yet
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


def _columns(x, padding, kernel_size, strides, dilation, groups, dtype, rows=slice(None)):
    """The columns of a chunk x (n, *spatial, C) zero-padded by `padding`, for its output rows `rows` (first spatial
    axis; all of them for a 1-D chunk): (G, M, K*Cg), possibly a transposed view. A 2-D chunk of one group and at
    least OFFSET_COPY_CHANNELS channels is filled by the compiled loop straight from x (`im2col_loops`), and so is a
    1-D one, as a 2-D chunk of height 1 (the same columns); any other by `_fill_columns` from a padded copy."""
    if len(kernel_size) == 1:
        return _columns(x[:, None], None if padding is None else ((0, 0), *padding), (1, *kernel_size),
                        (1, *strides), (1, *dilation), groups, dtype)
    if len(kernel_size) != 2 or groups != 1 or x.shape[-1] < OFFSET_COPY_CHANNELS:
        return _fill_columns(_padded_chunk(x, padding), kernel_size, strides, dilation, groups, dtype, rows)
    (top, _), (left, _) = ((0, 0), (0, 0)) if padding is None else padding
    out_high, out_wide = windows_output_shape(padded_shape(x.shape, padding)[1:-1], kernel_size, strides, dilation)
    first, last, _ = rows.indices(out_high)
    columns = scratch("im2col.columns",
                      (1, x.shape[0] * (last - first) * out_wide, math.prod(kernel_size) * x.shape[-1]), dtype)
    # output rows first ... last - 1 are rows 0 ... of a chunk whose top padding is `first` strides less
    im2col_loops.fill(x, tuple(kernel_size), tuple(strides), tuple(dilation), (top - first * strides[0], left),
                      (last - first, out_wide), columns[0])
    return columns


def _per_image_bytes(x_shape, kernel_size, strides, dilation, itemsize):
    out_shape = windows_output_shape(x_shape[1:-1], kernel_size, strides, dilation)
    return math.prod(out_shape) * math.prod(kernel_size) * x_shape[-1] * itemsize


def conv_forward(x, kernel, strides, dilation, groups, padding=None):
    """x (N, *spatial, C_in), zero-padded by `padding` to (N, *padded, C_in), kernel (*k, Cg, C_out)
    -> y (N, *out, C_out)."""
    kernel_size = kernel.shape[:-2]
    dtype = np.result_type(x, kernel)
    padded = padded_shape(x.shape, padding)
    out_shape = windows_output_shape(padded[1:-1], kernel_size, strides, dilation)
    weights = _grouped_kernel(kernel, groups, dtype)  # (G, K*Cg, Cog)
    y = np.empty((x.shape[0], out_shape[0], math.prod(out_shape[1:]), groups, kernel.shape[-1] // groups), dtype=dtype)

    def forward_chunk(part):
        images, rows = part
        columns = _columns(x[images], padding, kernel_size, strides, dilation, groups, dtype, rows)
        out = y[images, rows].reshape(-1, groups, y.shape[-1]).transpose(1, 0, 2)  # (G, M, Cog) view into y
        matmul_into(columns, weights, out)

    split_batch(forward_chunk, _parts(x.shape[0], padded, kernel_size, strides, dilation, dtype),
                work=x.shape[0] * math.prod(out_shape) * weights.size)
    return y.reshape(x.shape[0], *out_shape, kernel.shape[-1])


def _parts(batch, shape, kernel_size, strides, dilation, dtype):
    """The (images, output rows) parts of a pass whose columns are built part by part (`image_and_row_chunks`); a
    1-D layer's images are not cut."""
    rows = windows_output_shape(shape[1:-1], kernel_size, strides, dilation)[0] if len(kernel_size) > 1 else 1
    return image_and_row_chunks(batch, rows, _per_image_bytes(shape, kernel_size, strides, dilation,
                                                              dtype.itemsize))


def flipped_transposed(kernel, groups):
    """The kernel of the "full" convolution that is the stride-1 input gradient: cells reversed on every axis and
    each group's (Cg, Cog) block transposed: (*k, Cg, G*Cog) -> (*k, Cog, G*Cg)."""
    rank = kernel.ndim - 2
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    flipped = kernel[(slice(None, None, -1),) * rank]
    blocks = flipped.reshape(*kernel.shape[:rank], per_group_in, groups, per_group_out)
    # (*k, Cg, G, Cog) -> (*k, Cog, G, Cg): the two channel axes swapped (np.transpose: moveaxis costs 10 us more)
    swapped = blocks.transpose(*range(rank), rank + 2, rank + 1, rank)
    return np.ascontiguousarray(swapped).reshape(*kernel.shape[:rank], per_group_out, groups * per_group_in)


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, padding=None):
    """dLoss/dx (input_shape: N, *spatial, C_in; without the cells of `padding`) from dLoss/dy (N, *out, C_out):
    col2im as one matmul-add per kernel offset."""
    rank = kernel.ndim - 2
    padding = ((0, 0),) * rank if padding is None else tuple(tuple(pair) for pair in padding)
    reach = tuple(d * (k - 1) for k, d in zip(kernel.shape[:rank], dilation))
    if kernel.shape[-2] <= 2 and all(s == 1 for s in strides) and all(
            before <= r and after <= r for (before, after), r in zip(padding, reach)):
        # stride 1 and one or two input channels: dx is the forward convolution of dy, padded by d(k-1) on each side
        # less the input's own padding, with the flipped, transposed kernel; its columns have C_out channels per
        # cell, wide enough for BLAS
        full = tuple((r - before, r - after) for r, (before, after) in zip(reach, padding))
        return conv_forward(grad_output, flipped_transposed(kernel, groups), strides, dilation, groups, full)
    if rank == 2 and groups == 1 and math.prod(kernel.shape[:2]) > 1 and (
            COL2IM_CHANNELS[0] <= kernel.shape[-2] < COL2IM_CHANNELS[1]):
        return _compiled_col2im(grad_output, kernel, input_shape, strides, dilation, padding)
    kernel_size, per_group_in = kernel.shape[:rank], kernel.shape[-2]
    per_group_out = kernel.shape[-1] // groups
    dtype = np.result_type(grad_output, kernel)
    out_shape = grad_output.shape[1:-1]
    # per offset, the transposed weights of each group: (K, G, Cog, Cg); with one group each offset's (Cog, Cg) is a
    # transposed view, which BLAS reads as it is (a contiguous copy of ResNet-18's 3x3x512x512 kernel: 3-6 ms a call)
    offsets = kernel.astype(dtype, copy=False).reshape(-1, per_group_in, groups, per_group_out).transpose(0, 2, 3, 1)
    if groups > 1:
        offsets = np.ascontiguousarray(offsets)
    padded_input_shape = padded_shape(input_shape, padding)
    self_padded = padded_input_shape != tuple(input_shape)
    grad_input = np.empty(input_shape, dtype=dtype) if self_padded else np.zeros(input_shape, dtype=dtype)
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
        if self_padded:  # added up in this thread's zeroed padded buffer, its inside copied out below
            target_chunk = scratch("im2col.padded_gradient", (count, *padded_input_shape[1:]), dtype)
            target_chunk[...] = 0
        else:
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
        if self_padded:
            grad_input[images] = target_chunk[inside(padding, input_shape[1:-1])]

    bytes_per_image = math.prod(out_shape) * kernel.shape[-2] * groups * dtype.itemsize
    if thin:
        bytes_per_image *= math.prod(kernel_size)
    if self_padded:  # the padded gradient buffer of each image too
        bytes_per_image += math.prod(padded_input_shape[1:]) * dtype.itemsize
    chunks = batch_chunks(input_shape[0], bytes_per_image)
    work = grad_output.size * math.prod(kernel_size) * per_group_in
    split_batch(input_gradient_chunk, chunks, work)
    return grad_input


def _compiled_col2im(grad_output, kernel, input_shape, strides, dilation, padding):
    """The input gradient of a 2-D convolution of one group: per chunk, one product dy (M, C_out) @ W^T
    (C_out, K*C_in) gives every window cell's contribution, which the compiled col2im adds into dx where the
    windows read x (`im2col_loops.add_columns`, cells in the padding dropped): one wide product instead of one per
    kernel cell, and no padded buffer."""
    kernel_size, channels_in = kernel.shape[:2], kernel.shape[-2]
    dtype = np.result_type(grad_output, kernel)
    out_shape = grad_output.shape[1:-1]
    # (C_out, K*C_in), a transposed view: BLAS reads it as it is (a contiguous copy costs more than it saves)
    weights_transposed = kernel.reshape(-1, kernel.shape[-1]).astype(dtype, copy=False).T
    grad_input = np.zeros(input_shape, dtype=dtype)
    before = tuple(first for first, _ in padding)

    def input_gradient_chunk(images):
        grad = np.ascontiguousarray(grad_output[images], dtype=dtype)
        rows = grad.shape[0] * math.prod(out_shape)
        columns = scratch("im2col.gradient_columns", (rows, weights_transposed.shape[1]), dtype)
        matmul_into(grad.reshape(rows, -1), weights_transposed, columns)
        im2col_loops.add_columns(columns, tuple(kernel_size), tuple(strides), tuple(dilation), before,
                                 tuple(out_shape), grad_input[images])

    bytes_per_image = math.prod(out_shape) * weights_transposed.shape[1] * dtype.itemsize
    work = grad_output.size * math.prod(kernel_size) * channels_in
    split_batch(input_gradient_chunk, batch_chunks(input_shape[0], bytes_per_image), work)
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, padding=None):
    """dLoss/dkernel (*k, Cg, C_out) from the input x (zero-padded by `padding`) and dLoss/dy: cols^T @ dy, summed
    over the chunks."""
    kernel_size = kernel_shape[:-2]
    dtype = np.result_type(x, grad_output)
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups

    def kernel_gradient_chunk(part):
        images, rows = part
        columns = _columns(x[images], padding, kernel_size, strides, dilation, groups, dtype, rows)
        grad = grad_output[images, rows].reshape(-1, groups, per_group_out).transpose(1, 0, 2)  # (G, M, Cog)
        return columns.transpose(0, 2, 1) @ grad  # (G, K*Cg, Cog)

    parts = _parts(x.shape[0], padded_shape(x.shape, padding), kernel_size, strides, dilation, dtype)
    work = grad_output.size * math.prod(kernel_size) * per_group_in
    grad = sum_in_order(split_batch(kernel_gradient_chunk, parts, work))
    cells = math.prod(kernel_size)
    grad = grad.reshape(groups, cells, per_group_in, per_group_out).transpose(1, 2, 0, 3)
    return np.ascontiguousarray(grad.reshape(kernel_shape))
