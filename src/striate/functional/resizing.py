"""Resizing images (N, H, W, C) by "nearest" or "bilinear" interpolation, as Keras 3 (torch backend:
`interpolate` with half-pixel centres, align_corners=False, no antialiasing).

Both interpolations are linear maps along each axis: output cell i reads the source position
s = (i + 1/2) * in / out - 1/2, as
    "bilinear": weights 1 - f and f at floor(s) and floor(s) + 1 (s clamped at 0, the index at in - 1),
                f = s - floor(s);
    "nearest":  the cell min(floor((i + 1/2) * in / out), in - 1) (torch's "nearest-exact"), copied.
`interpolation_taps` gives each axis's cells and weights; the `resize` op (`striate.ops.resampling`) sums each
output pixel's 2 x 2 input pixels (nearest: copies one), and its gradient spreads dy back over them.
"""

import functools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric
from striate.ops.resampling import resize as resize_op

INTERPOLATIONS = ("nearest", "bilinear")


@functools.lru_cache(maxsize=64)
def interpolation_taps(out_length: int, in_length: int,
                       interpolation: str) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[Any]]:
    """(low, high, f), each (out_length,), read-only: output cell i of an axis of in_length cells is
    (1 - f[i]) in[low[i]] + f[i] in[high[i]] (nearest: low = high, f = 0)."""
    rows = np.arange(out_length)
    scale = in_length / out_length
    if interpolation == "nearest":
        low = high = np.minimum(np.floor((rows + 0.5) * scale).astype(np.int64), in_length - 1)
        fraction = np.zeros(out_length)
    else:
        source = np.maximum((rows + 0.5) * scale - 0.5, 0.0)
        low = np.minimum(np.floor(source).astype(np.int64), in_length - 1)
        high = np.minimum(low + 1, in_length - 1)
        fraction = source - low
    for array in (low, high, fraction):
        array.flags.writeable = False
    return low, high, fraction


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
    return resize_op(x, interpolation_taps(height, in_height, interpolation),
                     interpolation_taps(width, in_width, interpolation), interpolation == "nearest")
