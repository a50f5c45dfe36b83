"""striate.data: mini-batches and on-the-fly augmentation of channels-last (N, H, W, C) image batches, image
folders read batch by batch (`image_dataset_from_directory`), and resizing."""

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
from striate.data.image_folder import ImageDataset, image_dataset_from_directory
from striate.data.resizing import resize

__all__ = [
    "Augmentation",
    "ImageDataset",
    "image_dataset_from_directory",
    "iterate_batches",
    "random_crop",
    "random_flip",
    "random_rotation",
    "random_shift",
    "resize",
    "rotate",
    "shift",
]
