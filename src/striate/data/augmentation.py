"""On-the-fly augmentation of channels-last image batches.

Every function takes a batch of shape (N, H, W, C) and a ``numpy.random.Generator`` and draws a fresh
transform for each image, so a seeded generator makes the whole pipeline repeatable. Compose them with
:class:`Augmentation`, fixing their settings with ``functools.partial``:

    from functools import partial
    augment = Augmentation([
        partial(random_crop, size=32, padding=4),          # CIFAR-style: pad 4, crop back to 32x32
        partial(random_flip, horizontal=True),
    ])
    x_batch = augment(x_batch, rng)
"""

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

Batch = NDArray[Any]
"""Images (N, H, W, C)."""


class Augmentation:
    """Apply ``steps`` in order; each step is called as ``step(batch, rng=rng)`` and returns a batch.

    Shape: (N, H, W, C) in; out as the last step leaves it ((N, h, w, C) after a crop).
    """

    def __init__(self, steps: Sequence[Callable[..., ArrayLike]]) -> None:
        self.steps = list(steps)

    def __call__(self, batch: ArrayLike, rng: np.random.Generator) -> ArrayLike:
        for step in self.steps:
            batch = step(batch, rng=rng)
        return batch


def shift(batch: ArrayLike, offsets: ArrayLike) -> Batch:
    """Move image ``i`` down by ``offsets[i, 0]`` and right by ``offsets[i, 1]`` pixels, filling with zeros.

    Shape: batch (N, H, W, C), offsets (N, 2) integers (negative moves up / left); output (N, H, W, C).
    """
    batch = _check_batch(batch)
    offsets = np.asarray(offsets)
    if offsets.shape != (len(batch), 2):
        raise ValueError(f"offsets must have shape ({len(batch)}, 2); received {offsets.shape}")
    height, width = batch.shape[1:3]
    # output pixel (r, c) is input pixel (r - dy, c - dx); padding by the largest shift makes every such
    # window a plain slice, with the zeros already in place
    pad = int(np.abs(offsets).max(initial=0))
    padded = np.pad(batch, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.empty_like(batch)
    for i, (dy, dx) in enumerate(offsets):
        top, left = pad - dy, pad - dx
        out[i] = padded[i, top:top + height, left:left + width]
    return out


def random_shift(batch: ArrayLike, max_shift: int, rng: np.random.Generator) -> Batch:
    """Shift each image by whole pixels drawn uniformly from ``[-max_shift, max_shift]`` on each axis.

    Shape: (N, H, W, C) -> (N, H, W, C); vacated pixels are zero.
    """
    batch = _check_batch(batch)
    offsets = rng.integers(-max_shift, max_shift, size=(len(batch), 2), endpoint=True)
    return shift(batch, offsets)


def rotate(batch: ArrayLike, degrees: ArrayLike) -> Batch:
    """Rotate image ``i`` counterclockwise by ``degrees[i]`` about its centre (bilinear, zero fill).

    Uses ``scipy.ndimage.rotate(..., reshape=False, order=1)``, so the frame keeps its size and corners
    rotated out of it are lost. 90 degrees equals ``np.rot90`` on square images.

    Shape: batch (N, H, W, C), degrees (N,); output (N, H, W, C), same dtype.
    """
    batch = _check_batch(batch)
    degrees = np.asarray(degrees, dtype=float)
    if degrees.shape != (len(batch),):
        raise ValueError(f"degrees must have shape ({len(batch)},); received {degrees.shape}")
    out = np.empty_like(batch)
    for image, rotated, angle in zip(batch, out, degrees, strict=True):
        ndimage.rotate(image, angle, axes=(0, 1), reshape=False, order=1, mode="constant", cval=0,
                       output=rotated)
    return out


def random_rotation(batch: ArrayLike, max_degrees: float, rng: np.random.Generator) -> Batch:
    """Rotate each image by an angle drawn uniformly from ``[-max_degrees, max_degrees]``.

    Shape: (N, H, W, C) -> (N, H, W, C); see :func:`rotate`.
    """
    batch = _check_batch(batch)
    return rotate(batch, rng.uniform(-max_degrees, max_degrees, size=len(batch)))


def random_flip(batch: ArrayLike, rng: np.random.Generator, horizontal: bool = True, vertical: bool = False) -> Batch:
    """Mirror each image left-right (if ``horizontal``) and top-bottom (if ``vertical``), each with
    probability 1/2, drawn independently per image and per axis.

    Shape: (N, H, W, C) -> (N, H, W, C).
    """
    batch = _check_batch(batch).copy()
    for enabled, axis in ((horizontal, 2), (vertical, 1)):
        if enabled:
            chosen = rng.random(len(batch)) < 0.5
            batch[chosen] = np.flip(batch[chosen], axis=axis)
    return batch


def random_crop(batch: ArrayLike, size: int | tuple[int, int], rng: np.random.Generator, padding: int = 0) -> Batch:
    """Cut a ``size`` window at a random position from each image, after zero-padding every side.

    AlexNet's training crops are ``random_crop(images_256, 227, rng)``; CIFAR's are
    ``random_crop(images_32, 32, rng, padding=4)``.

    Shape: (N, H, W, C) -> (N, h, w, C) with ``(h, w) = size`` (an int means square);
    needs ``h <= H + 2 * padding`` and ``w <= W + 2 * padding``.
    """
    batch = _check_batch(batch)
    # np.isscalar does not narrow the type for mypy: size is an int here or a pair
    crop_h, crop_w = cast(tuple[int, int], (size, size) if np.isscalar(size) else size)
    if padding:
        batch = np.pad(batch, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    height, width = batch.shape[1:3]
    if not (0 < crop_h <= height and 0 < crop_w <= width):
        raise ValueError(f"crop size must be positive and fit the padded {height}x{width} images; "
                         f"received size={size}, padding={padding}")
    tops = rng.integers(0, height - crop_h, size=len(batch), endpoint=True)
    lefts = rng.integers(0, width - crop_w, size=len(batch), endpoint=True)
    return np.stack([image[top:top + crop_h, left:left + crop_w]
                     for image, top, left in zip(batch, tops, lefts, strict=True)])


def _check_batch(batch: ArrayLike) -> Batch:
    batch = np.asarray(batch)
    if batch.ndim != 4:
        raise ValueError(f"expected a channels-last batch (N, H, W, C); received shape {batch.shape}")
    return batch
