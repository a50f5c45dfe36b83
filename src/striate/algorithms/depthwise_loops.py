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
then run over those only, with no test in the inner loops, which run over the channels (contiguous in
channels-last data, so vectorized). Two cases get loops of their own:

- forward, 2-D 3x3 kernel (`_forward_3x3`, which also serves the stride-1 input gradient): the loops are split
  at the border rather than tested per cell. In a row whose three kernel rows lie inside x, the run of
  columns whose three taps lie inside x (found once per call by `_columns`) is one loop over the columns in
  which each cell is one expression per channel, the nine products summed in registers and the output stored
  once; the few border cells before and after the run, and the rows cut by the padding, add their taps
  inside x one by one.
- kernel gradient, stride 1 along the rows and fewer than SHORT_CHANNELS channels
  (`_add_kernel_gradient_by_rows`): a loop over one cell's few channels is too short to pay for its start
  (measured with 32 channels: 1.4x slower than by rows; with 128 or 256, by rows is 1.2x slower than by
  cells), so each tap of each output row is one contiguous loop over the whole row (columns times channels),
  its border columns cut off by the loop's range (`_columns`).

The loops release the GIL (`nogil`), so `striate.algorithms.depthwise` runs several chunks at once on several
threads. numba compiles each loop on its first call for each dtype and keeps the machine code in its cache
(`cache=True`), so later processes start at once.
"""

import numpy as np
from numba import njit

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
    if w.shape[0] == 1 and w.shape[1] == 3 and w.shape[2] == 3:
        _forward_3x3(x, w, y, strides, dilation, offsets)
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


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def _forward_3x3(x, w, y, strides, dilation, offsets):
    """The forward loop of a 2-D 3x3 kernel. In the rows whose three kernel rows lie inside x, the columns whose
    three taps lie inside x, [inner_first, inner_stop), are each one expression per channel over the 3x3
    window (`_inner_row_3x3`); the border cells add their taps inside x one by one (`_border_cell`)."""
    s_d, s_h, s_w = strides
    d_h, d_w = dilation[1], dilation[2]
    o_d, o_h, o_w = offsets
    height, width, columns = x.shape[2], x.shape[3], y.shape[3]
    left, right = _columns(-o_w, s_w, width, columns), _columns(2 * d_w - o_w, s_w, width, columns)
    inner_first = max(left[0], right[0])
    inner_stop = max(inner_first, min(left[1], right[1]))
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            plane = p * s_d - o_d
            if plane < 0 or plane >= x.shape[1]:
                y[n, p] = 0
                continue
            rows = x[n, plane]
            for q in range(y.shape[2]):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, 3, height)
                top, out = q * s_h - o_h, y[n, p, q]
                first, stop = 0, 0
                if j_stop - j_first == 3:
                    first, stop = inner_first, inner_stop
                    _inner_row_3x3(rows[top], rows[top + d_h], rows[top + 2 * d_h], w[0], out, first, stop, s_w,
                                   -o_w, d_w)
                for r in range(0, first):
                    _border_cell(rows, w[0], out[r], top, j_first, j_stop, r, s_w, d_h, d_w, o_w)
                for r in range(stop, columns):
                    _border_cell(rows, w[0], out[r], top, j_first, j_stop, r, s_w, d_h, d_w, o_w)


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False, inline="always")
def _inner_row_3x3(upper, middle, lower, v, out, first, stop, stride, shift, dilation):
    """out[r, c] = the sum of v[j, k, c] times row j's cell r*stride + shift + k*dilation, for r in [first, stop):
    one expression per channel, the nine products in registers, the output stored once."""
    for r in range(first, stop):
        a = r * stride + shift
        b, e = a + dilation, a + 2 * dilation
        for c in range(out.shape[1]):
            out[r, c] = (upper[a, c] * v[0, 0, c] + upper[b, c] * v[0, 1, c] + upper[e, c] * v[0, 2, c]
                         + middle[a, c] * v[1, 0, c] + middle[b, c] * v[1, 1, c] + middle[e, c] * v[1, 2, c]
                         + lower[a, c] * v[2, 0, c] + lower[b, c] * v[2, 1, c] + lower[e, c] * v[2, 2, c])


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False, inline="always")
def _border_cell(rows, w, out, top, j_first, j_stop, r, stride, d_h, d_w, o_w):
    """out[c] = the sum over the taps (j, k) of a 3x3 window whose cells lie inside `rows` of cell * w[j, k, c]."""
    k_first, k_stop = _taps(r, stride, d_w, o_w, 3, rows.shape[1])
    out[:] = 0
    for j in range(j_first, j_stop):
        for k in range(k_first, k_stop):
            cell, weights = rows[top + j * d_h, r * stride + k * d_w - o_w], w[j, k]
            for c in range(out.shape[0]):
                out[c] += cell[c] * weights[c]


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


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def add_kernel_gradient(x, grad_output, grad_kernel, strides, dilation, offsets):
    """grad_kernel += the sum over images and positions of input cell times output gradient.

    Each image is summed into its own buffer first and then added, so that float32 sums stay short. Output
    cell by output cell, each cell's gradient (C values) is read once for all its taps; with stride 1 along the
    rows and fewer than SHORT_CHANNELS channels, where a loop over one cell's channels is too short to pay for
    its start, row by row instead (`_add_kernel_gradient_by_rows`).
    """
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = grad_kernel.shape
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
