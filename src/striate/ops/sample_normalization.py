"""Normalization within each sample as one op: blocks of x standardized by their own mean and variance, then
scaled and shifted per channel.

x is seen as (N, P, G, K): N samples, P positions, G groups of K channels; gamma and beta hold G * K values each
(read in this order, whatever their shape). Each block x[n, :, g, :] (P * K values) is standardized by its own mean
and biased variance:

    forward     xhat = (x - mean) * inverse_std,     inverse_std = 1 / sqrt(var + epsilon)
                y = xhat * gamma + beta
    backward    dgamma = sum over n, p of dy * xhat,     dbeta = sum over n, p of dy
                dz = dy * gamma
                dx = inverse_std * (dz - mean(dz) - xhat * mean(dz * xhat))          the means over the block

Group normalization (Wu & He 2018) is x (N, *spatial, C) as (N, positions, groups, C / groups); layer
normalization over the trailing axes is (N * the other positions, 1, 1, features). dx is the derivative through
the block's mean and variance too (they are functions of x), as in batch normalization.

The forward reads x twice (the sums about each channel's first value, then y) and keeps x with each block's mean
and inverse_std, not xhat (an activation-sized array less to write and to hold); the backward reads dy and x
twice, xhat computed again from them as the forward computed it (the GroupNormalization(8) layer's training step
on 32 x 16x16 x 64, interleaved in one process after pauses, one thread: 1.34, 1.16 and 1.01 ms with xhat kept,
1.17, 0.98 and 0.74 recomputed); the sums are added in float64 (blocks of rows in x's dtype first, as batch
normalization's: `normalization.shifted_sums`, `gradient_sums`). Blocks spread over positions (group
normalization) are summed channel by channel along each position's row of C values (a vector loop), then per
group; a block that is one row (layer normalization) is summed along its row (`_normalize_rows`), where
per-channel sums would cost as much again. On 32 x 16x16 x 64, one thread, forward and backward
(`bench/layer_families.py`, docs/benchmarks.md): eight groups 1.35 ms (PyTorch's group_norm 1.09 NCHW, 1.79
channels-last), layer normalization over the channels 1.21 ms (PyTorch's layer_norm 1.55 on channels-last data);
NumPy's composition of mean, subtract, square, sqrt, divide, scale, shift and their gradients took 14.5 and 7.3 ms.
The samples run in chunks on striate's threads (`batch_chunks`, `split_batch`); the
per-channel sums of the chunks are added in chunk order.
"""

import math

import numpy as np
from numba import njit

from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order
from striate.core.function import Function
from striate.ops.normalization import gradient_sums, shifted_sums


class NormalizeGroups(Function):
    def forward(self, x, gamma, beta, epsilon):
        x = np.ascontiguousarray(x)
        self.groups, self.gamma_shape, self.beta_shape = x.shape[2], gamma.shape, beta.shape
        self.gamma = np.ascontiguousarray(gamma, dtype=x.dtype).reshape(-1)
        shift = np.ascontiguousarray(beta, dtype=x.dtype).reshape(-1)
        self.x, y = x, np.empty_like(x)
        self.mean, self.inverse_std = np.empty((x.shape[0], self.groups)), np.empty((x.shape[0], self.groups))
        rows_x, rows_y = _rows(x), _rows(y)
        self.one_row = x.shape[1] == 1 and self.groups == 1

        def chunk(n):
            if self.one_row:
                _normalize_rows(rows_x[n, 0], self.gamma, shift, epsilon, rows_y[n, 0], self.mean[n, 0],
                                self.inverse_std[n, 0])
            else:
                _normalize(rows_x[n], self.groups, self.gamma, shift, epsilon, rows_y[n], self.mean[n],
                           self.inverse_std[n])

        _each_chunk(x, chunk)
        return y

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.x.dtype)
        grad_x = np.empty_like(grad)
        rows_grad, rows_x, rows_out = (_rows(a) for a in (grad, self.x, grad_x))

        def chunk(n):
            if self.one_row:
                return _gradient_rows(rows_grad[n, 0], rows_x[n, 0], self.gamma, self.mean[n, 0],
                                      self.inverse_std[n, 0], rows_out[n, 0])
            return _gradient(rows_grad[n], rows_x[n], self.groups, self.gamma, self.mean[n], self.inverse_std[n],
                             rows_out[n])

        sums = _each_chunk(grad, chunk)
        dtype = self.gamma.dtype
        grad_gamma = sum_in_order([s[0] for s in sums]).astype(dtype).reshape(self.gamma_shape)
        grad_beta = sum_in_order([s[1] for s in sums]).astype(dtype).reshape(self.beta_shape)
        return grad_x, grad_gamma, grad_beta


def normalize_groups(x, gamma, beta, epsilon):
    """gamma * (x - mean) / sqrt(var + epsilon) + beta over each block x[n, :, g, :] of x (N, P, G, K), gamma and
    beta G * K values each (any shape, read in order); see NormalizeGroups."""
    return NormalizeGroups.apply(x, gamma, beta, epsilon=float(epsilon))


def _rows(array):
    """(N, P, G, K) as (N, P, C): each position's channels one row."""
    return array.reshape(array.shape[0], array.shape[1], -1)


def _each_chunk(x, function):
    """[function(samples) for each chunk of x's samples], shared by striate's threads, in chunk order."""
    return split_batch(function, batch_chunks(x.shape[0], x[:1].nbytes), work=x.size)


@njit(nogil=True, cache=True, boundscheck=False, fastmath={"reassoc"})
def _normalize(x, groups, gamma, beta, epsilon, y, mean, inverse_std):
    """y of the blocks of x (n, P, C), C = G * K channels; gamma, beta (C,); each block's mean and inverse_std (n, G)
    written too.

    One pass sums, per channel along each position's row of C values (`normalization.shifted_sums`, batch
    normalization's), d = x - r and d^2 about r, the channel's value at the first position (so a large mean loses
    no precision); then per group of channels,
    with m the block's mean, sum (x - m)^2 = sum over its channels of S2 + 2 (r - m) S1 + P (r - m)^2."""
    positions, channels = x.shape[1], x.shape[2]
    width = channels // groups
    count = positions * width
    channel_mean = np.empty(channels, dtype=x.dtype)
    channel_scale = np.empty(channels, dtype=x.dtype)
    for n in range(x.shape[0]):
        reference = x[n, 0].astype(np.float64)
        shifted, squares = shifted_sums(x[n], reference)
        for g in range(groups):
            total = 0.0
            for c in range(g * width, (g + 1) * width):
                total += reference[c] * positions + shifted[c]
            block_mean = total / count
            block_squares = 0.0
            for c in range(g * width, (g + 1) * width):
                offset = reference[c] - block_mean
                block_squares += squares[c] + 2.0 * offset * shifted[c] + positions * offset * offset
            mean[n, g] = block_mean
            inverse_std[n, g] = 1.0 / math.sqrt(max(block_squares, 0.0) / count + epsilon)
        _per_channel(mean[n], inverse_std[n], width, channel_mean, channel_scale)
        for p in range(positions):
            for c in range(channels):
                y[n, p, c] = (x[n, p, c] - channel_mean[c]) * channel_scale[c] * gamma[c] + beta[c]


@njit(nogil=True, cache=True, inline="always")
def _per_channel(mean, inverse_std, width, channel_mean, channel_scale):
    """Each group's mean and inverse_std (G,) repeated over its `width` channels, in the data's dtype: xhat of
    channel c is (x - channel_mean[c]) * channel_scale[c], the same values in the forward and the backward."""
    for g in range(mean.shape[0]):
        for c in range(g * width, (g + 1) * width):
            channel_mean[c] = mean[g]
            channel_scale[c] = inverse_std[g]


@njit(nogil=True, cache=True, boundscheck=False, fastmath={"reassoc"})
def _gradient(grad, x, groups, gamma, mean, inverse_std, out):
    """out = dx of the blocks of (n, P, C), C = G * K, xhat computed from x and each block's mean and inverse_std
    (n, G) as `_normalize` computed it; returns (dgamma, dbeta) of these samples, (C,) in float64."""
    positions, channels = grad.shape[1], grad.shape[2]
    width = channels // groups
    count = positions * width
    grad_gamma = np.zeros(channels)
    grad_beta = np.zeros(channels)
    channel_mean = np.empty(channels, dtype=grad.dtype)
    channel_scale = np.empty(channels, dtype=grad.dtype)
    mean_dz = np.empty(channels, dtype=grad.dtype)
    mean_dz_xhat = np.empty(channels, dtype=grad.dtype)
    for n in range(grad.shape[0]):
        _per_channel(mean[n], inverse_std[n], width, channel_mean, channel_scale)
        sum_dy, sum_dy_xhat = gradient_sums(x[n], grad[n], False, channel_scale, channel_mean, channel_mean,
                                            channel_scale)
        grad_beta += sum_dy
        grad_gamma += sum_dy_xhat
        for g in range(groups):  # dz = dy * gamma: its sums are gamma times dy's, channel by channel
            total_dz = total_dz_xhat = 0.0
            for c in range(g * width, (g + 1) * width):
                total_dz += sum_dy[c] * gamma[c]
                total_dz_xhat += sum_dy_xhat[c] * gamma[c]
            for c in range(g * width, (g + 1) * width):
                mean_dz[c], mean_dz_xhat[c] = total_dz / count, total_dz_xhat / count
        for p in range(positions):
            for c in range(channels):
                dz = grad[n, p, c] * gamma[c]
                normalized = (x[n, p, c] - channel_mean[c]) * channel_scale[c]
                out[n, p, c] = channel_scale[c] * (dz - mean_dz[c] - normalized * mean_dz_xhat[c])
    return grad_gamma, grad_beta


@njit(nogil=True, cache=True, boundscheck=False, fastmath={"reassoc"})
def _normalize_rows(x, gamma, beta, epsilon, y, mean, inverse_std):
    """`_normalize` where each block is one row of x (R, F) (layer normalization): its sums are two reductions
    along the row, without the per-channel sums, which would cost as much again on rows this short."""
    width = x.shape[1]
    for r in range(x.shape[0]):
        total = 0.0
        for c in range(width):
            total += x[r, c]
        mean[r] = total / width
        squares = 0.0
        for c in range(width):
            centered = x[r, c] - mean[r]
            squares += centered * centered
        inverse_std[r] = 1.0 / math.sqrt(squares / width + epsilon)
        center, scale = x.dtype.type(mean[r]), x.dtype.type(inverse_std[r])
        for c in range(width):
            y[r, c] = (x[r, c] - center) * scale * gamma[c] + beta[c]


@njit(nogil=True, cache=True, boundscheck=False, fastmath={"reassoc"})
def _gradient_rows(grad, x, gamma, mean, inverse_std, out):
    """`_gradient` where each block is one row of grad (R, F)."""
    width = grad.shape[1]
    grad_gamma = np.zeros(width)
    grad_beta = np.zeros(width)
    for r in range(grad.shape[0]):
        center, scale = x.dtype.type(mean[r]), x.dtype.type(inverse_std[r])
        total_dz = total_dz_xhat = 0.0
        for c in range(width):
            dy, normalized = grad[r, c], (x[r, c] - center) * scale
            dz = dy * gamma[c]
            total_dz += dz
            total_dz_xhat += dz * normalized
            grad_gamma[c] += dy * normalized
            grad_beta[c] += dy
        shift, slope = grad.dtype.type(total_dz / width), grad.dtype.type(total_dz_xhat / width)
        for c in range(width):
            out[r, c] = scale * (grad[r, c] * gamma[c] - shift - (x[r, c] - center) * scale * slope)
    return grad_gamma, grad_beta
