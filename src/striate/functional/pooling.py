"""Pooling: max and average over sliding windows, and their global forms.

Pooling is the convolution's sliding window reduced by max or mean instead of a dot product with a kernel:
    max_pool: y[n, o, c] = max over window cells w of x_pad[n, o*s + w, c]
Padding follows Keras: "valid" (no padding) or "same" (out = ceil(n / s)); "same" max pooling pads with
-inf, and "same" average pooling leaves padded cells out of the average (it divides by the real cells).
The windows are reduced by the pooling primitives of `striate.ops.pooling` (compiled loops).
"""

import functools

import numpy as np

from striate.algorithms.windows import window_view
from striate.core.tensor import as_tensor
from striate.functional.arguments import check_input_rank, check_numeric, check_window_fits, padding_pairs, per_axis
from striate.ops import pad
from striate.ops.pooling import average_pool, max_pool


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Max over windows of x (N, W, C). See `max_pool2d`."""
    return _pool("max_pool1d", 1, "max", x, pool_size, strides, padding)


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Max over each pool_size window of x (N, H, W, C), channel by channel.

    Args:
        pool_size: int or (ph, pw).
        strides: int, (sh, sw), or None for strides = pool_size (non-overlapping windows).
        padding: "valid" or "same".
    Shape: (N, H, W, C) -> (N, floor((H - ph) / sh) + 1, floor((W - pw) / sw) + 1, C) for "valid";
        ceil(H / sh) x ceil(W / sw) for "same".
    The gradient goes to the maximum of each window (to the first in row-major order if several cells tie, as
    PyTorch and TensorFlow).
    """
    return _pool("max_pool2d", 2, "max", x, pool_size, strides, padding)


def max_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Max over windows of x (N, D, H, W, C). See `max_pool2d`."""
    return _pool("max_pool3d", 3, "max", x, pool_size, strides, padding)


def avg_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Mean over windows of x (N, W, C). See `avg_pool2d`."""
    return _pool("avg_pool1d", 1, "avg", x, pool_size, strides, padding)


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Mean over each pool_size window of x (N, H, W, C); shapes and arguments as `max_pool2d`.

    With padding "same" a window that hangs over the edge averages only its real cells (Keras).
    """
    return _pool("avg_pool2d", 2, "avg", x, pool_size, strides, padding)


def avg_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Mean over windows of x (N, D, H, W, C). See `avg_pool2d`."""
    return _pool("avg_pool3d", 3, "avg", x, pool_size, strides, padding)


def _pool(op, rank, reduction, x, pool_size, strides, padding):
    check_numeric(op, "input", x)
    x = as_tensor(x)
    check_input_rank(op, x.shape, rank)
    pool_size = per_axis(op, "pool_size", pool_size, rank)
    strides = pool_size if strides is None else per_axis(op, "strides", strides, rank)
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same' (as Keras); received {padding!r}")
    no_dilation = (1,) * rank
    spatial = x.shape[1:-1]
    pads = padding_pairs(op, padding, spatial, pool_size, strides, no_dilation)
    check_window_fits(op, spatial, pool_size, strides, no_dilation, pads, what="pool window")
    pad_width = ((0, 0), *pads, (0, 0))

    if reduction == "max":
        return max_pool(pad(x, pad_width, constant_value=-np.inf), pool_size, strides)
    scale = _average_scale(spatial, pool_size, strides, pads, np.dtype(x.dtype))
    return average_pool(pad(x, pad_width), pool_size, strides, scale=scale)


@functools.lru_cache(maxsize=64)
def _average_scale(spatial, pool_size, strides, pads, dtype):
    """1 / (the real cells in each window), per output position; read-only, computed once per geometry."""
    rank = len(spatial)
    real_cells = np.pad(np.ones((1, *spatial, 1), dtype), ((0, 0), *pads, (0, 0)))
    window_axes = tuple(range(1 + rank, 1 + 2 * rank))
    counts = window_view(real_cells, pool_size, strides, (1,) * rank).sum(axis=window_axes)
    scale = 1 / counts[0, ..., 0]
    scale.flags.writeable = False
    return scale


def global_avg_pool(x):
    """Mean over all spatial axes: (N, *spatial, C) -> (N, C)."""
    x = _checked_global_input("global_avg_pool", x)
    return x.mean(axis=tuple(range(1, x.ndim - 1)))


def global_max_pool(x):
    """Max over all spatial axes: (N, *spatial, C) -> (N, C)."""
    x = _checked_global_input("global_max_pool", x)
    return x.max(axis=tuple(range(1, x.ndim - 1)))


def _checked_global_input(op, x):
    check_numeric(op, "input", x)
    x = as_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"{op}: expects (N, *spatial, C) with at least one spatial axis; received shape {x.shape}")
    return x
