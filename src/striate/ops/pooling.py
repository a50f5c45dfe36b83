"""Pooling primitives: max and average over (strided) windows of an already padded channels-last input.

    MaxPool:      y = max over each window;     dx: each window's dy goes to the cell that won (the first
                                                maximum, as PyTorch and TensorFlow; a NaN wins and propagates)
    AveragePool:  y = scale * sum over window;  dx: every cell of a window receives scale * dy

`scale` (one value per output position) is 1 / the number of real cells in the window, so that a "same"
window hanging over the edge averages its real cells only (Keras). The loops are in
`striate.ops.pooling_loops`; the batch runs in chunks on striate's threads.
"""

import functools
import math

import numpy as np

from striate.algorithms.chunking import batch_chunks, split_batch
from striate.algorithms.windows import three_per_axis, three_spatial_axes, windows_output_shape
from striate.core.function import Function
from striate.ops import pooling_loops


@functools.lru_cache(maxsize=1024)
def _shapes(input_shape, pool_size, strides):
    """(output shape, input and output shapes with three spatial axes, window and strides of three axes): the
    arithmetic of a pooling case, kept per case (a layer pools the same shapes at every call)."""
    out_shape = windows_output_shape(input_shape[1:-1], pool_size, strides, (1,) * len(pool_size))
    output_shape = (input_shape[0], *out_shape, input_shape[-1])
    return (output_shape, three_spatial_axes(input_shape), three_spatial_axes(output_shape), three_per_axis(pool_size),
            three_per_axis(strides))


def _output(x, pool_size, strides, dtype):
    return np.empty(_shapes(x.shape, pool_size, strides)[0], dtype=dtype)


def _run(loop, batch_arrays, per_image_bytes, work):
    """loop(*[a[chunk] for a in batch_arrays]) on every chunk of the batch, shared by striate's threads (one chunk,
    as a batch-1 inference has, runs on this thread: `split_batch`)."""
    chunks = batch_chunks(batch_arrays[0].shape[0], per_image_bytes)

    def run_chunk(images):
        loop(*(a[images] for a in batch_arrays))

    split_batch(run_chunk, chunks, work)


def _three(array):
    return array.reshape(three_spatial_axes(array.shape))


def _three_rows(array):
    """(n, D, H, W*C): `_three` with each row flattened, as the average loops take it."""
    return array.reshape(*three_spatial_axes(array.shape)[:3], -1)


def _gradient_buffer(input_shape, out_shape, pool_size, strides, dtype):
    """(dx, add) for a backward loop: zeros to add into where windows overlap; where they tile the input
    (stride = window), an uninitialised array whose cells past the last window alone are zeroed, each other cell
    being written once by the loop (add=False)."""
    if tuple(strides) != tuple(pool_size):
        return np.zeros(input_shape, dtype=dtype), True
    grad_input = np.empty(input_shape, dtype=dtype)
    for axis, (n, out, step) in enumerate(zip(input_shape[1:-1], out_shape[1:-1], strides), start=1):
        if out * step < n:
            grad_input[(slice(None),) * axis + (slice(out * step, None),)] = 0
    return grad_input, False


class MaxPool(Function):
    def forward(self, x, pool_size, strides):
        self.input_shape, self.dtype, self.pool = x.shape, x.dtype, (pool_size, strides)
        output_shape, three_input, three_output, window, step = _shapes(x.shape, pool_size, strides)
        self.window, self.strides = window, step
        x = np.ascontiguousarray(x)
        y = np.empty(output_shape, dtype=x.dtype)
        # the winning cell's number in its window (int32: an int8 would halve the speed of the vector selects)
        self.winner = np.empty(output_shape, dtype=np.int32)

        def loop(x_chunk, y_chunk, winner_chunk):
            pooling_loops.max_forward(x_chunk, window, step, y_chunk, winner_chunk)

        _run(loop, (x.reshape(three_input), y.reshape(three_output), self.winner.reshape(three_output)), x[:1].nbytes,
             x.size)
        return y

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.dtype)
        grad_input, add = _gradient_buffer(self.input_shape, grad.shape, *self.pool, self.dtype)
        window, step = self.window, self.strides

        def loop(grad_chunk, winner_chunk, grad_input_chunk):
            pooling_loops.max_backward(grad_chunk, winner_chunk, window, step, grad_input_chunk, add)

        _run(loop, (_three(grad), _three(self.winner), _three(grad_input)), grad_input[:1].nbytes, grad_input.size)
        return (grad_input,)


class AveragePool(Function):
    def forward(self, x, pool_size, strides, scale):
        self.input_shape, self.dtype, self.pool = x.shape, x.dtype, (pool_size, strides)
        self.window, self.strides = three_per_axis(pool_size), three_per_axis(strides)
        self.scale = np.asarray(scale, dtype=x.dtype).reshape(three_spatial_axes((1, *scale.shape, 1))[1:4])
        x = np.ascontiguousarray(x)
        y = _output(x, pool_size, strides, x.dtype)
        window, step, factors, channels = self.window, self.strides, self.scale, x.shape[-1]

        def loop(x_chunk, y_chunk):
            pooling_loops.average_forward(x_chunk, window, step, channels, factors, y_chunk)

        _run(loop, (_three_rows(x), _three_rows(y)), x[:1].nbytes, x.size)
        return y

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.dtype)
        grad_input, add = _gradient_buffer(self.input_shape, grad.shape, *self.pool, self.dtype)
        window, step, factors, channels = self.window, self.strides, self.scale, grad.shape[-1]

        def loop(grad_chunk, grad_input_chunk):
            pooling_loops.average_backward(grad_chunk, window, step, channels, factors, grad_input_chunk, add)

        work = grad.size * math.prod(window)
        _run(loop, (_three_rows(grad), _three_rows(grad_input)), grad_input[:1].nbytes, work)
        return (grad_input,)


def max_pool(x, pool_size, strides):
    """Max over each window of a padded x (N, *spatial, C): (N, *out, C), out = floor((n - k) / s) + 1."""
    return MaxPool.apply(x, pool_size=tuple(pool_size), strides=tuple(strides))


def average_pool(x, pool_size, strides, scale):
    """scale[out position] * sum over each window of a padded x (N, *spatial, C); scale has shape `out`."""
    return AveragePool.apply(x, pool_size=tuple(pool_size), strides=tuple(strides), scale=scale)
