"""A folder of images, one subfolder per class, read from disk batch by batch: Keras 3's
`image_dataset_from_directory`.

    photos/                                   train, validation = image_dataset_from_directory(
        cats/ a.jpg, b.png, ...                   "photos", image_size=(64, 64), validation_split=0.2,
        dogs/ c.jpg, nested/d.bmp, ...            subset="both", seed=0)
                                              model.fit(train, validation_data=validation, epochs=5)

As Keras:
- class names are the subfolders' names, sorted (or `class_names`, a subset in the order given); label i is
  class_names[i]; files are found in every subfolder, recursively, by extension: .bmp .gif .jpeg .jpg .png
  (case-insensitive; a GIF gives its first frame);
- the list of files (sorted) is shuffled once with `seed`, then the last int(validation_split * N) files are the
  validation subset, the others the training subset; without shuffle it stays sorted;
- each image is decoded (Pillow), converted to `color_mode` ("rgb": alpha dropped, a palette expanded, grey
  repeated; "grayscale": luma 0.299 R + 0.587 G + 0.114 B; "rgba") and resized to `image_size` with
  `striate.data.resizing.resize`; pixels are float32 in [0, 255], not scaled (divide by 255, or use
  `striate.applications.preprocess_input`);
- labels: "int" (int32 (N,)), "categorical" (float32 one-hot (N, K)), "binary" (float32 (N, 1), two classes)
  or None (images only).

A dataset holds the file names, never the pixels: each pass reads one batch at a time, so a folder larger than
memory trains. A training dataset that shuffles visits its files in a new order on every pass. A file that
cannot be read (damaged, not an image, gone, or over `striate.images.MAX_PIXELS`) is skipped with a warning
naming it and the count so far, and left out of later passes; `dataset.skipped` maps each such path to the
reason. Batches stay full: the next readable file takes the skipped one's place.
"""

import copy
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from striate import images as image_files
from striate.core.random import generator
from striate.core.types import Path
from striate.data.resizing import INTERPOLATIONS, resize

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
LABEL_MODES = ("int", "categorical", "binary", None)
COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
SUBSETS = ("training", "validation", "both")
NAME = "image_dataset_from_directory"


def image_dataset_from_directory(
        directory: Path, labels: Literal["inferred"] | Sequence[int] | None = "inferred",
        label_mode: Literal["int", "categorical", "binary"] | None = "int", class_names: Sequence[str] | None = None,
        color_mode: Literal["rgb", "grayscale", "rgba"] = "rgb", batch_size: int | None = 32,
        image_size: tuple[int, int] = (256, 256), shuffle: bool = True, seed: int | None = None,
        validation_split: float | None = None, subset: Literal["training", "validation", "both"] | None = None,
        interpolation: Literal["bilinear", "nearest"] = "bilinear", follow_links: bool = False,
        crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
        verbose: bool = True) -> "ImageDataset | list[ImageDataset]":
    """An `ImageDataset` of (images, labels) batches from `directory`, or [training, validation] for subset="both".

    Args (Keras 3's):
        labels: "inferred" (from the subfolders), None (images only), or a list of integer labels, one per
            image file found in `directory`, in sorted path order.
        label_mode: "int", "categorical", "binary" or None.
        class_names: with labels="inferred", the subfolders to use, in this order; default all, sorted.
        color_mode: "rgb", "grayscale" or "rgba" (3, 1 or 4 channels).
        batch_size: images per batch (the last may be smaller); None yields single images.
        image_size: (height, width) every image is resized to.
        shuffle: shuffle the file list with `seed` before splitting, and each pass's order; False keeps them
            sorted. seed None draws one from striate's generator (so `striate.set_random_seed` repeats it).
        validation_split: the fraction (0 < f < 1) of the files held out; needs `subset` and, when shuffling,
            `seed` (so that the training and validation calls split the same way).
        subset: "training", "validation" or "both" (returns both; the validation one in a fixed order).
        interpolation: "bilinear" or "nearest".
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio, pad_to_aspect_ratio: keep the aspect ratio by cropping the centre, or by padding
            with zeros, before resizing.
        verbose: print how many files and classes were found and used.

    Shape: each batch is images (B, height, width, C) float32 in [0, 255] and labels as label_mode.
    """
    _check_arguments(labels, label_mode, class_names, color_mode, batch_size, image_size,
                     validation_split, subset, shuffle, seed, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)
    if labels is None:
        label_mode = None
    file_paths, label_values, class_names = index_directory(directory, labels, class_names, follow_links)
    if verbose:
        print(f"Found {len(file_paths)} files belonging to {len(class_names)} classes." if labels == "inferred"
              else f"Found {len(file_paths)} files.")
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"{NAME}: label_mode='binary' needs exactly 2 classes; received class_names={class_names}")
    if shuffle:
        if seed is None:
            seed = int(generator().integers(1_000_000))
        order = np.random.default_rng(seed).permutation(len(file_paths))
        file_paths = [file_paths[i] for i in order]
        label_values = None if label_values is None else label_values[order]
    encoded = _encode_labels(label_values, label_mode, len(class_names))

    def dataset(indices: NDArray[np.integer[Any]], shuffles: bool) -> ImageDataset:
        return ImageDataset([file_paths[i] for i in indices], None if encoded is None else encoded[indices],
                            class_names if labels == "inferred" else None,
                            Loader(color_mode, tuple(int(n) for n in image_size), interpolation,
                                   crop_to_aspect_ratio, pad_to_aspect_ratio),
                            batch_size, shuffles, seed)

    everything = np.arange(len(file_paths))
    if not validation_split:
        return dataset(everything, shuffle)
    held_out = int(validation_split * len(file_paths))
    if held_out == 0 or held_out == len(file_paths):
        raise ValueError(f"{NAME}: validation_split={validation_split} of {len(file_paths)} files leaves "
                         f"{len(file_paths) - held_out} for training and {held_out} for validation; both need some")
    training, validation = everything[:-held_out], everything[-held_out:]
    if verbose and subset in ("training", "both"):
        print(f"Using {len(training)} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {len(validation)} files for validation.")
    if subset == "training":
        return dataset(training, shuffle)
    if subset == "validation":
        return dataset(validation, shuffle)
    return [dataset(training, shuffle), dataset(validation, False)]


def index_directory(directory: Path, labels: Literal["inferred"] | Sequence[int] | None = "inferred",
                    class_names: Sequence[str] | None = None,
                    follow_links: bool = False) -> tuple[list[str], NDArray[np.int64] | None, list[str]]:
    """(file paths, integer labels (N,) or None, class names) of the image files under `directory`, sorted.

    With labels="inferred" a file's label is the index of its subfolder in class_names; files directly in
    `directory` are not used. Otherwise every image file under `directory` is, and `labels` (a list) is
    matched to them in sorted order.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{NAME}: {directory} does not exist or is not a folder")
    if labels == "inferred":
        folders = sorted(name for name in os.listdir(directory)
                         if os.path.isdir(os.path.join(directory, name)) and not name.startswith("."))
        if class_names is None:
            class_names = folders
        elif not set(class_names) <= set(folders):
            raise ValueError(f"{NAME}: class_names must name subfolders of {directory} ({folders}); "
                             f"received {list(class_names)}")
        class_names = list(class_names)
        file_paths: list[str] = []
        indices: list[int] = []
        for index, name in enumerate(class_names):
            found = _image_files(os.path.join(directory, name), follow_links)
            file_paths += found
            indices += [index] * len(found)
        label_values: NDArray[np.int64] | None = np.array(indices, dtype=np.int64)
    else:
        file_paths, class_names = _image_files(directory, follow_links), []
        label_values = None if labels is None else np.asarray(labels, dtype=np.int64)
        if label_values is not None and len(label_values) != len(file_paths):
            raise ValueError(f"{NAME}: labels must give one label per image file in {directory}: {len(file_paths)} "
                             f"files were found; received {len(label_values)} labels")
    if not file_paths:
        raise ValueError(f"{NAME}: no images found in {directory} (allowed formats: {', '.join(ALLOWED_FORMATS)})")
    return file_paths, label_values, class_names


def _image_files(folder: str, follow_links: bool) -> list[str]:
    """The image files under `folder`, recursively, in sorted order (folders by path, files by name)."""
    found: list[str] = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0]):
        found += [os.path.join(root, name) for name in sorted(files) if name.lower().endswith(ALLOWED_FORMATS)]
    return found


def _encode_labels(label_values: NDArray[np.int64] | None, label_mode: str | None,
                   num_classes: int) -> NDArray[Any] | None:
    """int -> int32 (N,); categorical -> float32 one-hot (N, K); binary -> float32 (N, 1); None -> None."""
    if label_values is None or label_mode is None:
        return None
    if label_mode == "int":
        return label_values.astype(np.int32)
    if label_mode == "binary":
        return label_values.astype(np.float32)[:, None]
    num_classes = num_classes or int(label_values.max()) + 1
    return np.eye(num_classes, dtype=np.float32)[label_values]


class Loader:
    """Reads one image file as float32 (height, width, C) in [0, 255]: decode, convert, resize."""

    def __init__(self, color_mode: Literal["rgb", "grayscale", "rgba"], image_size: tuple[int, ...],
                 interpolation: Literal["bilinear", "nearest"], crop_to_aspect_ratio: bool,
                 pad_to_aspect_ratio: bool) -> None:
        self.color_mode = color_mode
        self.image_size = image_size
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio

    def __call__(self, path: str) -> NDArray[np.float32]:
        """Raises ValueError or OSError for a file that cannot be read (see striate.images.read)."""
        if self.color_mode == "rgba":
            pixels = _as_rgba(image_files.read(path, color_mode=None))
        else:
            pixels = image_files.read(path, color_mode=self.color_mode)
        return resize(pixels * np.float32(255), self.image_size, self.interpolation, self.crop_to_aspect_ratio,
                      self.pad_to_aspect_ratio)


def _as_rgba(pixels: NDArray[np.float32]) -> NDArray[np.float32]:
    """(H, W, C) with C = 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) -> (H, W, 4); opaque when no alpha."""
    channels = pixels.shape[-1]
    colour = pixels[..., :1].repeat(3, axis=-1) if channels <= 2 else pixels[..., :3]
    alpha = pixels[..., -1:] if channels in (2, 4) else np.ones_like(pixels[..., :1])
    return np.concatenate([colour, alpha], axis=-1)


class ImageDataset:
    """Batches read from `file_paths` on each pass (`for images, labels in dataset`); see the module docstring.

    Attributes: file_paths, class_names (None unless labels were inferred), batch_size, skipped (path ->
    reason for each file that could not be read). len(dataset) is the number of batches per pass.
    """

    def __init__(self, file_paths: Iterable[str], labels: NDArray[Any] | None, class_names: list[str] | None,
                 loader: Loader, batch_size: int | None, shuffle: bool, seed: int | None,
                 functions: Iterable[Callable[..., Any]] = ()) -> None:
        self.file_paths = list(file_paths)
        self.labels = labels
        self.class_names = class_names
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.skipped: dict[str, str] = {}
        self._loader = loader
        self._rng = np.random.default_rng(seed)
        self._functions = tuple(functions)

    def __len__(self) -> int:
        readable = len(self.file_paths) - len(self.skipped)
        return readable if self.batch_size is None else -(-readable // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        order = self._rng.permutation(len(self.file_paths)) if self.shuffle else range(len(self.file_paths))
        return self._batches(order)

    def shard_batches(self, count: int, index: int) -> Iterator[Any]:
        """One pass of part `index` of every batch, for data-parallel training over `count` ranks
        (striate.distributed, which calls it): the pass's order is drawn as `iter` draws it (the same on every
        rank, given the same seed), cut into batches of batch_size files, and each batch into `count` contiguous
        parts (`striate.distributed.shard_bounds`); only part `index`'s files are read. Every rank gets one
        element per batch of the pass, possibly with no images: a file that cannot be read is dropped, not
        replaced, so that the ranks stay in step.
        """
        from striate.distributed.sharding import shard

        if self.batch_size is None:
            raise ValueError(f"{NAME}: shard_batches needs batches; this dataset has batch_size=None")
        if not 0 <= index < count:
            raise ValueError(f"{NAME}: shard_batches needs 0 <= index < count; received index={index}, count={count}")
        order = self._rng.permutation(len(self.file_paths)) if self.shuffle else np.arange(len(self.file_paths))
        for start in range(0, len(order), self.batch_size):
            part = list(self._batches(shard(order[start:start + self.batch_size], index, count)))
            yield part[0] if part else self._element([], [])

    def map(self, function: Callable[..., Any]) -> "ImageDataset":
        """A dataset giving function(images, labels) (function(images) without labels) for each batch, as
        tf.data's `map`; it shares this one's files, order and skipped files."""
        mapped = copy.copy(self)
        mapped._functions = (*self._functions, function)
        return mapped

    def _batches(self, order: Iterable[int]) -> Iterator[Any]:
        pixels: list[NDArray[np.float32]] = []
        kept: list[int] = []
        for index in order:
            path = self.file_paths[index]
            if path in self.skipped:
                continue
            try:
                pixels.append(self._loader(path))
            except (ValueError, OSError) as error:
                self.skipped[path] = str(error)
                warnings.warn(f"{NAME}: skipped {path}, which cannot be read ({len(self.skipped)} file(s) skipped so "
                              f"far): {error}", stacklevel=2)
                continue
            kept.append(index)
            if self.batch_size is None or len(pixels) == self.batch_size:
                yield self._element(pixels, kept)
                pixels, kept = [], []
        if pixels:
            yield self._element(pixels, kept)

    def _element(self, pixels: list[NDArray[np.float32]], kept: list[int]) -> Any:
        """One batch (or, with batch_size None, one image) with its labels, after the mapped functions."""
        if not pixels:  # a part of a batch whose files could not be read (shard_batches)
            channels = COLOR_CHANNELS[self._loader.color_mode]
            images = np.zeros((0, *self._loader.image_size, channels), dtype=np.float32)
        else:
            images = np.stack(pixels) if self.batch_size is not None else pixels[0]
        element = (images,) if self.labels is None else (images, self.labels[kept if self.batch_size else kept[0]])
        for function in self._functions:
            element = function(*element)
            element = element if isinstance(element, tuple) else (element,)
        return element if len(element) > 1 else element[0]

    def __repr__(self) -> str:
        return (f"ImageDataset({len(self.file_paths)} files, {len(self)} batches of {self.batch_size}, "
                f"class_names={self.class_names})")


def _check_arguments(labels: Any, label_mode: Any, class_names: Any, color_mode: Any, batch_size: Any,
                     image_size: Any, validation_split: Any, subset: Any, shuffle: bool, seed: Any, interpolation: Any,
                     crop_to_aspect_ratio: bool, pad_to_aspect_ratio: bool) -> None:
    """Refuse a bad argument before any file is read, as Keras does, naming what was received."""
    if not (labels in ("inferred", None) or isinstance(labels, list | tuple | np.ndarray)):
        raise ValueError(f"{NAME}: labels must be 'inferred', None or a list of integer labels; received {labels!r}")
    if class_names is not None and labels != "inferred":
        raise ValueError(f"{NAME}: class_names can only be given with labels='inferred'; received labels={labels!r}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"{NAME}: label_mode must be one of {LABEL_MODES}; received {label_mode!r}")
    if color_mode not in COLOR_CHANNELS:
        raise ValueError(f"{NAME}: color_mode must be one of {tuple(COLOR_CHANNELS)}; received {color_mode!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer)
                                   or batch_size < 1):
        raise ValueError(f"{NAME}: batch_size must be a positive integer or None; received {batch_size!r}")
    if len(tuple(image_size)) != 2 or any(int(n) != n or n < 1 for n in image_size):
        raise ValueError(f"{NAME}: image_size must be (height, width), two positive integers; received {image_size!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{NAME}: interpolation must be one of {INTERPOLATIONS}; received {interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{NAME}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    if validation_split is not None and not 0 <= validation_split < 1:
        raise ValueError(f"{NAME}: validation_split must be between 0 and 1; received {validation_split}")
    if bool(validation_split) != (subset is not None):
        raise ValueError(f"{NAME}: validation_split and subset go together; received validation_split="
                         f"{validation_split}, subset={subset!r}")
    if subset is not None and subset not in SUBSETS:
        raise ValueError(f"{NAME}: subset must be one of {SUBSETS}; received {subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{NAME}: with validation_split and shuffle, give a seed, so that the training and the "
                         f"validation subsets are cut from the same shuffled list and do not overlap; received "
                         f"seed=None")
