"""`affine_transform`: each image of a batch resampled through its own projective map, as Keras'
keras.ops.image.affine_transform (the random rotation, translation and zoom layers build on it).

A transform is 8 numbers [a0, a1, a2, b0, b1, b2, c0, c1] (Keras' and TensorFlow's convention) mapping each
OUTPUT pixel (x = column, y = row) to the INPUT point it reads:

    k = c0 x + c1 y + 1,     x_in = (a0 x + a1 y + a2) / k,     y_in = (b0 x + b1 y + b2) / k

"bilinear" mixes the 4 pixels around (y_in, x_in) with weights (1 - fy)(1 - fx), (1 - fy) fx, fy (1 - fx),
fy fx; "nearest" reads the pixel at the rounded point. A neighbour outside the image is read per fill_mode:
    "constant"  fill_value                 k k k k | a b c d | k k k k
    "nearest"   the edge pixel             a a a a | a b c d | d d d d
    "reflect"   mirrored about the edge    d c b a | a b c d | d c b a
    "wrap"      wrapped around             a b c d | a b c d | a b c d

The output is a sum of gathered input pixels times constant weights, so it is linear in the images: the
gradient is the matching scatter-add (the getitem op's backward).
"""

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
INTERPOLATIONS = ("nearest", "bilinear")


def _fill_index(index: NDArray[np.int64], length: int, fill_mode: str) -> tuple[NDArray[Any], NDArray[np.bool_]]:
    """(index mapped into [0, length), inside) for integer indices per fill_mode; inside is False where a
    "constant" fill applies."""
    inside = (index >= 0) & (index < length)
    if fill_mode == "nearest" or fill_mode == "constant":
        return np.clip(index, 0, length - 1), inside if fill_mode == "constant" else np.ones_like(inside)
    if fill_mode == "wrap":
        return np.mod(index, length), np.ones_like(inside)
    folded = np.mod(index, 2 * length)  # reflect: period 2n, the second half mirrored
    return np.where(folded >= length, 2 * length - 1 - folded, folded), np.ones_like(inside)


def _sample_points(transforms: NDArray[np.float64], height: int,
                   width: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(y_in, x_in), each (N, height, width), the input point every output pixel reads."""
    rows, columns = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64),
                                indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (transforms[:, i, None, None] for i in range(8))
    k = c0 * columns + c1 * rows + 1.0
    return (b0 * columns + b1 * rows + b2) / k, (a0 * columns + a1 * rows + a2) / k


def affine_transform(images: ArrayLike, transforms: ArrayLike,
                     interpolation: Literal["nearest", "bilinear"] = "bilinear",
                     fill_mode: Literal["constant", "nearest", "reflect", "wrap"] = "constant",
                     fill_value: float = 0.0) -> Tensor:
    """Images (N, H, W, C) resampled through transforms (N, 8) (or one (8,) for all): (N, H, W, C)."""
    op = "affine_transform"
    check_numeric(op, "images", images)
    images = as_tensor(images)
    if images.ndim != 4:
        raise ValueError(f"{op}: expects images (N, H, W, C); received shape {images.shape}")
    transforms = np.asarray(transforms, np.float64)
    if transforms.ndim == 1:
        transforms = np.broadcast_to(transforms, (images.shape[0], *transforms.shape))
    if transforms.shape != (images.shape[0], 8):
        raise ValueError(f"{op}: transforms must be (N, 8) = ({images.shape[0]}, 8) or (8,); received "
                         f"{transforms.shape}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {INTERPOLATIONS}; received {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{op}: fill_mode must be one of {FILL_MODES}; received {fill_mode!r}")
    n, height, width, channels = images.shape
    y_in, x_in = _sample_points(transforms, height, width)
    if interpolation == "nearest":
        corners = [(np.round(y_in), np.round(x_in), np.ones_like(y_in))]
    else:
        y0, x0 = np.floor(y_in), np.floor(x_in)
        fy, fx = y_in - y0, x_in - x0
        corners = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                   (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
    flat = images.reshape(n * height * width, channels)
    batch_offset = (np.arange(n) * height * width)[:, None, None]
    result, filled = None, np.zeros((n, height, width), np.float64)
    for rows, columns, weight in corners:
        rows, inside_rows = _fill_index(rows.astype(np.int64), height, fill_mode)
        columns, inside_columns = _fill_index(columns.astype(np.int64), width, fill_mode)
        inside = inside_rows & inside_columns
        filled += np.where(inside, 0.0, weight)
        weight = np.where(inside, weight, 0.0).astype(images.dtype)[..., None]
        term = flat[batch_offset + rows * width + columns] * weight
        result = term if result is None else result + term
    assert result is not None  # corners holds one or four terms
    if fill_mode == "constant" and fill_value != 0:
        result = result + (fill_value * filled).astype(images.dtype)[..., None]
    return result
