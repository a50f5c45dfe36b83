"""striate.data: mini-batches and on-the-fly augmentation of channels-last (N, H, W, C) image batches."""

from striate.data.augmentation import (
    Augmentation,
    random_crop,
    random_flip,
    random_rotation,
    random_shift,
    rotate,
    shift,
)
from striate.data.batches import iterate_batches

__all__ = [
    "Augmentation",
    "iterate_batches",
    "random_crop",
    "random_flip",
    "random_rotation",
    "random_shift",
    "rotate",
    "shift",
]
