"""The three loops of depthwise convolution, compiled by numba: the lectures' loop, run at machine speed.

Depthwise convolution multiplies each channel by its own small kernel, so there is no matrix product to hand
to BLAS: the work is the loop itself. Written in NumPy it becomes nine (for 3x3) passes over the whole
activation, each reading and writing it from memory; compiled, each output row is finished while its input
rows are still in the cache, and the innermost loop runs over the channels, which are contiguous in
channels-last data, so the compiler turns it into vector instructions.

Each loop takes one chunk of images with three spatial axes (1-D and 2-D inputs are passed with the missing
axes of length 1), one channel per kernel slice, and the zero padding as offsets: output cell p reads input
cell p*s + i*d - o along each axis, and an input cell outside x counts as zero, so x is never copied into a
padded array.

    x (n, D, H, W, C)   kernel w (k_d, k_h, k_w, C)   y, dy (n, D_out, H_out, W_out, C)

    forward:          y[n, p, q, r, c] = sum over i, j, k of x[n, p*s_d + i*d_d - o_d, q*s_h + j*d_h - o_h,
                                                                r*s_w + k*d_w - o_w, c] * w[i, j, k, c]
    input gradient:   dx[same cell]   += dy[n, p, q, r, c] * w[i, j, k, c]          (dx starts at zero)
    kernel gradient:  dw[i, j, k, c]  += x[same cell] * dy[n, p, q, r, c]           (dw starts at zero)

For each output row (n, p, q) the loops first find the kernel taps whose input cells lie inside x (`tap_range`),
then run over those only, with no test in the inner loops. A 2-D kernel (k_d = 1: every 1-D and 2-D layer)
gets loops of its own in each pass, written in LLVM's vector instructions (numba's `intrinsic`, the `Vectors` of
`vectorized_loops`) on blocks of V channels (16 float32, 8 float64; the last block partial, read and written
through masks):

- forward (`_forward_2d`, which also serves the stride-1 input gradient) and kernel gradient
  (`_add_kernel_gradient_2d`) of a 3x3 kernel: line by line, the weights (or the nine sums) in registers and the
  window's columns kept from pixel to pixel (`striate.algorithms.depthwise_3x3`, whose docstring has the loops).
- another 2-D kernel up to MAX_ROW_TAPS (7) wide: one row pass per kernel row, the row's weights (or sums) in
  registers (`striate.algorithms.depthwise_rows`).
- a wider 2-D kernel: each output cell sums its taps inside x, a vector load of x and of w and a multiply-add per
  tap (`_cell`), and in the kernel gradient adds its taps into the sums in memory (`_add_window_products`). numba's
  own loop over one cell's channels, which it vectorized with a runtime overlap check per cell and a scalar
  remainder, ran these at a third of the speed for 16 to 32 channels.
- input gradient with a stride (`input_gradient`, `_gather_input_gradient_2d`): each input cell gathers the output
  cells that read it, the taps along each axis found once per row and column (`_gather_taps`), one `_cell` per
  input cell, so dx is written once and needs no zeroing. 64 images, one thread, against zeroing dx and adding
  each output cell's share into it: 32x32x64 3.19 -> 2.17 ms, 16x16x128 0.91 -> 0.64; 8 of 112x112x32 2.28 -> 1.57.

A 3-D kernel runs in numba's loops over each cell's channels (contiguous in channels-last data, so vectorized by
the compiler); its kernel gradient, with stride 1 along the rows and fewer than SHORT_CHANNELS channels, row by
row (`_add_kernel_gradient_by_rows`): a loop over one cell's few channels is too short to pay for its start
(measured with 32 channels: 1.4x slower than by rows; with 128 or 256, by rows is 1.2x slower than by cells),
so each tap of each output row is one contiguous loop over the whole row (columns times channels), its border
columns cut off by the loop's range (`output_range`).

The loops release the GIL (`nogil`), so `striate.algorithms.depthwise` runs several chunks at once on several
threads. numba compiles each loop on its first call for each dtype and keeps the machine code in its cache
(`cache=True`), so later processes start at once.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from striate.algorithms import depthwise_rows
from striate.algorithms.depthwise_3x3 import add_gradient_plane, forward_plane, output_range, tap_range
from striate.algorithms.vectorized_loops import Vectors

SHORT_CHANNELS = 64  # fewer channels than this: the kernel gradient runs row by row (see the docstring)
ROW_BLOCK = 1024  # values per row of per-tap sums in the kernel gradient: nine such rows fit the L1 cache


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def forward(x, w, y, strides, dilation, offsets):
    """y = the depthwise cross-correlation of x, zero-padded by `offsets` before each axis, with w."""
    if w.shape[0] == 1:
        _forward_2d(x, w, y, strides, dilation, offsets)
        return
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = w.shape
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            i_first, i_stop = tap_range(p, s_d, d_d, o_d, k_d, depth)
            for q in range(y.shape[2]):
                j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
                for r in range(y.shape[3]):
                    k_first, k_stop = tap_range(r, s_w, d_w, o_w, k_w, width)
                    out = y[n, p, q, r]
                    out[:] = 0
                    for i in range(i_first, i_stop):
                        for j in range(j_first, j_stop):
                            for k in range(k_first, k_stop):
                                cell = x[n, p * s_d + i * d_d - o_d, q * s_h + j * d_h - o_h,
                                         r * s_w + k * d_w - o_w]
                                weights = w[i, j, k]
                                for c in range(channels):
                                    out[c] += cell[c] * weights[c]


@njit(nogil=True, cache=True, boundscheck=False)
def _forward_2d(x, w, y, strides, dilation, offsets):
    """The forward loop of a 2-D kernel (k_d = 1), on vectors of channels, plane by plane: a 3x3 kernel's line by
    line (`depthwise_3x3.forward_plane`); another kernel up to MAX_ROW_TAPS wide row pass by row pass
    (`depthwise_rows.forward_plane`); a wider one cell by cell, each cell summing its taps inside x (`_cell`)."""
    s_d, s_h, s_w = strides
    d_h, d_w = dilation[1], dilation[2]
    o_d, o_h, o_w = offsets
    k_h, k_w = w.shape[1], w.shape[2]
    depth, height, width, channels = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    out_depth, out_high, columns = y.shape[1], y.shape[2], y.shape[3]
    flat_x, flat_w, flat_y = x.reshape(-1), w.reshape(-1), y.reshape(-1)
    row_step, tap_step = d_h * width * channels, d_w * channels
    x_steps, w_steps = (row_step, tap_step), (k_w * channels, channels)  # (row step, column step) of each window
    for n in range(y.shape[0]):
        for p in range(out_depth):
            plane = p * s_d - o_d
            if plane < 0 or plane >= depth:
                y[n, p] = 0
                continue
            x_plane = (n * depth + plane) * height * width * channels
            y_plane = (n * out_depth + p) * out_high * columns * channels
            if k_h == 3 and k_w == 3:
                forward_plane(flat_x, x_plane, flat_w, flat_y, y_plane, (height, width, channels), (out_high, columns),
                              strides, dilation, offsets)
                continue
            if k_w <= depthwise_rows.MAX_ROW_TAPS:
                depthwise_rows.forward_plane(flat_x, x_plane, flat_w, flat_y, y_plane, (k_h, k_w),
                                             (height, width, channels), (out_high, columns), strides, dilation, offsets)
                continue
            for q in range(out_high):
                j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
                x_row = x_plane + (q * s_h - o_h) * width * channels  # may lie above x
                y_row = y_plane + q * columns * channels
                for r in range(columns):
                    k_first, k_stop = tap_range(r, s_w, d_w, o_w, k_w, width)
                    _cell(flat_x, x_row + j_first * row_step + (r * s_w + k_first * d_w - o_w) * channels,
                          x_steps, flat_w, (j_first * k_w + k_first) * channels, w_steps, flat_y,
                          y_row + r * channels, (j_stop - j_first, k_stop - k_first), channels)


@intrinsic
def _cell(typingctx, x, x_start, x_steps, w, w_start, w_steps, y, y_start, taps, channels):
    """cell(x, x_start, x_steps, w, w_start, w_steps, y, y_start, taps, channels): one output cell from a window of
    x and of w, on flat arrays, C = `channels`:

        y[y_start + c] = sum over j < rows, k < columns of x[x_start + j x_row_step + k x_column_step + c]
                                                          * w[w_start + j w_row_step + k w_column_step + c]

    taps = (rows, columns), each steps = (row step, column step): the forward's taps of a window inside x (x
    steps d_h W C and d_w C, w steps k_w C and C), or the input gradient's output cells that read one input cell
    (`_gather_input_gradient_2d`). Per block of V channels, one vector load of x and of w and one fused
    multiply-add per tap, one store."""
    signature = types.void(x, types.intp, x_steps, w, types.intp, w_steps, y, types.intp, taps, types.intp)

    def codegen(context, builder, signature, arguments):
        x_array, x_start, x_steps, w_array, w_start, w_steps, y_array, y_start, taps, channels = arguments
        x_row_step, x_column_step = (builder.extract_value(x_steps, field) for field in range(2))
        w_row_step, w_column_step = (builder.extract_value(w_steps, field) for field in range(2))
        rows, columns = (builder.extract_value(taps, field) for field in range(2))
        x_data = context.make_array(signature.args[0])(context, builder, x_array).data
        w_data = context.make_array(signature.args[3])(context, builder, w_array).data
        y_data = context.make_array(signature.args[6])(context, builder, y_array).data
        ir_ = Vectors(context, builder, signature.args[0].dtype)
        for first, mask in ir_.channel_blocks(channels):
            total = cgutils.alloca_once_value(builder, ir.Constant(ir_.vector, [0.0] * ir_.length))
            with cgutils.for_range(builder, rows) as j:
                x_row = builder.add(builder.add(x_start, builder.mul(j.index, x_row_step)), first)
                w_row = builder.add(builder.add(w_start, builder.mul(j.index, w_row_step)), first)
                with cgutils.for_range(builder, columns) as k:
                    value = ir_.masked_load(ir_.at(x_data, builder.add(x_row, builder.mul(k.index, x_column_step))),
                                            mask)
                    weight = ir_.masked_load(ir_.at(w_data, builder.add(w_row, builder.mul(k.index, w_column_step))),
                                             mask)
                    builder.store(ir_.fma(value, weight, builder.load(total)), total)
            ir_.masked_store(builder.load(total), ir_.at(y_data, builder.add(y_start, first)), mask)
        return context.get_dummy_value()

    return signature, codegen


@njit(nogil=True, cache=True)
def _gather_taps(position, stride, dilation, offset, taps, outputs):
    """(first tap, tap count, first output, tap step, output step): the taps t that carry input cell `position` to
    an output o (position = o stride + t dilation - offset, 0 <= o < outputs) along one axis: t = first, first +
    tap step, ..., the outputs o = first output, first output - output step, ... (count 0: none reads it)."""
    first, count, first_output = 0, 0, 0
    for t in range(taps):
        shifted = position + offset - t * dilation
        if shifted >= 0 and shifted % stride == 0 and shifted // stride < outputs:
            if count == 0:
                first, first_output = t, shifted // stride
            count += 1
    common = math.gcd(stride, dilation)
    return first, count, first_output, stride // common, dilation // common


@njit(nogil=True, cache=True, boundscheck=False)
def input_gradient(grad_output, w, grad_input, strides, dilation, offsets):
    """grad_input = the gradient of the input, every cell written: for a 2-D kernel each input cell gathers the
    output cells that read it (`_gather_input_gradient_2d`); for a 3-D one zeros, then `add_input_gradient`."""
    if w.shape[0] == 1:
        _gather_input_gradient_2d(grad_output, w, grad_input, strides, dilation, offsets)
        return
    grad_input[...] = 0
    add_input_gradient(grad_output, w, grad_input, strides, dilation, offsets)


@njit(nogil=True, cache=True, boundscheck=False)
def _gather_input_gradient_2d(grad_output, w, grad_input, strides, dilation, offsets):
    """The input gradient of a 2-D kernel (k_d = 1), on vectors of channels: input cell (a, b) is the sum over the
    taps (j, k) that read it of dy[o_j, o_k] * w[j, k] (`_gather_taps` along each axis), one `_cell`; written once,
    so dx needs no zeroing and no cell is read back."""
    s_d, s_h, s_w = strides
    d_h, d_w = dilation[1], dilation[2]
    o_d, o_h, o_w = offsets
    k_h, k_w = w.shape[1], w.shape[2]
    depth, height, width, channels = grad_input.shape[1], grad_input.shape[2], grad_input.shape[3], grad_input.shape[4]
    out_depth, out_high, columns = grad_output.shape[1], grad_output.shape[2], grad_output.shape[3]
    row_taps = np.empty((height, 5), dtype=np.int64)
    for a in range(height):
        row_taps[a] = _gather_taps(a, s_h, d_h, o_h, k_h, out_high)
    column_taps = np.empty((width, 5), dtype=np.int64)
    for b in range(width):
        column_taps[b] = _gather_taps(b, s_w, d_w, o_w, k_w, columns)
    flat_grad, flat_w, flat_input = grad_output.reshape(-1), w.reshape(-1), grad_input.reshape(-1)
    for n in range(grad_input.shape[0]):
        for plane in range(depth):
            shifted = plane + o_d
            if shifted % s_d != 0 or shifted // s_d >= out_depth:
                grad_input[n, plane] = 0  # no output plane reads this one (k_d = 1)
                continue
            p = shifted // s_d
            for a in range(height):
                j_first, rows, q, j_step, q_step = row_taps[a]
                for b in range(width):
                    k_first, cells, r, k_step, r_step = column_taps[b]
                    _cell(flat_grad, (((n * out_depth + p) * out_high + q) * columns + r) * channels,
                          (-q_step * columns * channels, -r_step * channels), flat_w,
                          (j_first * k_w + k_first) * channels, (j_step * k_w * channels, k_step * channels),
                          flat_input, (((n * depth + plane) * height + a) * width + b) * channels, (rows, cells),
                          channels)


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def add_input_gradient(grad_output, w, grad_input, strides, dilation, offsets):
    """grad_input += each output gradient times the weight it was multiplied by, in the cell it came from."""
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = w.shape
    depth, height, width = grad_input.shape[1], grad_input.shape[2], grad_input.shape[3]
    for n in range(grad_output.shape[0]):
        for p in range(grad_output.shape[1]):
            i_first, i_stop = tap_range(p, s_d, d_d, o_d, k_d, depth)
            for q in range(grad_output.shape[2]):
                j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
                for r in range(grad_output.shape[3]):
                    k_first, k_stop = tap_range(r, s_w, d_w, o_w, k_w, width)
                    grad = grad_output[n, p, q, r]
                    for i in range(i_first, i_stop):
                        for j in range(j_first, j_stop):
                            for k in range(k_first, k_stop):
                                cell = grad_input[n, p * s_d + i * d_d - o_d, q * s_h + j * d_h - o_h,
                                                  r * s_w + k * d_w - o_w]
                                weights = w[i, j, k]
                                for c in range(channels):
                                    cell[c] += grad[c] * weights[c]


@njit(nogil=True, cache=True, boundscheck=False)
def _add_kernel_gradient_2d(x, grad_output, grad_kernel, strides, dilation, offsets):
    """add_kernel_gradient for a 2-D kernel (k_d = 1), on vectors of channels, plane by plane as `_forward_2d`: a
    3x3 kernel's line by line, the nine sums of a block of channels in registers (`depthwise_3x3.add_gradient_plane`);
    another kernel up to MAX_ROW_TAPS wide row pass by row pass (`depthwise_rows.add_gradient_plane`); a wider one
    cell by cell, each adding its taps inside x into the sums in memory (`_add_window_products`). Each image's sums
    are added to grad_kernel."""
    s_d, s_h, s_w = strides
    d_h, d_w = dilation[1], dilation[2]
    o_d, o_h, o_w = offsets
    k_h, k_w = grad_kernel.shape[1], grad_kernel.shape[2]
    depth, height, width, channels = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    out_depth, out_high, columns = grad_output.shape[1], grad_output.shape[2], grad_output.shape[3]
    flat_x, flat_grad = x.reshape(-1), grad_output.reshape(-1)
    row_step, tap_step = d_h * width * channels, d_w * channels
    x_steps, sums_steps = (row_step, tap_step), (k_w * channels, channels)  # (row step, column step) of each window
    image_sum = np.empty(k_h * k_w * channels, dtype=grad_kernel.dtype)  # (k_h, k_w, C), flat
    total = grad_kernel.reshape(-1)
    for n in range(grad_output.shape[0]):
        image_sum[:] = 0
        for p in range(out_depth):
            plane = p * s_d - o_d
            if plane < 0 or plane >= depth:
                continue
            x_plane = (n * depth + plane) * height * width * channels
            grad_plane = (n * out_depth + p) * out_high * columns * channels
            if k_h == 3 and k_w == 3:
                add_gradient_plane(flat_x, x_plane, flat_grad, grad_plane, image_sum, (height, width, channels),
                                   (out_high, columns), strides, dilation, offsets)
                continue
            if k_w <= depthwise_rows.MAX_ROW_TAPS:
                depthwise_rows.add_gradient_plane(flat_x, x_plane, flat_grad, grad_plane, image_sum, (k_h, k_w),
                                                  (height, width, channels), (out_high, columns), strides, dilation,
                                                  offsets)
                continue
            for q in range(out_high):
                j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
                x_row = x_plane + (q * s_h - o_h) * width * channels
                grad_row = grad_plane + q * columns * channels
                for r in range(columns):
                    k_first, k_stop = tap_range(r, s_w, d_w, o_w, k_w, width)
                    _add_window_products(flat_grad, grad_row + r * channels, flat_x,
                                         x_row + j_first * row_step + (r * s_w + k_first * d_w - o_w) * channels,
                                         x_steps, image_sum, (j_first * k_w + k_first) * channels, sums_steps,
                                         (j_stop - j_first, k_stop - k_first), channels)
        for m in range(total.shape[0]):
            total[m] += image_sum[m]


@intrinsic
def _add_window_products(typingctx, grad, grad_start, source, source_start, source_steps, target, target_start,
                         target_steps, taps, channels):
    """add_window_products(grad, grad_start, source, source_start, source_steps, target, target_start, target_steps,
    taps, channels): the kernel gradient's share of one output cell, its gradient times a window of `source` (x)
    added into a window of `target` (the sums), on flat arrays, C = `channels`:

        target[target_start + j target_row_step + k target_column_step + c]
            += grad[grad_start + c] * source[source_start + j source_row_step + k source_column_step + c]

    for j < rows, k < columns, taps = (rows, columns), each steps = (row step, column step): x's d_h W C and d_w C,
    the sums' k_w C and C. Per block of V channels one load of grad, then per tap a load of source and of target, a
    multiply-add and a store."""
    signature = types.void(grad, types.intp, source, types.intp, source_steps, target, types.intp, target_steps, taps,
                           types.intp)

    def codegen(context, builder, signature, arguments):
        (grad_array, grad_start, source_array, source_start, source_steps, target_array, target_start, target_steps,
         taps, channels) = arguments
        source_row_step, source_column_step = (builder.extract_value(source_steps, field) for field in range(2))
        target_row_step, target_column_step = (builder.extract_value(target_steps, field) for field in range(2))
        rows, columns = (builder.extract_value(taps, field) for field in range(2))
        grad_data = context.make_array(signature.args[0])(context, builder, grad_array).data
        source_data = context.make_array(signature.args[2])(context, builder, source_array).data
        target_data = context.make_array(signature.args[5])(context, builder, target_array).data
        ir_ = Vectors(context, builder, signature.args[0].dtype)
        for first, mask in ir_.channel_blocks(channels):
            gradient = ir_.masked_load(ir_.at(grad_data, builder.add(grad_start, first)), mask)
            with cgutils.for_range(builder, rows) as j:
                source_row = builder.add(builder.add(source_start, builder.mul(j.index, source_row_step)), first)
                target_row = builder.add(builder.add(target_start, builder.mul(j.index, target_row_step)), first)
                with cgutils.for_range(builder, columns) as k:
                    value = ir_.masked_load(ir_.at(source_data, builder.add(
                        source_row, builder.mul(k.index, source_column_step))), mask)
                    slot = ir_.at(target_data, builder.add(target_row, builder.mul(k.index, target_column_step)))
                    ir_.masked_store(ir_.fma(value, gradient, ir_.masked_load(slot, mask)), slot, mask)
        return context.get_dummy_value()

    return signature, codegen


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def add_kernel_gradient(x, grad_output, grad_kernel, strides, dilation, offsets):
    """grad_kernel += the sum over images and positions of input cell times output gradient.

    Each image is summed into its own buffer first and then added, so that float32 sums stay short. A 2-D kernel
    on vectors of channels (`_add_kernel_gradient_2d`); a 3-D one output cell by output cell, each cell's
    gradient (C values) read once for all its taps, or, with stride 1 along the rows and fewer than
    SHORT_CHANNELS channels, where a loop over one cell's channels is too short to pay for its start, row by row
    (`_add_kernel_gradient_by_rows`).
    """
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = grad_kernel.shape
    if k_d == 1:
        _add_kernel_gradient_2d(x, grad_output, grad_kernel, strides, dilation, offsets)
        return
    if s_w == 1 and channels < SHORT_CHANNELS:
        _add_kernel_gradient_by_rows(x, grad_output, grad_kernel, strides, dilation, offsets)
        return
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    image_sum = np.empty_like(grad_kernel)
    for n in range(grad_output.shape[0]):
        image_sum[...] = 0
        for p in range(grad_output.shape[1]):
            i_first, i_stop = tap_range(p, s_d, d_d, o_d, k_d, depth)
            for q in range(grad_output.shape[2]):
                j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
                for r in range(grad_output.shape[3]):
                    k_first, k_stop = tap_range(r, s_w, d_w, o_w, k_w, width)
                    grad = grad_output[n, p, q, r]
                    for i in range(i_first, i_stop):
                        for j in range(j_first, j_stop):
                            for k in range(k_first, k_stop):
                                cell = x[n, p * s_d + i * d_d - o_d, q * s_h + j * d_h - o_h,
                                         r * s_w + k * d_w - o_w]
                                total = image_sum[i, j, k]
                                for c in range(channels):
                                    total[c] += cell[c] * grad[c]
        grad_kernel += image_sum


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def _add_kernel_gradient_by_rows(x, grad_output, grad_kernel, strides, dilation, offsets):
    """add_kernel_gradient for stride 1 along the rows (W).

    Output cell (r, c) of a row and the input cell it reads under tap k lie the same distance,
    (k*d_w - o_w) * C, apart in the flattened rows, so each tap of each output row is one long contiguous loop
    over (r, c) (its border columns cut off by the loop's range), adding into a row of sums per tap,
    sums[i, j, k, r*C + c]. The rows are cut into blocks of columns (ROW_BLOCK values) whose sums stay in the
    L1 cache while all the rows of the image pass over them; then the block's sums are added over r.
    """
    s_d, s_h = strides[0], strides[1]
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = grad_kernel.shape
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    columns = grad_output.shape[3]
    block = max(1, min(columns, ROW_BLOCK // channels))
    sums = np.empty((k_d, k_h, k_w, block * channels), dtype=grad_kernel.dtype)
    image_sum = np.empty_like(grad_kernel)
    for n in range(grad_output.shape[0]):
        image_sum[...] = 0
        for block_first in range(0, columns, block):
            block_stop = min(columns, block_first + block)
            sums[...] = 0
            for p in range(grad_output.shape[1]):
                i_first, i_stop = tap_range(p, s_d, d_d, o_d, k_d, depth)
                for q in range(grad_output.shape[2]):
                    j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
                    grad = grad_output[n, p, q].reshape(-1)
                    for i in range(i_first, i_stop):
                        for j in range(j_first, j_stop):
                            row = x[n, p * s_d + i * d_d - o_d, q * s_h + j * d_h - o_h].reshape(-1)
                            for k in range(k_w):
                                shift = k * d_w - o_w
                                first, stop = output_range(shift, 1, width, columns)
                                start = max(first, block_first) * channels
                                end = max(start, min(stop, block_stop) * channels)
                                at, distance = block_first * channels, shift * channels
                                _add_products(sums[i, j, k, start - at:end - at],
                                              row[start + distance:end + distance], grad[start:end])
            for i in range(k_d):
                for j in range(k_h):
                    for k in range(k_w):
                        row_sums, total = sums[i, j, k], image_sum[i, j, k]
                        for r in range(block_stop - block_first):
                            for c in range(channels):
                                total[c] += row_sums[r * channels + c]
        grad_kernel += image_sum


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False, inline="always")
def _add_products(total, a, b):
    """total += a * b, elementwise over three 1-D arrays of one length."""
    for m in range(total.shape[0]):
        total[m] += a[m] * b[m]
