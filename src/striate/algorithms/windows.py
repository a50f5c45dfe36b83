"""The sliding window, shared by convolution and pooling.

`window_view` looks at a channels-last array through every position of a (dilated, strided) window
without copying: (N, *spatial, C) -> (N, *out, *window, C). Convolution is these windows times the kernel,
summed; pooling is the same windows reduced by max or mean.

`scatter_windows` is its adjoint (col2im): every window cell is added back into the input cell it was
read from, so a cell seen by several overlapping windows gets the sum of their values. It loops over the
window offsets (9 for a 3x3 window), each step one strided NumPy add over the whole batch; windows that tile
the input (stride = window, as in 2x2 pooling) need no sums, and are put back by one reordering copy.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def windows_output_shape(spatial_shape, window_shape, strides, dilation):
    """Window positions per axis: floor((n - d(k-1) - 1) / s) + 1 (the input is already padded)."""
    return tuple(
        (n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(spatial_shape, window_shape, strides, dilation)
    )


def padded_shape(shape, padding):
    """(N, *spatial, C) with each spatial axis grown by its (before, after) pair of `padding` (None: no padding)."""
    if padding is None:
        return tuple(shape)
    return (shape[0], *(n + before + after for n, (before, after) in zip(shape[1:-1], padding)), shape[-1])


def inside(padding, spatial):
    """The cells of a padded (N, *spatial + padding, C) array that the unpadded one fills: (slice(None), one slice
    per spatial axis, slice(None))."""
    return (slice(None), *(slice(before, before + n) for (before, _), n in zip(padding, spatial)), slice(None))


def zero_padded(x, padding):
    """x (N, *spatial, C) with `padding` zeros around its spatial axes: what np.pad gives, in a third of its time
    on LeNet's input (27 against 75 us)."""
    padded = np.zeros(padded_shape(x.shape, padding), dtype=x.dtype)
    padded[inside(padding, x.shape[1:-1])] = x
    return padded


def window_view(x, window_shape, strides, dilation):
    """Read-only view (N, *out, *window, C) of x (N, *spatial, C); out[i] starts at i * stride."""
    out_shape = windows_output_shape(x.shape[1:-1], window_shape, strides, dilation)
    batch_stride, *spatial_strides, channel_stride = x.strides
    shape = (x.shape[0], *out_shape, *window_shape, x.shape[-1])
    view_strides = (
        batch_stride,
        *(step * s for step, s in zip(spatial_strides, strides)),
        *(step * d for step, d in zip(spatial_strides, dilation)),
        channel_stride,
    )
    return as_strided(x, shape=shape, strides=view_strides, writeable=False)


def scatter_windows(window_values, input_shape, strides, dilation):
    """Adjoint of `window_view`: (N, *out, *window, C) -> (N, *spatial, C), summing overlaps."""
    rank = len(input_shape) - 2
    out_shape = window_values.shape[1 : 1 + rank]
    window_shape = window_values.shape[1 + rank : 1 + 2 * rank]
    if tuple(strides) == tuple(window_shape) and all(d == 1 for d in dilation):
        return _untile(window_values, input_shape)
    result = np.zeros(input_shape, dtype=window_values.dtype)
    every_position = (slice(None),) * (1 + rank)
    for offset in np.ndindex(*window_shape):
        target = tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s) for o, n, s, d in zip(offset, out_shape, strides, dilation)
        )
        result[(slice(None), *target, slice(None))] += window_values[(*every_position, *offset, slice(None))]
    return result


def _untile(window_values, input_shape):
    """`scatter_windows` when the windows tile the input (stride = window, no dilation), as in 2x2 pooling.

    No cell is seen twice, so nothing is summed: (N, *out, *window, C) is reordered to (N, out_0, window_0,
    out_1, window_1, ..., C), which is the tiled input; cells past the last whole window get zeros.
    """
    rank = len(input_shape) - 2
    out_shape = window_values.shape[1 : 1 + rank]
    window_shape = window_values.shape[1 + rank : 1 + 2 * rank]
    interleaved = [0]
    for axis in range(rank):
        interleaved += [1 + axis, 1 + rank + axis]
    tiles = window_values.transpose(*interleaved, 1 + 2 * rank)
    covered = tuple(o * k for o, k in zip(out_shape, window_shape))
    if covered == tuple(input_shape[1:-1]):
        return np.ascontiguousarray(tiles).reshape(input_shape)
    result = np.zeros(input_shape, dtype=window_values.dtype)
    result[(slice(None), *(slice(0, n) for n in covered))] = tiles.reshape(input_shape[0], *covered, input_shape[-1])
    return result


def three_spatial_axes(shape):
    """(N, *spatial, C) with 1 to 3 spatial axes as (N, D, H, W, C), the missing leading axes of length 1.

    The compiled loops (depthwise convolution, pooling) are written once for three spatial axes.
    """
    return (shape[0], *(1,) * (5 - len(shape)), *shape[1:])


def three_per_axis(values, fill=1):
    """Per-axis ints (window, strides, dilation, offsets) of 1 to 3 spatial axes, padded in front with `fill`
    (1, or 0 for offsets) to three."""
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)
