"""Resize channels-last images as `keras.ops.image.resize` (TensorFlow's `tf.image.resize`, antialias off).

Output pixel i of an axis of n_in -> n_out pixels samples the input at its centre, mapped back with half-pixel
centres:

    bilinear   x = (i + 0.5) * n_in / n_out - 0.5, clipped to [0, n_in - 1];
               value = (1 - (x - floor(x))) * in[floor(x)] + (x - floor(x)) * in[min(floor(x) + 1, n_in - 1)]
    nearest    in[min(floor((i + 0.5) * n_in / n_out), n_in - 1)]

which are PyTorch's `interpolate(mode="bilinear", align_corners=False)` and `mode="nearest-exact"`. Rows are
interpolated, then columns (the two passes commute).

crop_to_aspect_ratio first cuts the largest centred window with the target's aspect ratio (Keras'
`smart_resize`); pad_to_aspect_ratio first adds zeros equally on both sides of the short dimension.
"""

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

INTERPOLATIONS = ("bilinear", "nearest")


def resize(images: ArrayLike, size: Sequence[int], interpolation: Literal["bilinear", "nearest"] = "bilinear",
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False) -> NDArray[np.float32]:
    """`images` (H, W, C) or (N, H, W, C) resized to size = (height, width); float32 out.

    Shape: (..., H, W, C) -> (..., height, width, C).
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"resize: expects (H, W, C) or (N, H, W, C) images; received shape {images.shape}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be one of {INTERPOLATIONS}; received {interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    height, width = (int(n) for n in size)
    if height < 1 or width < 1:
        raise ValueError(f"resize: size must be two positive integers; received {tuple(size)}")
    if crop_to_aspect_ratio:
        images = _crop_to_aspect_ratio(images, height, width)
    elif pad_to_aspect_ratio:
        images = _pad_to_aspect_ratio(images, height, width)
    images = images.astype(np.float32, copy=False)
    along = _bilinear if interpolation == "bilinear" else _nearest
    return along(along(images, height, axis=-3), width, axis=-2)


def _bilinear(images: NDArray[np.float32], length: int, axis: int) -> NDArray[np.float32]:
    """Linear interpolation along `axis` to `length` samples at half-pixel centres."""
    size = images.shape[axis]
    position = np.clip((np.arange(length) + 0.5) * (size / length) - 0.5, 0, size - 1)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, size - 1)
    shape = [1] * images.ndim
    shape[axis] = length
    fraction = (position - lower).astype(np.float32).reshape(shape)
    return (1 - fraction) * np.take(images, lower, axis=axis) + fraction * np.take(images, upper, axis=axis)


def _nearest(images: NDArray[np.float32], length: int, axis: int) -> NDArray[np.float32]:
    """The input sample whose cell holds each output centre, along `axis`."""
    size = images.shape[axis]
    index = np.minimum(np.floor((np.arange(length) + 0.5) * (size / length)).astype(np.int64), size - 1)
    return np.take(images, index, axis=axis)


def _crop_to_aspect_ratio(images: NDArray[Any], height: int, width: int) -> NDArray[Any]:
    """The largest centred window with aspect ratio height:width (Keras' smart_resize)."""
    h, w = images.shape[-3], images.shape[-2]
    crop_height = min(h, int(w * height / width))
    crop_width = min(w, int(h * width / height))
    top, left = (h - crop_height) // 2, (w - crop_width) // 2
    return images[..., top : top + crop_height, left : left + crop_width, :]


def _pad_to_aspect_ratio(images: NDArray[Any], height: int, width: int) -> NDArray[Any]:
    """Zeros added equally before and after the short dimension, as keras.ops.image.resize(pad_to_aspect_ratio=True)."""
    h, w = images.shape[-3], images.shape[-2]
    pad_rows = (max(h, int(w * height / width)) - h) // 2
    pad_columns = (max(w, int(h * width / height)) - w) // 2
    padding = [(0, 0)] * images.ndim
    if pad_rows > 0:
        padding[-3] = (pad_rows, pad_rows)
    elif pad_columns > 0:
        padding[-2] = (pad_columns, pad_columns)
    return np.pad(images, padding)
