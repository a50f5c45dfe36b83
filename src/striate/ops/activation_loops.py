"""The loops around a convolution's fused activation, compiled by numba: one pass over the output each.

A convolution layer's output y (N, *spatial, C) is seen as rows of its C channels, with the bias as `bias_row`, or,
with few channels, as rows of its last two axes, each W*C values long, and the bias repeated along a row
(`bias_row`, W*C values):

    add_bias:                y = y + bias_row
    add_bias_relu:           y = max(y + bias_row, 0)                                   (0 for NaN, as fmax)
    add_relu:                out = max(a + b, 0), a residual connection and its relu (flat arrays)
    relu_gradient:           out = dy * (1 where y > 0, else 0), the backward of a relu and of add_relu
    leaky_relu:              out = x where x > 0, else slope x; leaky_relu_gradient: dy where x > 0, else slope dy
    gradient_and_row_sums:   dz = dy * act'(y), act' from the output y:                 relu  1 where y > 0, else 0
                                                                                        tanh  1 - y^2
                                                                                        sigmoid  (1 - y) y
                             and row_sums += dz summed over the rows (the bias gradient, once folded to C)
    softmax_rows:            out = e^(x - max) / sum of e^(x - max) along each row (a classifier's output)

With NumPy each is two or three passes over an array the size of the activation (the CNN's second layer: 19 MB),
and the bias gradient one more; here each value is read and written once, and the sums of a row are added
position by position (a vector loop) in float64. The arithmetic per value is NumPy's, in the same order.
"""

import numpy as np
from numba import njit

RELU, TANH, SIGMOID = 0, 1, 2
KINDS = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID}


@njit(nogil=True, cache=True, boundscheck=False)
def add_bias(rows, bias_row):
    """rows (R, L) in place: rows + bias_row (NumPy's broadcast add loops along rows of L values: C = 1 channel
    makes it one call per value)."""
    for r in range(rows.shape[0]):
        row = rows[r]
        for m in range(row.shape[0]):
            row[m] += bias_row[m]


@njit(nogil=True, cache=True, boundscheck=False)
def add_bias_relu(rows, bias_row):
    """rows (R, L) in place: max(rows + bias_row, 0), NaN giving 0."""
    for r in range(rows.shape[0]):
        row = rows[r]
        for m in range(row.shape[0]):
            value = row[m] + bias_row[m]
            row[m] = value if value > 0 else 0


@njit(nogil=True, cache=True, boundscheck=False)
def add_relu(a, b, out):
    """out = max(a + b, 0) over flat arrays of one length, NaN giving 0: a residual sum and its relu in one pass
    (NumPy's add, then fmax over the sum, read and write the sum twice)."""
    for m in range(out.shape[0]):
        value = a[m] + b[m]
        out[m] = value if value > 0 else 0


@njit(nogil=True, cache=True, boundscheck=False)
def relu_gradient(grad, y, out, one):
    """out = grad * (1 where y > 0, else 0) over flat arrays of one length (a NaN in grad stays NaN, as NumPy's
    multiply by the mask): the relu's and the residual relu's backward in one pass (NumPy's compare, then multiply
    by the mask, write and read the mask). `one` is 1 in the arrays' dtype."""
    zero = one - one
    for m in range(out.shape[0]):
        out[m] = grad[m] * (one if y[m] > 0 else zero)


@njit(nogil=True, cache=True, boundscheck=False)
def leaky_relu(x, slope, out):
    """out = x where x > 0, else slope * x, over flat arrays (NumPy's where, cast and multiply: three passes and a
    mask)."""
    for m in range(out.shape[0]):
        out[m] = x[m] if x[m] > 0 else x[m] * slope


@njit(nogil=True, cache=True, boundscheck=False)
def leaky_relu_gradient(grad, x, slope, out):
    """out = grad where x > 0, else grad * slope, over flat arrays."""
    for m in range(out.shape[0]):
        out[m] = grad[m] if x[m] > 0 else grad[m] * slope


@njit(nogil=True, cache=True, boundscheck=False)
def gradient_and_row_sums(kind, grad, y, out, row_sums, one):
    """out (R, L) = grad * act'(y) for act = `kind` (RELU, TANH, SIGMOID); row_sums (L,) += out summed over the
    rows. `one` is 1 in the arrays' dtype (float32 arithmetic stays float32)."""
    zero = one - one
    for r in range(grad.shape[0]):
        g, v, o = grad[r], y[r], out[r]
        if kind == RELU:
            for m in range(o.shape[0]):
                o[m] = g[m] * (one if v[m] > 0 else zero)
        elif kind == TANH:
            for m in range(o.shape[0]):
                o[m] = g[m] * (one - v[m] * v[m])
        else:
            for m in range(o.shape[0]):
                o[m] = g[m] * ((one - v[m]) * v[m])
        for m in range(o.shape[0]):
            row_sums[m] += o[m]


@njit(nogil=True, cache=True, boundscheck=False)
def softmax_rows(x, out):
    """out[r] = e^(x[r] - m) / sum_j e^(x[r, j] - m), m = max_j x[r, j] (NaNs skipped), for the rows of x and out
    (R, n), in one call: NumPy's five passes (max, subtract, exp, sum, divide) cost a microsecond each on a
    classifier's ten values. The sum is accumulated in float64; a NaN or an infinity in a row gives a row of NaN,
    as the shifted NumPy formula does."""
    length = x.shape[1]
    for r in range(x.shape[0]):
        top = x[r, 0]
        for j in range(1, length):
            if x[r, j] > top:
                top = x[r, j]
        total = 0.0
        for j in range(length):
            out[r, j] = np.exp(x[r, j] - top)
            total += out[r, j]
        for j in range(length):
            out[r, j] = out[r, j] / total
