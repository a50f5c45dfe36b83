"""Random data augmentation inside the model, as keras.layers: RandomFlip, RandomRotation, RandomTranslation,
RandomZoom, RandomCrop, RandomContrast.

Active only when called with training=True (as inside `fit`); in inference they return the images unchanged,
as Keras 3 (RandomCrop too: put it where its output size does not matter at inference, or use CenterCrop).
Each image of a batch draws its own transformation. Random numbers come from striate's generator
(`set_random_seed` repeats a run) or, with seed=, from the layer's own generator (striate.layers.noise.RandomSource).

Images are (N, H, W, C). A factor is a float f, meaning the range [-f, f], or a pair (low, high).
"""

import math

import numpy as np

from striate import ops
from striate.functional.affine import FILL_MODES, affine_transform
from striate.functional.resizing import resize
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer
from striate.layers.noise import RandomSource
from striate.layers.preprocessing import _check_images

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def factor_range(layer, name, factor, bound=None):
    """(low, high) from a float f (-> (-f, f)) or a pair, checked against `bound` (|value| <= bound)."""
    if isinstance(factor, int | float | np.integer | np.floating):
        low, high = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, list | tuple) and len(factor) == 2:
        low, high = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"{layer}: {name} must be a float or a pair (low, high); received {factor!r}")
    if low > high or (bound is not None and max(abs(low), abs(high)) > bound):
        limit = f" within [-{bound}, {bound}]" if bound is not None else ""
        raise ValueError(f"{layer}: {name} must give low <= high{limit}; received {factor!r}")
    return low, high


class _RandomImageLayer(Layer):
    """What the random augmentations share: a random source, data_format, the image check, identity in inference."""

    def __init__(self, seed=None, data_format=None, **options):
        super().__init__(**options)
        self.random = RandomSource(seed)
        self.data_format = check_data_format(self.name, data_format)

    def call(self, inputs, training=False):
        _check_images(self.name, inputs.shape)
        if not training:
            return inputs
        return self.augment(inputs, self.random.generator())

    def compute_output_shape(self, input_shape):
        _check_images(self.name, input_shape)
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.random.seed, "data_format": self.data_format}


class RandomFlip(_RandomImageLayer):
    """Mirrors each image left-right ("horizontal") and/or upside down ("vertical"), each with probability 1/2."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **options):
        super().__init__(seed, data_format, **options)
        if mode not in FLIP_MODES:
            raise ValueError(f"{self.name}: mode must be one of {FLIP_MODES}; received {mode!r}")
        self.mode = mode

    def augment(self, images, rng):
        n = images.shape[0]
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = rng.random(n) < 0.5
            images = ops.where(flip[:, None, None, None], images[:, :, ::-1], images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = rng.random(n) < 0.5
            images = ops.where(flip[:, None, None, None], images[:, ::-1], images)
        return images

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _RandomAffine(_RandomImageLayer):
    """A random transform per image (`transforms`), applied by striate.functional.affine_transform."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **options):
        super().__init__(seed, data_format, **options)
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{self.name}: fill_mode must be one of {FILL_MODES}; received {fill_mode!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"{self.name}: interpolation must be 'bilinear' or 'nearest'; received "
                             f"{interpolation!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def augment(self, images, rng):
        n, height, width, _ = images.shape
        return affine_transform(images, self.transforms(rng, n, height, width), self.interpolation, self.fill_mode,
                                self.fill_value)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomRotation(_RandomAffine):
    """Rotates each image about its centre by an angle drawn from factor * 2 pi (factor 0.1: up to +-36 deg)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **options):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **options)
        self.factor = factor_range(self.name, "factor", factor)

    def transforms(self, rng, n, height, width):
        """Keras' rotation matrix: the output pixel reads the input point rotated by the angle about the centre."""
        angles = rng.uniform(*self.factor, size=n) * 2 * math.pi
        cos, sin = np.cos(angles), np.sin(angles)
        x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2
        y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2
        zeros = np.zeros(n)
        return np.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomTranslation(_RandomAffine):
    """Shifts each image by height_factor * H rows and width_factor * W columns (drawn per image)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **options):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **options)
        self.height_factor = factor_range(self.name, "height_factor", height_factor, bound=1.0)
        self.width_factor = factor_range(self.name, "width_factor", width_factor, bound=1.0)

    def transforms(self, rng, n, height, width):
        dy = rng.uniform(*self.height_factor, size=n) * height
        dx = rng.uniform(*self.width_factor, size=n) * width
        ones, zeros = np.ones(n), np.zeros(n)
        return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": list(self.width_factor)}


class RandomZoom(_RandomAffine):
    """Zooms each image about its centre: it reads a window (1 + h) times the height, h drawn from height_factor
    (positive: zoom out, negative: zoom in); width_factor likewise, or None to keep the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **options):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **options)
        self.height_factor = factor_range(self.name, "height_factor", height_factor)
        self.width_factor = None if width_factor is None else factor_range(self.name, "width_factor", width_factor)
        if min(self.height_factor + (self.width_factor or (0, 0))) <= -1:
            raise ValueError(f"{self.name}: a zoom factor must be above -1 (a zoom of 1 + factor > 0); received "
                             f"height_factor={height_factor!r}, width_factor={width_factor!r}")

    def transforms(self, rng, n, height, width):
        zoom_y = 1 + rng.uniform(*self.height_factor, size=n)
        zoom_x = zoom_y if self.width_factor is None else 1 + rng.uniform(*self.width_factor, size=n)
        zeros = np.zeros(n)
        return np.stack([zoom_x, zeros, (width - 1) / 2 * (1 - zoom_x), zeros, zoom_y, (height - 1) / 2 * (1 - zoom_y),
                         zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": None if self.width_factor is None else list(self.width_factor)}


class RandomCrop(_RandomImageLayer):
    """(N, H, W, C) -> (N, height, width, C) in training: a height x width window at a random place (one place
    per batch, as Keras); for an image not larger than the window on both sides, the window placed as a centre
    crop to the aspect ratio would be, cut at the edges and resized (Keras' arithmetic). In inference the
    images pass unchanged, as Keras 3."""

    def __init__(self, height, width, seed=None, data_format=None, **options):
        super().__init__(seed, data_format, **options)
        self.height, self.width = int(height), int(width)

    def call(self, inputs, training=False):
        _check_images(self.name, inputs.shape)
        in_height, in_width = inputs.shape[1:3]
        if not training:
            return inputs
        if in_height > self.height and in_width > self.width:
            rng = self.random.generator()
            top = int(rng.integers(0, in_height - self.height + 1))
            left = int(rng.integers(0, in_width - self.width + 1))
            return inputs[:, top : top + self.height, left : left + self.width, :]
        # Keras' arithmetic: the window starts where a centre crop to the aspect ratio would, is cut at the
        # image's edge, and what remains is resized to (height, width)
        crop_height = max(min(in_height, int(float(in_width * self.height) / self.width)), 1)
        crop_width = max(min(in_width, int(float(in_height * self.width) / self.height)), 1)
        top, left = int(float(in_height - crop_height) / 2), int(float(in_width - crop_width) / 2)
        window = inputs[:, top : top + self.height, left : left + self.width, :]
        if window.shape[1:3] == (self.height, self.width):
            return window
        return resize(window, (self.height, self.width), "bilinear")

    def compute_output_shape(self, input_shape):
        _check_images(self.name, input_shape)
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomContrast(_RandomImageLayer):
    """Scales each image's deviation from its per-channel mean by c ~ U(1 - factor, 1 + factor), then clips to
    value_range:   y = clip((x - mean_hw(x)) * c + mean_hw(x), *value_range)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **options):
        super().__init__(seed, **options)
        if isinstance(factor, list | tuple) and len(factor) == 2:
            lower, upper = float(factor[0]), float(factor[1])
        elif isinstance(factor, int | float | np.integer | np.floating):
            lower = upper = float(factor)
        else:
            lower = upper = -1.0
        if not (0 <= lower <= 1 and upper >= 0):
            raise ValueError(f"{self.name}: factor must be a float in [0, 1] or a pair (lower, upper) with lower in "
                             f"[0, 1] and upper >= 0; received {factor!r}")
        self.factor = (lower, upper)  # Keras' meaning: c ~ U(1 - lower, 1 + upper)
        self.value_range = tuple(float(v) for v in value_range)

    def augment(self, images, rng):
        n = images.shape[0]
        contrast = rng.uniform(1 - self.factor[0], 1 + self.factor[1], size=(n, 1, 1, 1)).astype(images.dtype)
        mean = images.mean(axis=(1, 2), keepdims=True)
        return ops.clip((images - mean) * contrast + mean, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}
