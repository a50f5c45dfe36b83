"""What the explorer feeds a model: checked pixels, uploaded images fitted to the input, and sample images.

Every input is float32 (H, W, C) in [0, 1], the model's input shape. An uploaded image is decoded by
`striate.images.read` (its size checked from the header before decoding, at most `images.MAX_PIXELS`), then:

1. converted to the model's channels (grayscale: Pillow's luma 0.299 R + 0.587 G + 0.114 B; RGB: grey repeated);
2. for a one-channel model, inverted (1 - v) when its mean is above 0.5: such models (MNIST's) see white on
   black, and a photographed digit is dark on light;
3. resized to the model's H x W with Pillow's box filter (the mean of the pixels each new pixel covers) when
   shrinking, bilinear when growing; the aspect ratio is not kept.

Each step taken is reported in words (`notes`), so the page can say what was done.
"""

import os
import tempfile

import numpy as np

from striate import images

MNIST_SHAPE = (28, 28, 1)
MNIST_SAMPLES = 20           # the first test digits offered by name ("mnist-0" ... "mnist-19"); any index works


class InputError(ValueError):
    """A request whose input cannot be used; `status` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def check_pixels(pixels, shape):
    """`pixels` (nested lists or an array, (H, W, C), or (H, W) when C = 1) as float32 (H, W, C) in [0, 1].

    Raises InputError naming the expected and received shapes, or the values out of range.
    """
    height, width, channels = shape
    expected = f"{height}x{width}" + ("" if channels == 1 else f"x{channels}")
    try:
        array = np.asarray(pixels, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"pixels must be a list of {height} rows of {width} numbers"
                         f"{'' if channels == 1 else f' (each a list of {channels})'}; received a ragged list or "
                         "one that holds something other than numbers") from None
    if channels == 1 and array.ndim == 2:
        array = array[..., None]
    if array.shape != (height, width, channels):
        received = "x".join(str(n) for n in array.shape) or "a single number"
        raise InputError(f"the model takes {expected} pixels (rows x columns{'' if channels == 1 else ' x channels'})"
                         f"; received {received}")
    if not np.isfinite(array).all():
        raise InputError(f"pixels hold {int((~np.isfinite(array)).sum())} NaN or infinite values")
    if array.min() < 0 or array.max() > 1:
        raise InputError(f"pixels must lie in [0, 1] (0 black, 1 white); received values from {array.min():g} to "
                         f"{array.max():g}")
    return array.astype(np.float32)


def fit_upload(data, shape, max_pixels=images.MAX_PIXELS):
    """(pixels (H, W, C) float32, notes) of the image file `data` (bytes) fitted to `shape` (module docstring).

    Raises InputError for data that is not an image, a damaged one, or one of more than `max_pixels` pixels.
    """
    height, width, channels = shape
    if not data:
        raise InputError("the upload is empty; choose an image file (PNG, JPEG, ...)")
    handle, path = tempfile.mkstemp(prefix=".striate-upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        original = images.read(path, color_mode=None, max_pixels=max_pixels)
    except ValueError as error:
        message = str(error).removeprefix("images.read: ")
        raise InputError(message.replace(f"{path} ", "the upload ").replace(path, "the upload")) from None
    finally:
        os.unlink(path)
    return fit_image(original, shape)


def fit_image(image, shape):
    """(pixels, notes): a float (h, w, c) image in [0, 1] converted, inverted and resized as the module says."""
    from PIL import Image

    height, width, channels = shape
    notes = [f"read a {image.shape[1]}x{image.shape[0]} image with {image.shape[2]} channel(s)"]
    image = _channels(image, channels, notes)
    if channels == 1 and image.mean() > 0.5:
        image = 1 - image
        notes.append("inverted (1 - v): the model sees white on black, this image was mostly light")
    if image.shape[:2] != (height, width):
        shrinking = image.shape[0] >= height and image.shape[1] >= width
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
        planes = [Image.fromarray(image[..., c].astype(np.float32), mode="F").resize((width, height), resample)
                  for c in range(channels)]
        notes.append(f"resized from {image.shape[1]}x{image.shape[0]} to {width}x{height} "
                     f"({'box filter' if shrinking else 'bilinear'}; aspect ratio not kept)")
        image = np.stack([np.asarray(plane) for plane in planes], axis=-1)
    return np.clip(image, 0, 1).astype(np.float32), notes


def sample_names(shape):
    """The samples offered for a model with input `shape`: MNIST test digits for 28x28x1, else the photos."""
    if tuple(shape) == MNIST_SHAPE:
        return [f"mnist-{i}" for i in range(MNIST_SAMPLES)]
    try:
        return images.sample_names()
    except (ModuleNotFoundError, FileNotFoundError):
        return []


def load_sample(name, shape, mnist_test):
    """(pixels, notes, label) of sample `name`: "mnist-K" (MNIST test image K, from `mnist_test()` -> (x, y))
    or a photo of `striate.images.sample_names()`, fitted to `shape`; label is None for photos."""
    if name.startswith("mnist-"):
        x_test, y_test = mnist_test()
        index = name.removeprefix("mnist-")
        if not (index.isdigit() and int(index) < len(x_test)):
            raise InputError(f"unknown sample {name!r}: MNIST test images are mnist-0 ... mnist-{len(x_test) - 1}",
                             status=404)
        digit = x_test[int(index)].astype(np.float32)[..., None] / 255
        pixels, notes = fit_image(digit, shape)
        return pixels, [f"MNIST test image {index} (label {y_test[int(index)]})", *notes[1:]], int(y_test[int(index)])
    try:
        photo = images.sample(name)
    except ValueError as error:
        raise InputError(str(error), status=404) from None
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise InputError(str(error), status=404) from None
    pixels, notes = fit_image(photo, shape)
    return pixels, [f"the sample photo {name!r}", *notes], None


def _channels(image, channels, notes):
    if image.shape[2] in (2, 4):
        image = image[..., :-1]
        notes.append("alpha channel dropped")
    if channels == 1 and image.shape[2] == 3:
        notes.append("converted to grayscale (0.299 R + 0.587 G + 0.114 B)")
        return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)[:, None]
    if channels == 3 and image.shape[2] == 1:
        notes.append("grey repeated in R, G and B")
        return np.repeat(image, 3, axis=2)
    if image.shape[2] != channels:
        raise InputError(f"the model takes {channels} channels; this image has {image.shape[2]}")
    return image
