"""Resizing images (N, H, W, C) by "nearest" or "bilinear" interpolation, as Keras 3 (torch backend:
`interpolate` with half-pixel centres, align_corners=False, no antialiasing).

Both interpolations are linear maps along each axis, so a resize is two matrix products, the matrices on the left
(no transposing copy of channels-last data):

    y[n, i, j, c] = sum_h sum_w A_H[i, h] A_W[j, w] x[n, h, w, c]

Row i of A (out x in) reads the source position s = (i + 1/2) * in / out - 1/2:
    "bilinear": weights 1 - f and f at floor(s) and floor(s) + 1 (s clamped at 0, the index at in - 1),
                f = s - floor(s);
    "nearest":  weight 1 at min(floor((i + 1/2) * in / out), in - 1) (torch's "nearest-exact").
The gradient is the transposed map, from the matmul op.
"""

import functools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric
from striate.ops import matmul

INTERPOLATIONS = ("nearest", "bilinear")


@functools.lru_cache(maxsize=64)
def interpolation_matrix(out_length: int, in_length: int, interpolation: str, dtype: np.dtype) -> NDArray[Any]:
    """A (out_length, in_length) read-only matrix mapping an axis of in_length cells to out_length cells."""
    rows = np.arange(out_length)
    matrix = np.zeros((out_length, in_length), np.float64)
    scale = in_length / out_length
    if interpolation == "nearest":
        matrix[rows, np.minimum(np.floor((rows + 0.5) * scale).astype(int), in_length - 1)] = 1.0
    else:
        source = np.maximum((rows + 0.5) * scale - 0.5, 0.0)
        low = np.minimum(np.floor(source).astype(int), in_length - 1)
        high = np.minimum(low + 1, in_length - 1)
        fraction = source - low
        np.add.at(matrix, (rows, low), 1.0 - fraction)
        np.add.at(matrix, (rows, high), fraction)
    matrix = matrix.astype(dtype)
    matrix.flags.writeable = False
    return matrix


def resize(x: ArrayLike, size: Sequence[int], interpolation: Literal["nearest", "bilinear"] = "bilinear") -> Tensor:
    """Images x (N, H, W, C) resized to size = (height, width): (N, height, width, C).

    >>> resize(np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1), (4, 4), "nearest").numpy()[0, :, :, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]], dtype=float32)
    """
    op = "resize"
    check_numeric(op, "input", x)
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expects images (N, H, W, C); received shape {x.shape}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {INTERPOLATIONS}; received {interpolation!r}")
    height, width = (int(s) for s in size)
    if height < 1 or width < 1:
        raise ValueError(f"{op}: size must be two positive ints (height, width); received {size!r}")
    _, in_height, in_width, _ = x.shape
    if in_height < 1 or in_width < 1:
        raise ValueError(f"{op}: cannot resize an empty image; received shape {x.shape}")
    batch, channels = x.shape[0], x.shape[-1]
    rows = interpolation_matrix(height, in_height, interpolation, np.dtype(x.dtype))
    columns = interpolation_matrix(width, in_width, interpolation, np.dtype(x.dtype))
    # the matrices on the left, so that channels-last data needs no transpose (three transposing copies took half
    # the time): along H, rows (height, H) @ each image as (H, W * C); along W, columns (width, W) @ each output
    # row as (W, C)
    y = matmul(rows, x.reshape(batch, in_height, in_width * channels))
    y = matmul(columns, y.reshape(batch * height, in_width, channels))
    return y.reshape(batch, height, width, channels)
