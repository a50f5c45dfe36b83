"""Batch normalization as one primitive op (Ioffe & Szegedy 2015), optionally with the relu after it.

On x seen as rows (M, C), M = every position of every image, C the channels (the last axis):

    forward     y = act(x * scale + shift),   scale = gamma / sqrt(var + eps),   shift = beta - mean * scale
    backward    dz = dy * act'(y)                                  (relu: 1 where y > 0, else 0; y recomputed
                                                                    from x, so backward reads x and dy only)
                dgamma = sum_M dz * xhat,   dbeta = sum_M dz,        xhat = (x - mean) / sqrt(var + eps)
                dx = scale * (dz - dbeta / M - xhat * dgamma / M)    with the batch's own statistics (training)
                dx = scale * dz                                      with fixed statistics (inference)

The first dx is the derivative through the batch mean and variance as well (they are functions of x); the
second treats them as constants. `batch_moments` computes the batch's mean and (biased) variance in one pass,
the sums shifted by the first row (so that a channel with a large mean loses no precision) and added in float64.

The per-channel sums (the moments, and dz and dz * xhat in the backward) add SUM_ROWS = 8 rows at a time in x's
dtype, then each block's sums into the float64 totals. A channel loop that loads and stores its float64 totals at
every row runs at 3 G values/s; one thread, the loops alone on ResNet-20's first-stage rows (65,536 x 16,
float32), totals at every row -> blocks of 8 rows: the moments 312 -> 135 us, the gradient sums with relu 469 ->
236 us (4,096 x 64: 58 -> 37, 82 -> 72). Within a block the sums run channel by channel over its 8 rows, or, for
rows of WIDE_ROWS channels or more, row by row over the channels (each row read in order, the block's sums in an
array of C values): the same additions in the same order, so the same bits. Channel by channel, the 8 rows' cache
lines are visited column by column, which the prefetcher follows poorly once x is out of the cache; row by row, the
loop over few channels runs mostly in its scalar remainder. One thread, x and dy just evicted from the caches,
gradient sums with relu, channel by channel / row by row, us: 65,536 x 16 332 / 615, 16,384 x 32 207 / 232,
65,536 x 48 1332 / 1149, 65,536 x 64 3110 / 1468, 16,384 x 96 1424 / 624, 16,384 x 128 2467 / 965, 4,096 x 256
1062 / 568 (the moments: 153 / 325, 88 / 120, 594 / 599, 790 / 704, 529 / 291, 1063 / 496, 445 / 271). The
gradient sums compile once with relu and once without, and read dy
before relu's test: the test then selects between two values, where a branch in the scalar code for the channels
past the last whole vector mispredicts (16,384 rows, interleaved in one process, branch -> select: 12 channels
1476 -> 260 us, 36: 546 -> 147, 60: 656 -> 246, 84: 785 -> 356; 48 and 72, whole vectors, the same). A float32
block of 8 values adds one rounding of 2^-24 of its size; the variance of 2^18 rows stays within 1e-6 of
float64's (float32 totals: 2e-4).

Each pass reads x once: forward one pass, backward two (the sums, then dx), where the composition of NumPy ops
(subtract, square, mean, divide, multiply, add and their gradients) takes about twenty. The passes run over
chunks of images on striate's threads (`striate.ops.chunked`: the sums are added chunk by chunk in the same order
on 1 thread or 16).
"""

import numpy as np
from numba import njit

from striate.core.function import Function
from striate.ops.chunked import each_chunk, rows

ACTIVATIONS = (None, "relu")
SUM_ROWS = 8  # rows a per-channel sum adds in x's dtype before its float64 total takes them (see the docstring)
WIDE_ROWS = 48  # channels from which the per-channel sums run row by row within a block (see the docstring)


class BatchNorm(Function):
    """y = act(gamma * (x - mean) / sqrt(variance + epsilon) + beta) over the last axis of x.

    batch_statistics: mean and variance are x's own (training), so the gradient flows through them too; else
    they are constants (the moving statistics).
    """

    def forward(self, x, gamma, beta, *, mean, variance, epsilon, batch_statistics, activation):
        x = np.ascontiguousarray(x)
        inverse_std = 1.0 / np.sqrt(variance.astype(np.float64) + epsilon)
        scale64 = gamma.astype(np.float64) * inverse_std
        self.scale = scale64.astype(x.dtype)
        self.shift = shift = (beta - mean.astype(np.float64) * scale64).astype(x.dtype)
        self.x, self.gamma, self.activation, self.batch_statistics = x, gamma, activation, batch_statistics
        self.mean, self.inverse_std = mean.astype(x.dtype), inverse_std.astype(x.dtype)
        y = np.empty(x.shape, dtype=x.dtype)
        rows_x, rows_y = rows(x), rows(y)
        relu = activation == "relu"
        each_chunk(x, lambda part: _scale_shift(rows_x[part], self.scale, shift, relu, rows_y[part]))
        return y

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.x.dtype)
        rows_x, rows_grad = rows(self.x), rows(grad)
        relu = self.activation == "relu"
        sums = each_chunk(self.x, lambda part: gradient_sums(rows_x[part], rows_grad[part], relu, self.scale,
                                                                self.shift, self.mean, self.inverse_std))
        sum_dz = sum(s[0] for s in sums)
        sum_dz_xhat = sum(s[1] for s in sums)
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = np.empty(self.x.shape, dtype=self.x.dtype)
            rows_out = rows(grad_x)
            count = rows_x.shape[0]
            dtype = self.x.dtype
            if self.batch_statistics:
                mean_dz, mean_dz_xhat = (sum_dz / count).astype(dtype), (sum_dz_xhat / count).astype(dtype)
            else:
                mean_dz = mean_dz_xhat = np.zeros_like(self.scale)
            each_chunk(self.x, lambda part: _input_gradient(rows_x[part], rows_grad[part], relu, self.scale,
                                                             self.shift, self.mean, self.inverse_std, mean_dz,
                                                             mean_dz_xhat, rows_out[part]))
        dtype = self.gamma.dtype
        return grad_x, sum_dz_xhat.astype(dtype), sum_dz.astype(dtype)


def batch_norm(x, gamma, beta, mean, variance, epsilon, batch_statistics, activation=None):
    """The op on Tensors: gamma, beta Tensors (C,) (constants of ones and zeros where the layer has none), mean and
    variance NumPy arrays (C,); see BatchNorm."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"batch_norm: activation must be one of {ACTIVATIONS}; received {activation!r}")
    return BatchNorm.apply(x, gamma, beta, mean=np.asarray(mean), variance=np.asarray(variance), epsilon=epsilon,
                           batch_statistics=batch_statistics, activation=activation)


def batch_moments(x):
    """(mean, variance) of x (N, ..., C) over every axis but the last, in x's dtype: the biased variance, as
    batch normalization uses. One pass, the sums shifted by x's first row and added in float64."""
    x = np.ascontiguousarray(x)
    rows_x = rows(x)
    reference = rows_x[0].astype(np.float64)
    sums = each_chunk(x, lambda part: shifted_sums(rows_x[part], reference))
    total = sum(s[0] for s in sums)
    squares = sum(s[1] for s in sums)
    count = rows_x.shape[0]
    shifted_mean = total / count
    variance = np.maximum(squares / count - shifted_mean * shifted_mean, 0.0)
    return (reference + shifted_mean).astype(x.dtype), variance.astype(x.dtype)


@njit(nogil=True, cache=True, boundscheck=False)
def _scale_shift(x, scale, shift, relu, out):
    """out = x * scale + shift per channel (rows (R, C)), then max(., 0) if relu (NaN giving 0)."""
    zero = scale.dtype.type(0)
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            value = x[r, c] * scale[c] + shift[c]
            out[r, c] = value if (not relu or value > zero) else zero


@njit(nogil=True, cache=True, boundscheck=False)
def shifted_sums(x, reference):
    """(sum of x - reference, sum of (x - reference)^2) per channel of x (R, C), in float64, SUM_ROWS rows at a
    time (channel by channel, or row by row from WIDE_ROWS channels); reference (C,) holds values of x's dtype (a
    row of x)."""
    total, squares = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    shift = reference.astype(x.dtype)
    if x.shape[1] >= WIDE_ROWS:
        block_total, block_squares = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
        for start in range(0, x.shape[0], SUM_ROWS):
            _add_shifted_sums_row_by_row(x, shift, start, min(start + SUM_ROWS, x.shape[0]), total, squares,
                                         block_total, block_squares)
        return total, squares
    full = x.shape[0] - x.shape[0] % SUM_ROWS
    for start in range(0, full, SUM_ROWS):
        _add_shifted_sums(x, shift, start, start + SUM_ROWS, total, squares)
    _add_shifted_sums(x, shift, full, x.shape[0], total, squares)
    return total, squares


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _add_shifted_sums(x, shift, start, stop, total, squares):
    """total, squares += the per-channel sums of x[start:stop] - shift and of its square, added in x's dtype,
    channel by channel."""
    for c in range(x.shape[1]):
        rows_total = rows_squares = x.dtype.type(0)
        for r in range(start, stop):
            value = x[r, c] - shift[c]
            rows_total += value
            rows_squares += value * value
        total[c] += rows_total
        squares[c] += rows_squares


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _add_shifted_sums_row_by_row(x, shift, start, stop, total, squares, block_total, block_squares):
    """`_add_shifted_sums` row by row: the block's sums in block_total and block_squares (C values of x's dtype)."""
    block_total[:] = 0
    block_squares[:] = 0
    for r in range(start, stop):
        for c in range(x.shape[1]):
            value = x[r, c] - shift[c]
            block_total[c] += value
            block_squares[c] += value * value
    for c in range(x.shape[1]):
        total[c] += block_total[c]
        squares[c] += block_squares[c]


@njit(nogil=True, cache=True, boundscheck=False)
def gradient_sums(x, grad, relu, scale, shift, mean, inverse_std):
    """(sum dz, sum dz * xhat) per channel of (R, C) rows in float64, SUM_ROWS rows at a time (channel by channel,
    or row by row from WIDE_ROWS channels); xhat = (x - mean) * inverse_std, dz = grad, masked where
    y = x * scale + shift <= 0 if relu (the forward's own y, recomputed by the same float operations rather than
    read; scale and shift are read only then)."""
    # relu a constant in each compiled loop, dy read before its test: the test then selects between two values
    # rather than branching, and the channels past the last whole vector (scalar code) do not mispredict
    if relu:
        return _gradient_sums(x, grad, True, scale, shift, mean, inverse_std)
    return _gradient_sums(x, grad, False, scale, shift, mean, inverse_std)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _gradient_sums(x, grad, relu, scale, shift, mean, inverse_std):
    """`gradient_sums`, inlined where relu is a constant."""
    sum_dz, sum_dz_xhat = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    if x.shape[1] >= WIDE_ROWS:
        block_dz, block_dz_xhat = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
        for start in range(0, x.shape[0], SUM_ROWS):
            _add_gradient_sums_row_by_row(x, grad, relu, scale, shift, mean, inverse_std, start,
                                          min(start + SUM_ROWS, x.shape[0]), sum_dz, sum_dz_xhat, block_dz,
                                          block_dz_xhat)
        return sum_dz, sum_dz_xhat
    full = x.shape[0] - x.shape[0] % SUM_ROWS
    for start in range(0, full, SUM_ROWS):
        _add_gradient_sums(x, grad, relu, scale, shift, mean, inverse_std, start, start + SUM_ROWS, sum_dz,
                           sum_dz_xhat)
    _add_gradient_sums(x, grad, relu, scale, shift, mean, inverse_std, full, x.shape[0], sum_dz, sum_dz_xhat)
    return sum_dz, sum_dz_xhat


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _add_gradient_sums(x, grad, relu, scale, shift, mean, inverse_std, start, stop, sum_dz, sum_dz_xhat):
    """sum_dz, sum_dz_xhat += the per-channel sums of dz and dz * xhat over rows start..stop, added in x's dtype."""
    zero = mean.dtype.type(0)
    for c in range(x.shape[1]):
        rows_dz = rows_dz_xhat = zero
        for r in range(start, stop):
            dy = grad[r, c]  # read before the test (`gradient_sums`)
            dz = dy if (not relu or x[r, c] * scale[c] + shift[c] > zero) else zero
            rows_dz += dz
            rows_dz_xhat += dz * ((x[r, c] - mean[c]) * inverse_std[c])
        sum_dz[c] += rows_dz
        sum_dz_xhat[c] += rows_dz_xhat


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _add_gradient_sums_row_by_row(x, grad, relu, scale, shift, mean, inverse_std, start, stop, sum_dz, sum_dz_xhat,
                                  block_dz, block_dz_xhat):
    """`_add_gradient_sums` row by row: the block's sums in block_dz and block_dz_xhat (C values of x's dtype)."""
    zero = mean.dtype.type(0)
    block_dz[:] = zero
    block_dz_xhat[:] = zero
    for r in range(start, stop):
        for c in range(x.shape[1]):
            dy = grad[r, c]  # read before the test (`gradient_sums`)
            dz = dy if (not relu or x[r, c] * scale[c] + shift[c] > zero) else zero
            block_dz[c] += dz
            block_dz_xhat[c] += dz * ((x[r, c] - mean[c]) * inverse_std[c])
    for c in range(x.shape[1]):
        sum_dz[c] += block_dz[c]
        sum_dz_xhat[c] += block_dz_xhat[c]


@njit(nogil=True, cache=True, boundscheck=False)
def _input_gradient(x, grad, relu, scale, shift, mean, inverse_std, mean_dz, mean_dz_xhat, out):
    """out = scale * (dz - mean_dz - xhat * mean_dz_xhat) per channel, dz as in `_gradient_sums`."""
    zero = mean.dtype.type(0)
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            dy = grad[r, c]  # read before the test, as in `_add_gradient_sums`
            dz = dy if (not relu or x[r, c] * scale[c] + shift[c] > zero) else zero
            xhat = (x[r, c] - mean[c]) * inverse_std[c]
            out[r, c] = scale[c] * (dz - mean_dz[c] - xhat * mean_dz_xhat[c])
