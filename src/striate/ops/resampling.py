"""Resizing images by interpolation as one op: each output pixel a weighted sum of at most 2 x 2 input pixels.

Along each axis an output cell i reads two input cells, low[i] and high[i], with weights 1 - f[i] and f[i]
(`striate.functional.resizing.interpolation_taps`: bilinear's neighbours, or one cell twice with f = 0 for
"nearest"). On x (N, H, W, C) -> y (N, H_out, W_out, C), with (r0, r1, f) the rows' taps and (c0, c1, g) the
columns':

    y[n, i, j]   = (1 - f_i) ((1 - g_j) x[n, r0_i, c0_j] + g_j x[n, r0_i, c1_j])
                 + f_i       ((1 - g_j) x[n, r1_i, c0_j] + g_j x[n, r1_i, c1_j])          (a vector of C values)
    dx[n, r, c]  = the sum of the same weights times dy[n, i, j] over the outputs that read cell (r, c)

"nearest" copies x[n, r0_i, c0_j] (no products: an inf elsewhere in x stays out of y) and its gradient adds each
dy[n, i, j] into the cell it came from. Each pass is one compiled loop over the images of a chunk, a pixel's C
channels contiguous (channels-last): the forward reads x once and writes y once, where the two matrix products
A_H x A_W^T it equals took thin products of 16 columns each way; the gradient's adds run in output order within
an image, the images' chunks on striate's threads (`split_batch`).
"""

import numpy as np
from numba import njit

from striate.algorithms.chunking import batch_chunks, split_batch
from striate.core.function import Function


class Resize(Function):
    def forward(self, x, *, rows, columns, nearest):
        self.input_shape, self.rows, self.columns, self.nearest = x.shape, rows, columns, nearest
        x = np.ascontiguousarray(x)
        y = np.empty((x.shape[0], len(rows[0]), len(columns[0]), x.shape[3]), dtype=x.dtype)
        weights = [weight.astype(x.dtype) for weight in (rows[2], columns[2])]

        def resize_images(images):
            _interpolate(x[images], rows[0], rows[1], weights[0], columns[0], columns[1], weights[1], nearest,
                         y[images])

        split_batch(resize_images, batch_chunks(x.shape[0], x[:1].nbytes + y[:1].nbytes), work=4 * y.size)
        return y

    def backward(self, grad):
        grad = np.ascontiguousarray(grad)
        grad_input = np.zeros(self.input_shape, dtype=grad.dtype)
        rows, columns = self.rows, self.columns
        weights = [weight.astype(grad.dtype) for weight in (rows[2], columns[2])]

        def spread_images(images):
            _spread_back(grad[images], rows[0], rows[1], weights[0], columns[0], columns[1], weights[1], self.nearest,
                         grad_input[images])

        split_batch(spread_images, batch_chunks(grad.shape[0], grad[:1].nbytes + grad_input[:1].nbytes),
                    work=4 * grad.size)
        return (grad_input,)


@njit(nogil=True, cache=True, boundscheck=False)
def _interpolate(x, row_low, row_high, row_weight, column_low, column_high, column_weight, nearest, y):
    """y[n, i, j] from the four (nearest: one) input pixels its taps name (see the module), for every image of x."""
    one = row_weight.dtype.type(1)
    for n in range(x.shape[0]):
        for i in range(y.shape[1]):
            f = row_weight[i]
            top, bottom = x[n, row_low[i]], x[n, row_high[i]]
            for j in range(y.shape[2]):
                out = y[n, i, j]
                if nearest:
                    source = top[column_low[j]]
                    for c in range(out.shape[0]):
                        out[c] = source[c]
                    continue
                g = column_weight[j]
                top_left, top_right = top[column_low[j]], top[column_high[j]]
                bottom_left, bottom_right = bottom[column_low[j]], bottom[column_high[j]]
                for c in range(out.shape[0]):
                    out[c] = ((one - f) * ((one - g) * top_left[c] + g * top_right[c])
                              + f * ((one - g) * bottom_left[c] + g * bottom_right[c]))


@njit(nogil=True, cache=True, boundscheck=False)
def _spread_back(grad, row_low, row_high, row_weight, column_low, column_high, column_weight, nearest, grad_input):
    """grad_input += each dy[n, i, j] times its four (nearest: one) weights, into the input pixels it was read from,
    in output order."""
    one = row_weight.dtype.type(1)
    for n in range(grad.shape[0]):
        for i in range(grad.shape[1]):
            f = row_weight[i]
            top, bottom = grad_input[n, row_low[i]], grad_input[n, row_high[i]]
            for j in range(grad.shape[2]):
                dy = grad[n, i, j]
                if nearest:
                    target = top[column_low[j]]
                    for c in range(dy.shape[0]):
                        target[c] += dy[c]
                    continue
                g = column_weight[j]
                top_left, top_right = top[column_low[j]], top[column_high[j]]
                bottom_left, bottom_right = bottom[column_low[j]], bottom[column_high[j]]
                for c in range(dy.shape[0]):
                    top_left[c] += (one - f) * (one - g) * dy[c]
                    top_right[c] += (one - f) * g * dy[c]
                    bottom_left[c] += f * (one - g) * dy[c]
                    bottom_right[c] += f * g * dy[c]


def resize(x, rows, columns, nearest):
    """x (N, H, W, C) resized by the taps rows = (low, high, weight) along H and columns along W (each three arrays of
    the output length: int64 indices and float64 weights f); see Resize."""
    return Resize.apply(x, rows=rows, columns=columns, nearest=nearest)
