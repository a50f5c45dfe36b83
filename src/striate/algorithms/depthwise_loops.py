"""The three loops of depthwise convolution, compiled by numba: the lectures' loop, run at machine speed.

Depthwise convolution multiplies each channel by its own small kernel, so there is no matrix product to hand
to BLAS: the work is the loop itself. Written in NumPy it becomes nine (for 3x3) passes over the whole
activation, each reading and writing it from memory; compiled, each output row is finished while its input
rows are still in the cache, and the innermost loop runs over the channels, which are contiguous in
channels-last data, so the compiler turns it into vector instructions.

Each loop takes one chunk of images with three spatial axes (1-D and 2-D inputs are passed with the missing
axes of length 1) and one channel per kernel slice:

    x (n, D, H, W, C)   kernel w (k_d, k_h, k_w, C)   y, dy (n, D_out, H_out, W_out, C)

    forward:          y[n, p, q, r, c]  = sum over i, j, k of x[n, p*s_d + i*d_d, q*s_h + j*d_h, r*s_w + k*d_w, c]
                                                            * w[i, j, k, c]
    input gradient:   dx[same cell]    += dy[n, p, q, r, c] * w[i, j, k, c]          (dx starts at zero)
    kernel gradient:  dw[i, j, k, c]   += x[same cell] * dy[n, p, q, r, c]           (dw starts at zero)

The loops release the GIL (`nogil`), so `striate.algorithms.depthwise` runs two chunks at once on two
threads. numba compiles each loop on its first call for each dtype and keeps the machine code in its cache
(`cache=True`), so later processes start at once.
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def forward(x, w, y, strides, dilation):
    """y = the depthwise cross-correlation of x with w (every entry of y written)."""
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    k_d, k_h, k_w, channels = w.shape
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            for q in range(y.shape[2]):
                for r in range(y.shape[3]):
                    out = y[n, p, q, r]
                    out[:] = 0
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                cell = x[n, p * s_d + i * d_d, q * s_h + j * d_h, r * s_w + k * d_w]
                                weights = w[i, j, k]
                                for c in range(channels):
                                    out[c] += cell[c] * weights[c]


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def add_input_gradient(grad_output, w, grad_input, strides, dilation):
    """grad_input += each output gradient times the weight it was multiplied by, in the cell it came from."""
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    k_d, k_h, k_w, channels = w.shape
    for n in range(grad_output.shape[0]):
        for p in range(grad_output.shape[1]):
            for q in range(grad_output.shape[2]):
                for r in range(grad_output.shape[3]):
                    grad = grad_output[n, p, q, r]
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                cell = grad_input[n, p * s_d + i * d_d, q * s_h + j * d_h, r * s_w + k * d_w]
                                weights = w[i, j, k]
                                for c in range(channels):
                                    cell[c] += grad[c] * weights[c]


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def add_kernel_gradient(x, grad_output, grad_kernel, strides, dilation):
    """grad_kernel += the sum over images and positions of input cell times output gradient.

    Each image is summed into its own buffer first and then added, so that float32 sums stay short.
    """
    s_d, s_h, s_w = strides
    d_d, d_h, d_w = dilation
    k_d, k_h, k_w, channels = grad_kernel.shape
    image_sum = np.empty_like(grad_kernel)
    for n in range(grad_output.shape[0]):
        image_sum[...] = 0
        for p in range(grad_output.shape[1]):
            for q in range(grad_output.shape[2]):
                for r in range(grad_output.shape[3]):
                    grad = grad_output[n, p, q, r]
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                cell = x[n, p * s_d + i * d_d, q * s_h + j * d_h, r * s_w + k * d_w]
                                total = image_sum[i, j, k]
                                for c in range(channels):
                                    total[c] += cell[c] * grad[c]
        grad_kernel += image_sum
