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

For each output row (n, p, q) the loops first find the kernel taps whose input cells lie inside x (`_taps`),
then run over those only, with no test in the inner loops. A 2-D kernel (k_d = 1: every 1-D and 2-D layer)
gets loops of its own in each pass, written in LLVM's vector instructions (numba's `intrinsic`, the `Vectors` of
`vectorized_loops`) on blocks of V channels (16 float32, 8 float64; the last block partial, read and written
through masks):

- forward (`_forward_2d`, which also serves the stride-1 input gradient): each output cell sums its taps inside x, a
  vector load of x and of w and a multiply-add per tap (`_cell`; 5x5 at 8 images, one thread: 28x28x40 1.34 -> 0.65
  ms, 56x56x24 4.84 -> 1.84, their kernel gradients 0.88 -> 0.48 and 1.92 -> 1.33). For a 3x3 kernel the loops are
  split at the border rather than tested per cell: in a row whose three kernel rows lie inside x, the run of columns
  whose three taps lie inside x (found once per call, `_run_columns`) is one loop with the block's nine weight
  vectors in registers (`_run_3x3`): per output vector nine loads, nine multiply-adds, one store. numba's own loop
  over one cell's channels, which it vectorized with a runtime overlap check per cell and a scalar remainder, ran
  this at a third of the speed for 16 to 32 channels: 32x32x32 at 4 images 0.31 -> 0.13 ms, 45x45x16 0.47 -> 0.13,
  16x16x128 0.19 -> 0.13.
- kernel gradient (`_add_kernel_gradient_2d`): the same cells, each adding its taps into the sums in memory
  (`_add_window_products`), and for a 3x3 kernel the same runs, the block's nine sums in registers while a run passes
  (`_gradient_run_3x3`: per output vector one load of dy, nine of x, nine multiply-adds). 64 images, one
  thread: 32x32x32 3.34 -> 1.59 ms, 16x16x128 2.42 -> 1.61, 8x8x256 0.95 -> 0.82.
- input gradient with a stride (`input_gradient`, `_gather_input_gradient_2d`): each input cell gathers the output
  cells that read it, the taps along each axis found once per row and column (`_gather_taps`), one `_cell` per
  input cell, so dx is written once and needs no zeroing. 64 images, one thread, against zeroing dx and adding
  each output cell's share into it: 32x32x64 3.19 -> 2.17 ms, 16x16x128 0.91 -> 0.64; 8 of 112x112x32 2.28 -> 1.57.

A 3-D kernel runs in numba's loops over each cell's channels (contiguous in channels-last data, so vectorized by
the compiler); its kernel gradient, with stride 1 along the rows and fewer than SHORT_CHANNELS channels, row by
row (`_add_kernel_gradient_by_rows`): a loop over one cell's few channels is too short to pay for its start
(measured with 32 channels: 1.4x slower than by rows; with 128 or 256, by rows is 1.2x slower than by cells),
so each tap of each output row is one contiguous loop over the whole row (columns times channels), its border
columns cut off by the loop's range (`_columns`).

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

from striate.algorithms.vectorized_loops import Vectors

SHORT_CHANNELS = 64  # fewer channels than this: the kernel gradient runs row by row (see the docstring)
ROW_BLOCK = 1024  # values per row of per-tap sums in the kernel gradient: nine such rows fit the L1 cache


@njit(nogil=True, cache=True)
def _taps(position, stride, dilation, offset, taps, size):
    """The range [first, stop) of kernel taps t for which input cell position*stride + t*dilation - offset
    lies in [0, size)."""
    start = position * stride - offset
    first = 0 if start >= 0 else (-start + dilation - 1) // dilation
    stop = 0 if start >= size else min(taps, (size - 1 - start) // dilation + 1)
    return first, max(first, stop)


@njit(nogil=True, cache=True)
def _columns(shift, stride, size, outputs):
    """The range [first, stop) of output columns r for which input column r*stride + shift lies in [0, size)."""
    first = min(outputs, max(0, -(shift // stride)))  # ceil(-shift / stride), within [0, outputs]
    stop = min(outputs, (size - 1 - shift) // stride + 1) if size > shift else 0
    return first, max(first, stop)


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
            i_first, i_stop = _taps(p, s_d, d_d, o_d, k_d, depth)
            for q in range(y.shape[2]):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                for r in range(y.shape[3]):
                    k_first, k_stop = _taps(r, s_w, d_w, o_w, k_w, width)
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
    """The forward loop of a 2-D kernel (k_d = 1), on vectors of channels. For a 3x3 kernel, in the rows whose three
    kernel rows lie inside x, the columns whose three taps lie inside x, [inner_first, inner_stop), are one run
    with the nine weight vectors in registers (`_run_3x3`); every other cell sums its taps inside x (`_cell`)."""
    s_d, s_h, s_w = strides
    d_h, d_w = dilation[1], dilation[2]
    o_d, o_h, o_w = offsets
    k_h, k_w = w.shape[1], w.shape[2]
    depth, height, width, channels = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    out_depth, out_high, columns = y.shape[1], y.shape[2], y.shape[3]
    inner_first, inner_stop = _run_columns(k_h, k_w, s_w, d_w, o_w, width, columns)
    flat_x, flat_w, flat_y = x.reshape(-1), w.reshape(-1), y.reshape(-1)
    row_step, tap_step = d_h * width * channels, d_w * channels
    run_steps = (row_step, s_w * channels, tap_step)
    x_steps, w_steps = (row_step, tap_step), (k_w * channels, channels)  # (row step, column step) of each window
    for n in range(y.shape[0]):
        for p in range(out_depth):
            plane = p * s_d - o_d
            if plane < 0 or plane >= depth:
                y[n, p] = 0
                continue
            for q in range(out_high):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                x_row = ((n * depth + plane) * height + q * s_h - o_h) * width * channels  # may lie above x
                y_row = ((n * out_depth + p) * out_high + q) * columns * channels
                first, stop = 0, 0
                if inner_stop > inner_first and j_stop - j_first == 3:  # a 3x3 window's run
                    first, stop = inner_first, inner_stop
                    _run_3x3(flat_x, x_row + (first * s_w - o_w) * channels, run_steps, flat_w, flat_y,
                             y_row + first * channels, stop - first, channels)
                for r in range(columns):
                    if first <= r < stop:
                        continue
                    k_first, k_stop = _taps(r, s_w, d_w, o_w, k_w, width)
                    _cell(flat_x, x_row + j_first * row_step + (r * s_w + k_first * d_w - o_w) * channels,
                          x_steps, flat_w, (j_first * k_w + k_first) * channels, w_steps, flat_y,
                          y_row + r * channels, (j_stop - j_first, k_stop - k_first), channels)


@njit(nogil=True, cache=True)
def _run_columns(k_h, k_w, s_w, d_w, o_w, width, columns):
    """[first, stop): the output columns whose taps all lie inside x, run with the weights in registers: those of
    a 3x3 kernel (`_run_3x3`, `_gradient_run_3x3`); none for another kernel, whose cells run one by one."""
    if k_h != 3 or k_w != 3:
        return 0, 0
    left, right = _columns(-o_w, s_w, width, columns), _columns(2 * d_w - o_w, s_w, width, columns)
    first = max(left[0], right[0])
    return first, max(first, min(left[1], right[1]))


@intrinsic
def _run_3x3(typingctx, x, x_start, steps, w, y, y_start, pixels, channels):
    """run_3x3(x, x_start, steps, w, y, y_start, pixels, channels): `pixels` neighbouring outputs of one row whose
    3x3 windows lie inside x, on flat arrays, C = `channels`:

        y[y_start + r C + c] = sum over j, k < 3 of x[x_start + r pixel_step + j row_step + k tap_step + c]
                                                    * w[(3 j + k) C + c]

    with steps = (row step, pixel step, tap step): d_h W C, s_w C and d_w C. Per block of V channels the nine
    weight vectors are loaded once and stay in registers while the run's pixels pass: each output vector is nine
    vector loads of x, one multiply and eight fused multiply-adds, and one store; the lanes past C are neither
    read nor written (masked loads and stores)."""
    signature = types.void(x, types.intp, steps, w, y, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, arguments):
        x_array, x_start, steps, w_array, y_array, y_start, pixels, channels = arguments
        row_step, pixel_step, tap_step = (builder.extract_value(steps, field) for field in range(3))
        x_data = context.make_array(signature.args[0])(context, builder, x_array).data
        w_data = context.make_array(signature.args[3])(context, builder, w_array).data
        y_data = context.make_array(signature.args[4])(context, builder, y_array).data
        ir_ = Vectors(context, builder, signature.args[0].dtype)
        taps = [(j, k) for j in range(3) for k in range(3)]
        for first, mask in ir_.channel_blocks(channels):
            weights = [ir_.masked_load(ir_.at(w_data, builder.add(builder.mul(ir_.constant(3 * j + k), channels),
                                                                  first)), mask) for j, k in taps]
            offsets = [builder.add(builder.mul(ir_.constant(j), row_step), builder.mul(ir_.constant(k), tap_step))
                       for j, k in taps]
            with cgutils.for_range(builder, pixels) as r:
                corner = builder.add(builder.add(x_start, builder.mul(r.index, pixel_step)), first)
                rows = []  # each kernel row's three products summed apart, then the rows added: short chains
                for j in range(3):
                    total = None
                    for k in range(3):
                        value = ir_.masked_load(ir_.at(x_data, builder.add(corner, offsets[3 * j + k])), mask)
                        weight = weights[3 * j + k]
                        total = builder.fmul(value, weight) if total is None else ir_.fma(value, weight, total)
                    rows.append(total)
                target = builder.add(builder.add(y_start, builder.mul(r.index, channels)), first)
                ir_.masked_store(builder.fadd(builder.fadd(rows[0], rows[1]), rows[2]), ir_.at(y_data, target), mask)
        return context.get_dummy_value()

    return signature, codegen


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
            i_first, i_stop = _taps(p, s_d, d_d, o_d, k_d, depth)
            for q in range(grad_output.shape[2]):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                for r in range(grad_output.shape[3]):
                    k_first, k_stop = _taps(r, s_w, d_w, o_w, k_w, width)
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
    """add_kernel_gradient for a 2-D kernel (k_d = 1), on vectors of channels, row by row as `_forward_2d`: for a
    3x3 kernel the run of a row's cells whose windows lie inside x adds into the nine sums held in registers
    (`_gradient_run_3x3`); every other cell adds its taps inside x (`_add_window_products`). Each image's sums are added
    to grad_kernel."""
    s_d, s_h, s_w = strides
    d_h, d_w = dilation[1], dilation[2]
    o_d, o_h, o_w = offsets
    k_h, k_w = grad_kernel.shape[1], grad_kernel.shape[2]
    depth, height, width, channels = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    out_depth, out_high, columns = grad_output.shape[1], grad_output.shape[2], grad_output.shape[3]
    inner_first, inner_stop = _run_columns(k_h, k_w, s_w, d_w, o_w, width, columns)
    flat_x, flat_grad = x.reshape(-1), grad_output.reshape(-1)
    row_step, tap_step = d_h * width * channels, d_w * channels
    run_steps = (row_step, s_w * channels, tap_step)
    x_steps, sums_steps = (row_step, tap_step), (k_w * channels, channels)  # (row step, column step) of each window
    image_sum = np.empty(k_h * k_w * channels, dtype=grad_kernel.dtype)  # (k_h, k_w, C), flat
    total = grad_kernel.reshape(-1)
    for n in range(grad_output.shape[0]):
        image_sum[:] = 0
        for p in range(out_depth):
            plane = p * s_d - o_d
            if plane < 0 or plane >= depth:
                continue
            for q in range(out_high):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                x_row = ((n * depth + plane) * height + q * s_h - o_h) * width * channels
                grad_row = ((n * out_depth + p) * out_high + q) * columns * channels
                first, stop = 0, 0
                if inner_stop > inner_first and j_stop - j_first == 3:  # a 3x3 window's run
                    first, stop = inner_first, inner_stop
                    _gradient_run_3x3(flat_x, x_row + (first * s_w - o_w) * channels, run_steps, flat_grad,
                                      grad_row + first * channels, stop - first, channels, image_sum)
                for r in range(columns):
                    if first <= r < stop:
                        continue
                    k_first, k_stop = _taps(r, s_w, d_w, o_w, k_w, width)
                    _add_window_products(flat_grad, grad_row + r * channels, flat_x,
                                         x_row + j_first * row_step + (r * s_w + k_first * d_w - o_w) * channels,
                                         x_steps, image_sum, (j_first * k_w + k_first) * channels, sums_steps,
                                         (j_stop - j_first, k_stop - k_first), channels)
        for m in range(total.shape[0]):
            total[m] += image_sum[m]


@intrinsic
def _gradient_run_3x3(typingctx, x, x_start, steps, grad, grad_start, pixels, channels, sums):
    """gradient_run_3x3(x, x_start, steps, grad, grad_start, pixels, channels, sums): the kernel gradient's sums
    over a run of `pixels` neighbouring outputs whose 3x3 windows lie inside x, on flat arrays, C = `channels`:

        sums[(3 j + k) C + c] += sum over r of x[x_start + r pixel_step + j row_step + k tap_step + c]
                                                * grad[grad_start + r C + c]

    with steps = (row step, pixel step, tap step) as `_run_3x3`. Per block of V channels the nine sums are loaded
    once and stay in registers while the run passes: per output vector one load of grad, nine loads of x and nine
    multiply-adds; the lanes past C are neither read nor written."""
    signature = types.void(x, types.intp, steps, grad, types.intp, types.intp, types.intp, sums)

    def codegen(context, builder, signature, arguments):
        x_array, x_start, steps, grad_array, grad_start, pixels, channels, sums_array = arguments
        row_step, pixel_step, tap_step = (builder.extract_value(steps, field) for field in range(3))
        x_data = context.make_array(signature.args[0])(context, builder, x_array).data
        grad_data = context.make_array(signature.args[3])(context, builder, grad_array).data
        sums_data = context.make_array(signature.args[7])(context, builder, sums_array).data
        ir_ = Vectors(context, builder, signature.args[0].dtype)
        taps = [(j, k) for j in range(3) for k in range(3)]
        for first, mask in ir_.channel_blocks(channels):
            slots = [ir_.at(sums_data, builder.add(builder.mul(ir_.constant(3 * j + k), channels), first))
                     for j, k in taps]
            # the sums in stack slots indexed by constants only, which LLVM keeps in registers through the loop
            accumulators = [cgutils.alloca_once_value(builder, ir_.masked_load(slot, mask)) for slot in slots]
            offsets = [builder.add(builder.mul(ir_.constant(j), row_step), builder.mul(ir_.constant(k), tap_step))
                       for j, k in taps]
            with cgutils.for_range(builder, pixels) as r:
                corner = builder.add(builder.add(x_start, builder.mul(r.index, pixel_step)), first)
                gradient = ir_.masked_load(ir_.at(grad_data, builder.add(builder.add(
                    grad_start, builder.mul(r.index, channels)), first)), mask)
                for accumulator, offset in zip(accumulators, offsets):
                    value = ir_.masked_load(ir_.at(x_data, builder.add(corner, offset)), mask)
                    builder.store(ir_.fma(value, gradient, builder.load(accumulator)), accumulator)
            for accumulator, slot in zip(accumulators, slots):
                ir_.masked_store(builder.load(accumulator), slot, mask)
        return context.get_dummy_value()

    return signature, codegen


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
            i_first, i_stop = _taps(p, s_d, d_d, o_d, k_d, depth)
            for q in range(grad_output.shape[2]):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                for r in range(grad_output.shape[3]):
                    k_first, k_stop = _taps(r, s_w, d_w, o_w, k_w, width)
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
                i_first, i_stop = _taps(p, s_d, d_d, o_d, k_d, depth)
                for q in range(grad_output.shape[2]):
                    j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                    grad = grad_output[n, p, q].reshape(-1)
                    for i in range(i_first, i_stop):
                        for j in range(j_first, j_stop):
                            row = x[n, p * s_d + i * d_d - o_d, q * s_h + j * d_h - o_h].reshape(-1)
                            for k in range(k_w):
                                shift = k * d_w - o_w
                                first, stop = _columns(shift, 1, width, columns)
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
