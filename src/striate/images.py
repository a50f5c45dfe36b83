"""Images as float32 arrays (H, W, C) in [0, 1]: read and write with Pillow, and scikit-image's sample photographs.

`read` refuses a decompression bomb: the size in the file's header is checked before any pixel is decoded, and
an image of more than `max_pixels` pixels (MAX_PIXELS, 50 megapixels, by default) raises ValueError. `write` is
atomic: the file is written under a temporary name beside the target and renamed, so nothing half-written is
ever left. `sample("chelsea")` reads skimage/data/chelsea.png as a file from the installed scikit-image package,
which is never imported (only its data folder is used); `sample_file("lfw_subset.npy")` is the path of any other
file in that folder.
"""

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.files import atomic_write
from striate.datasets.package_data import package_file

if TYPE_CHECKING:
    from PIL.Image import Image as PillowImage

ColorMode = Literal["rgb", "grayscale"] | None

MAX_PIXELS = 50_000_000
COLOR_MODES = ("rgb", "grayscale", None)
SAMPLE_SUFFIXES = (".png", ".jpg")
SKIMAGE_PIP_COMMAND = "pip install --no-deps scikit-image==0.26.0"
WRITE_CHANNELS = (1, 3)
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")
# Pillow mode -> the mode `read(..., color_mode=None)` keeps ("P" and other modes become RGB or RGBA)
KEPT_MODES = {"1": "L", "L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "PA": "RGBA", "La": "LA", "RGBa": "RGBA"}


def read(path: str | os.PathLike[str], color_mode: ColorMode = "rgb",
         max_pixels: int = MAX_PIXELS) -> NDArray[np.float32]:
    """The image at `path` as float32 (H, W, C) in [0, 1] (8-bit values / 255, 16-bit values / 65535).

    color_mode: "rgb" (C = 3; alpha dropped, grey repeated), "grayscale" (C = 1, Pillow's luma
    L = 0.299 R + 0.587 G + 0.114 B) or None (as stored: 1 grey, 2 grey + alpha, 3 RGB or 4 RGBA channels).
    Raises FileNotFoundError for a missing file, ValueError for a file that is not an image, is damaged, or
    has more than `max_pixels` pixels (checked from the header, before decoding).
    """
    from PIL import Image, UnidentifiedImageError

    if color_mode not in COLOR_MODES:
        raise ValueError(f"images.read: color_mode must be 'rgb', 'grayscale' or None; received {color_mode!r}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"images.read: {path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
                if width * height > max_pixels:
                    raise ValueError(f"images.read: {path} is {width}x{height} = {width * height:,} pixels, more "
                                     f"than the limit of {max_pixels:,} (max_pixels): refused before decoding "
                                     "(a decompression bomb?)")
                return _pixels(image, color_mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"images.read: {path} is too large to decode safely: {error}") from None
    except UnidentifiedImageError:
        raise ValueError(f"images.read: {path} is not an image Pillow can read") from None
    except (OSError, SyntaxError) as error:  # Pillow's damaged data: OSError (SyntaxError for some formats)
        raise ValueError(f"images.read: {path} is damaged and cannot be decoded: {error}") from None


def _pixels(image: "PillowImage", color_mode: ColorMode) -> NDArray[np.float32]:
    """float32 (H, W, C) in [0, 1] of an open Pillow image."""
    if image.mode in SIXTEEN_BIT_MODES:
        grey = np.clip(np.asarray(image, dtype=np.float32) / np.float32(65535), 0, 1)[:, :, None]
        return np.repeat(grey, 3, axis=2) if color_mode == "rgb" else grey
    if color_mode == "rgb":
        image = image.convert("RGB")
    elif color_mode == "grayscale":
        image = image.convert("L")
    else:
        has_alpha = image.mode in ("P", "PA") and ("transparency" in image.info or image.mode == "PA")
        image = image.convert(KEPT_MODES.get(image.mode, "RGBA" if has_alpha else "RGB"))
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def write(path: str | os.PathLike[str], array: ArrayLike) -> None:
    """Write `array` (H, W), (H, W, 1) or (H, W, 3) of floats in [0, 1] (clipped) as an 8-bit image.

    The format follows the extension (.png, .jpg, ...). Values are rounded: round(255 clip(x, 0, 1)). The file
    appears complete or not at all (temporary file beside it, then os.replace).
    """
    from PIL import Image

    path = os.fspath(path)
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"images.write: the image must hold numbers; received dtype {array.dtype} for {path}")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in WRITE_CHANNELS)) or 0 in array.shape:
        raise ValueError(f"images.write: expects (H, W), (H, W, 1) or (H, W, 3) for {path}; received shape "
                         f"{array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"images.write: the image for {path} holds {int((~np.isfinite(array)).sum())} NaN or "
                         f"infinite values; received shape {array.shape}")
    extension = os.path.splitext(path)[1].lower()
    image_format = Image.registered_extensions().get(extension)
    if image_format is None or image_format not in Image.SAVE:
        raise ValueError(f"images.write: cannot tell an image format Pillow writes from the extension of {path!r}; "
                         "use .png or .jpg")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"images.write: the folder {directory} of {path} does not exist")
    pixels = np.round(np.clip(array.astype(np.float64), 0, 1) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    with atomic_write(path) as file:
        Image.fromarray(pixels).save(file, format=image_format)


def sample_names() -> list[str]:
    """The sample photographs of the installed scikit-image ("astronaut", "camera", "chelsea", ...), sorted."""
    return sorted(_sample_files())


def sample(name: str, color_mode: ColorMode = None) -> NDArray[np.float32]:
    """scikit-image's sample photograph `name` (skimage/data/<name>.png or .jpg) as float32 (H, W, C) in [0, 1].

    color_mode as `read`; None keeps the file's channels: sample("chelsea") is (300, 451, 3), sample("camera")
    (512, 512, 1).
    """
    files = _sample_files()
    if name not in files:
        raise ValueError(f"images.sample: unknown sample {name!r}; known samples: {', '.join(sorted(files))}")
    return read(files[name], color_mode)


def sample_file(filename: str) -> Path:
    """The path of `filename` (e.g. "lfw_subset.npy") in the installed scikit-image's data folder, which is read
    as files (skimage is not imported). Raises FileNotFoundError naming the folder when it is not there."""
    path = _data_folder() / filename
    if not path.is_file():
        raise FileNotFoundError(f"images.sample_file: {filename!r} is not in scikit-image's data folder {path.parent};"
                                f" reinstall it with: {SKIMAGE_PIP_COMMAND}")
    return path


def _sample_files() -> dict[str, Path]:
    """name -> path of every .png and .jpg in the installed scikit-image's data folder (skimage is not imported)."""
    folder = _data_folder()
    return {path.stem: path for path in sorted(folder.iterdir()) if path.suffix in SAMPLE_SUFFIXES}


def _data_folder() -> Path:
    """The data folder of the installed scikit-image, found without importing it."""
    return package_file("skimage", "data", what="images.sample", package="scikit-image",
                        install=SKIMAGE_PIP_COMMAND)
