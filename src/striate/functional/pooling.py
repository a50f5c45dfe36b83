"""Pooling: max and average over sliding windows, and their global forms.

Pooling is the convolution's sliding window reduced by max or mean instead of a dot product with a kernel:
    max_pool: y[n, o, c] = max over window cells w of x_pad[n, o*s + w, c]
Padding follows Keras: "valid" (no padding) or "same" (out = ceil(n / s)); "same" max pooling pads with
-inf, and "same" average pooling leaves padded cells out of the average (it divides by the real cells).
The windows are reduced by the pooling primitives of `striate.ops.pooling` (compiled loops).
"""

import functools
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.algorithms.windows import window_view
from striate.core.tensor import Tensor, as_tensor
from striate.core.types import IntOrTuple, Shape
from striate.functional.arguments import (
    check_input_rank,
    check_numeric,
    check_window_fits,
    is_plain,
    padding_pairs,
    per_axis,
)
from striate.ops import pad
from striate.ops.pooling import average_pool, max_pool

PoolPadding = Literal["valid", "same"]


def max_pool1d(x: ArrayLike, pool_size: IntOrTuple = 2, strides: IntOrTuple | None = None,
               padding: PoolPadding = "valid") -> Tensor:
    """Max over windows of x (N, W, C). See `max_pool2d`."""
    return _pool("max_pool1d", 1, "max", x, pool_size, strides, padding)


def max_pool2d(x: ArrayLike, pool_size: IntOrTuple = 2, strides: IntOrTuple | None = None,
               padding: PoolPadding = "valid") -> Tensor:
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


def max_pool3d(x: ArrayLike, pool_size: IntOrTuple = 2, strides: IntOrTuple | None = None,
               padding: PoolPadding = "valid") -> Tensor:
    """Max over windows of x (N, D, H, W, C). See `max_pool2d`."""
    return _pool("max_pool3d", 3, "max", x, pool_size, strides, padding)


def avg_pool1d(x: ArrayLike, pool_size: IntOrTuple = 2, strides: IntOrTuple | None = None,
               padding: PoolPadding = "valid") -> Tensor:
    """Mean over windows of x (N, W, C). See `avg_pool2d`."""
    return _pool("avg_pool1d", 1, "avg", x, pool_size, strides, padding)


def avg_pool2d(x: ArrayLike, pool_size: IntOrTuple = 2, strides: IntOrTuple | None = None,
               padding: PoolPadding = "valid") -> Tensor:
    """Mean over each pool_size window of x (N, H, W, C); shapes and arguments as `max_pool2d`.

    With padding "same" a window that hangs over the edge averages only its real cells (Keras).
    """
    return _pool("avg_pool2d", 2, "avg", x, pool_size, strides, padding)


def avg_pool3d(x: ArrayLike, pool_size: IntOrTuple = 2, strides: IntOrTuple | None = None,
               padding: PoolPadding = "valid") -> Tensor:
    """Mean over windows of x (N, D, H, W, C). See `avg_pool2d`."""
    return _pool("avg_pool3d", 3, "avg", x, pool_size, strides, padding)


def _pool(op: str, rank: int, reduction: Literal["max", "avg"], x: ArrayLike, pool_size: IntOrTuple,
          strides: IntOrTuple | None, padding: str) -> Tensor:
    check_numeric(op, "input", x)
    x = as_tensor(x)
    geometry = (op, rank, x.shape, pool_size, strides, padding)
    if is_plain((pool_size, strides, padding)):
        window, steps, pads = _remembered_pool_geometry(*geometry)
    else:
        window, steps, pads = _pool_geometry(*geometry)
    padded = any(before or after for before, after in pads)
    pad_width = ((0, 0), *pads, (0, 0))

    if reduction == "max":
        return max_pool(pad(x, pad_width, constant_value=-np.inf) if padded else x, window, steps)
    scale = _average_scale(x.shape[1:-1], window, steps, pads, np.dtype(x.dtype))
    return average_pool(pad(x, pad_width) if padded else x, window, steps, scale=scale)


def _pool_geometry(op: str, rank: int, input_shape: Shape, pool_size: IntOrTuple, strides: IntOrTuple | None,
                   padding: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(window, strides, (before, after) padding per spatial axis) of a pooling of an input of `input_shape`, after
    checking every argument (raising, naming `op`, for the first that fails)."""
    check_input_rank(op, input_shape, rank)
    window = per_axis(op, "pool_size", pool_size, rank)
    steps = window if strides is None else per_axis(op, "strides", strides, rank)
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same' (as Keras); received {padding!r}")
    no_dilation = (1,) * rank
    spatial = input_shape[1:-1]
    pads = padding_pairs(op, padding, spatial, window, steps, no_dilation)
    check_window_fits(op, spatial, window, steps, no_dilation, pads, what="pool window")
    return window, steps, pads


# a layer pools with the same arguments at every call: their checked geometry is kept, as the convolution's
_remembered_pool_geometry = functools.lru_cache(maxsize=1024)(_pool_geometry)


@functools.lru_cache(maxsize=64)
def _average_scale(spatial: tuple[int, ...], pool_size: tuple[int, ...], strides: tuple[int, ...],
                   pads: tuple[tuple[int, int], ...], dtype: np.dtype) -> NDArray[np.floating]:
    """1 / (the real cells in each window), per output position; read-only, computed once per geometry."""
    rank = len(spatial)
    real_cells = np.pad(np.ones((1, *spatial, 1), dtype), ((0, 0), *pads, (0, 0)))
    window_axes = tuple(range(1 + rank, 1 + 2 * rank))
    counts = window_view(real_cells, pool_size, strides, (1,) * rank).sum(axis=window_axes)
    scale = 1 / counts[0, ..., 0]
    scale.flags.writeable = False
    return scale


def global_avg_pool(x: ArrayLike) -> Tensor:
    """Mean over all spatial axes: (N, *spatial, C) -> (N, C)."""
    x = _checked_global_input("global_avg_pool", x)
    return x.mean(axis=tuple(range(1, x.ndim - 1)))


def global_max_pool(x: ArrayLike) -> Tensor:
    """Max over all spatial axes: (N, *spatial, C) -> (N, C)."""
    x = _checked_global_input("global_max_pool", x)
    return x.max(axis=tuple(range(1, x.ndim - 1)))


def _checked_global_input(op: str, x: ArrayLike) -> Tensor:
    check_numeric(op, "input", x)
    x = as_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"{op}: expects (N, *spatial, C) with at least one spatial axis; received shape {x.shape}")
    return x
