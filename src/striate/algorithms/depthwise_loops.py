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

For each output row the loops first find the kernel taps whose input cells lie inside x (`_taps`), then run
over those only, with no test in the inner loops. A 3x3 window away from the border is summed in one
expression per channel and stored once, rather than stored and reloaded after each of its nine taps.

The loops release the GIL (`nogil`), so `striate.algorithms.depthwise` runs two chunks at once on two
threads. numba compiles each loop on its first call for each dtype and keeps the machine code in its cache
(`cache=True`), so later processes start at once.
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def _taps(position, stride, dilation, offset, taps, size):
    """The range [first, stop) of kernel taps t for which input cell position*stride + t*dilation - offset
    lies in [0, size)."""
    start = position * stride - offset
    first = 0 if start >= 0 else (-start + dilation - 1) // dilation
    stop = 0 if start >= size else min(taps, (size - 1 - start) // dilation + 1)
    return first, max(first, stop)


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def forward(x, w, y, strides, dilation, offsets):
    """y = the depthwise cross-correlation of x, zero-padded by `offsets` before each axis, with w."""
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = w.shape
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    three_by_three = k_d == 1 and k_h == 3 and k_w == 3
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            i_first, i_stop = _taps(p, s_d, d_d, o_d, k_d, depth)
            for q in range(y.shape[2]):
                j_first, j_stop = _taps(q, s_h, d_h, o_h, k_h, height)
                three_whole_rows = three_by_three and i_stop - i_first == 1 and j_stop - j_first == 3
                for r in range(y.shape[3]):
                    k_first, k_stop = _taps(r, s_w, d_w, o_w, k_w, width)
                    out = y[n, p, q, r]
                    if three_whole_rows and k_stop - k_first == 3:
                        rows = x[n, p * s_d - o_d]
                        _window_3x3(rows, q * s_h - o_h, r * s_w - o_w, d_h, d_w, w[0], out)
                        continue
                    out[:] = 0
                    for i in range(i_first, i_stop):
                        for j in range(j_first, j_stop):
                            for k in range(k_first, k_stop):
                                cell = x[n, p * s_d + i * d_d - o_d, q * s_h + j * d_h - o_h,
                                         r * s_w + k * d_w - o_w]
                                weights = w[i, j, k]
                                for c in range(channels):
                                    out[c] += cell[c] * weights[c]


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False, inline="always")
def _window_3x3(rows, top, left, d_h, d_w, w, out):
    """out[c] = sum over the 3x3 window at rows[top, left] (cells d_h, d_w apart) of cell[c] * w[j, k, c].

    One expression per channel, stored once: the nine products stay in registers.
    """
    a, b, e = left, left + d_w, left + 2 * d_w
    upper, middle, lower = rows[top], rows[top + d_h], rows[top + 2 * d_h]
    for c in range(out.shape[0]):
        out[c] = (upper[a, c] * w[0, 0, c] + upper[b, c] * w[0, 1, c] + upper[e, c] * w[0, 2, c]
                  + middle[a, c] * w[1, 0, c] + middle[b, c] * w[1, 1, c] + middle[e, c] * w[1, 2, c]
                  + lower[a, c] * w[2, 0, c] + lower[b, c] * w[2, 1, c] + lower[e, c] * w[2, 2, c])


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

    Each image is summed into its own buffer first and then added, so that float32 sums stay short.
    """
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    o_d, o_h, o_w = offsets
    k_d, k_h, k_w, channels = grad_kernel.shape
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
