"""Preprocessing inside the model, as keras.layers: Rescaling, Resizing, CenterCrop, Normalization.

They act the same in training and inference (the random augmentations are in augmentation.py). Images are
(N, H, W, C).
"""

import math

import numpy as np

from striate import functional as F
from striate.core.tensor import Tensor
from striate.functional.resizing import resize
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer

EPSILON = 1e-7  # Keras' backend.epsilon(): the floor of the standard deviation Normalization divides by


def crop_or_pad_to_aspect(images, height, width, mode, fill_value=0.0):
    """Images centre-cropped ("crop") or padded with fill_value ("pad") to the aspect ratio height : width,
    Keras' arithmetic (keras.ops.image.resize's crop_to_aspect_ratio / pad_to_aspect_ratio)."""
    in_height, in_width = images.shape[1:3]
    if mode == "crop":
        crop_height = max(min(in_height, int(float(in_width * height) / width)), 1)
        crop_width = max(min(in_width, int(float(in_height * width) / height)), 1)
        top, left = int(float(in_height - crop_height) / 2), int(float(in_width - crop_width) / 2)
        return images[:, top : top + crop_height, left : left + crop_width, :]
    pad_height = max(in_height, int(float(in_width * height) / width))
    pad_width = max(in_width, int(float(in_height * width) / height))
    top, left = int(float(pad_height - in_height) / 2), int(float(pad_width - in_width) / 2)
    return F.pad(images, ((0, 0), (top, top), (left, left), (0, 0)), constant_value=fill_value)


def _check_images(layer, input_shape):
    if len(input_shape) != 4:
        raise ValueError(f"{layer}: expects images (batch, height, width, channels); received shape {input_shape}")


class Rescaling(Layer):
    """y = x * scale + offset (e.g. Rescaling(1 / 255) maps pixels to [0, 1]); scale and offset are numbers or
    one value per channel."""

    def __init__(self, scale, offset=0.0, **options):
        super().__init__(**options)
        self.scale, self.offset = scale, offset

    def call(self, inputs, training=False):
        dtype = inputs.dtype
        return inputs * np.asarray(self.scale, dtype) + np.asarray(self.offset, dtype)

    def floating_point_operations(self, input_shape, output_shape):
        """2 per element: a multiply and an add."""
        return 2 * math.prod(output_shape[1:])

    def get_config(self):
        return {**super().get_config(), "scale": _json_number(self.scale), "offset": _json_number(self.offset)}


class Resizing(Layer):
    """Images resized to (height, width) by "bilinear" or "nearest" interpolation (striate.functional.resizing).

    crop_to_aspect_ratio: centre-crop to height : width first (no distortion); pad_to_aspect_ratio: pad with
    fill_value instead. Antialiasing (antialias=True) and fill modes other than "constant" are not supported.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False, data_format=None,
                 **options):
        super().__init__(**options)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"{self.name}: interpolation must be 'bilinear' or 'nearest'; received "
                             f"{interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{self.name}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
        if fill_mode != "constant":
            raise ValueError(f"{self.name}: only fill_mode='constant' is supported; received {fill_mode!r}")
        if antialias:
            raise ValueError(f"{self.name}: antialias=True is not supported (striate resizes without "
                             "antialiasing, as Keras' default)")
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = bool(crop_to_aspect_ratio), bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value, self.antialias = fill_mode, float(fill_value), False
        self.data_format = check_data_format(self.name, data_format)

    def call(self, inputs, training=False):
        _check_images(self.name, inputs.shape)
        if self.crop_to_aspect_ratio:
            inputs = crop_or_pad_to_aspect(inputs, self.height, self.width, "crop")
        elif self.pad_to_aspect_ratio:
            inputs = crop_or_pad_to_aspect(inputs, self.height, self.width, "pad", self.fill_value)
        return resize(inputs, (self.height, self.width), self.interpolation)

    def compute_output_shape(self, input_shape):
        _check_images(self.name, input_shape)
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def floating_point_operations(self, input_shape, output_shape):
        """7 per output for "bilinear" (4 weighted inputs: 4 multiplies, 3 adds); 0 for "nearest" (a copy)."""
        return 7 * math.prod(output_shape[1:]) if self.interpolation == "bilinear" else 0

    def receptive_field(self, field, input_shape, output_shape):
        """None: the field ends here (outputs step through the input by H_in / height, a fraction, and read one
        or two cells each; see UpSampling2D)."""
        return None

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias, "data_format": self.data_format}


def center_crop(images, height, width):
    """The central height x width window of each image (top = (H - height) // 2, left likewise); an image
    smaller than that on some side is centre-cropped to the aspect ratio and resized bilinearly instead, as
    Keras (smart_resize)."""
    in_height, in_width = images.shape[1:3]
    if in_height >= height and in_width >= width:
        top, left = (in_height - height) // 2, (in_width - width) // 2
        return images[:, top : top + height, left : left + width, :]
    return resize(crop_or_pad_to_aspect(images, height, width, "crop"), (height, width), "bilinear")


class CenterCrop(Layer):
    """(N, H, W, C) -> (N, height, width, C): the central window (see `center_crop`)."""

    def __init__(self, height, width, data_format=None, **options):
        super().__init__(**options)
        self.height, self.width = int(height), int(width)
        self.data_format = check_data_format(self.name, data_format)

    def call(self, inputs, training=False):
        _check_images(self.name, inputs.shape)
        return center_crop(inputs, self.height, self.width)

    def compute_output_shape(self, input_shape):
        _check_images(self.name, input_shape)
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def _crops(self, input_shape):
        """The central window's offsets (top, left), or None when the image is too small and is resized instead."""
        in_height, in_width = input_shape[1:3]
        if in_height >= self.height and in_width >= self.width:
            return (in_height - self.height) // 2, (in_width - self.width) // 2
        return None

    def floating_point_operations(self, input_shape, output_shape):
        """0 for a crop (a copy); 7 per output when the image is smaller and is resized bilinearly."""
        return 0 if self._crops(input_shape) is not None else 7 * math.prod(output_shape[1:])

    def receptive_field(self, field, input_shape, output_shape):
        """A crop (Cropping2D's rule: start + top * jump, start + left * jump); None when it resizes."""
        crops = self._crops(input_shape)
        if crops is None:
            return None
        return tuple((size, jump, start + before * jump) for (size, jump, start), before in zip(field, crops))

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}


class Normalization(Layer):
    """Feature standardization, as keras.layers.Normalization:

        y = (x - mean) / max(sqrt(variance), 1e-7)          (invert=True: y = mean + x * max(sqrt(variance), 1e-7))

    mean and variance are kept per position of `axis` (default the last: one per channel) and either given
    (`mean=`, `variance=`) or computed from data by `adapt(data)` (over every other axis; the variance is the
    biased one, as Keras). Weights when adapted (Keras' order, non-trainable): mean, variance, and count, which
    Keras 3 keeps at 0 for older saved files, as here.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **options):
        super().__init__(**options)
        if (mean is None) != (variance is None):
            raise ValueError(f"{self.name}: give both mean and variance, or neither (then call adapt()); received "
                             f"mean={mean!r}, variance={variance!r}")
        if axis is None:
            self.axis = ()
        else:
            self.axis = (int(axis),) if isinstance(axis, int | np.integer) else tuple(int(a) for a in axis)
        self.input_mean = None if mean is None else np.asarray(mean, np.float32)
        self.input_variance = None if variance is None else np.asarray(variance, np.float32)
        self.invert = bool(invert)

    def _kept_axes(self, input_shape):
        rank = len(input_shape)
        for a in self.axis:
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(f"{self.name}: axis {a} is the batch axis or out of range for inputs of shape "
                                 f"{input_shape}; received axis={self.axis}")
        return tuple(sorted(a % rank for a in self.axis))

    def build(self, input_shape):
        kept = self._kept_axes(input_shape)
        if self.input_mean is None:
            shape = tuple(input_shape[a] for a in kept)
            self.mean = self.add_weight("mean", shape, "zeros", trainable=False)
            self.variance = self.add_weight("variance", shape, "ones", trainable=False)
            self.count = self.add_weight("count", (), "zeros", trainable=False)

    def weight_shapes(self, input_shape):
        if self.input_mean is not None:
            return []
        shape = tuple(input_shape[a] for a in self._kept_axes(input_shape))
        return [(shape, False), (shape, False), ((), False)]

    def floating_point_operations(self, input_shape, output_shape):
        """2 per element: subtract the mean, divide by the deviation (invert: multiply, add)."""
        return 2 * math.prod(output_shape[1:])

    def _statistics(self, input_shape):
        """(mean, variance) shaped to broadcast over inputs of `input_shape`."""
        kept = self._kept_axes(input_shape)
        broadcast = tuple(input_shape[a] if a in kept else 1 for a in range(len(input_shape)))
        if self.input_mean is None:
            return self.mean.data.reshape(broadcast), self.variance.data.reshape(broadcast)
        kept_shape = tuple(input_shape[a] for a in kept)
        try:  # a given mean and variance line up with the kept axes from the right, as Keras
            mean, variance = (np.broadcast_to(v, kept_shape) for v in (self.input_mean, self.input_variance))
        except ValueError:
            raise ValueError(f"{self.name}: mean {self.input_mean.shape} does not fit the kept axes {kept_shape} "
                             f"of inputs {input_shape}") from None
        return mean.reshape(broadcast), variance.reshape(broadcast)

    def adapt(self, data):
        """Set mean and variance (and count) from `data` (an array, a Tensor or a list of batches)."""
        if self.input_mean is not None:
            raise ValueError(f"{self.name}: adapt() sets the statistics of a layer built without mean and variance; "
                             "this one was given them")
        if isinstance(data, list | tuple):
            data = np.concatenate([np.asarray(d.data if isinstance(d, Tensor) else d) for d in data])
        data = np.asarray(data.data if isinstance(data, Tensor) else data, np.float64)
        shape = (None, *data.shape[1:])
        self.ensure_built(shape)
        kept = self._kept_axes(shape)
        reduced = tuple(a for a in range(data.ndim) if a not in kept)
        self.mean.data[...] = data.mean(axis=reduced)
        self.variance.data[...] = data.var(axis=reduced)

    def call(self, inputs, training=False):
        mean, variance = self._statistics((None, *inputs.shape[1:]))
        dtype = inputs.dtype
        std = np.maximum(np.sqrt(variance.astype(dtype)), dtype.type(EPSILON))
        if self.invert:
            return inputs * std + mean.astype(dtype)
        return (inputs - mean.astype(dtype)) / std

    def get_config(self):
        axis = None if not self.axis else list(self.axis) if len(self.axis) > 1 else self.axis[0]
        return {**super().get_config(), "axis": axis, "invert": self.invert,
                "mean": None if self.input_mean is None else self.input_mean.tolist(),
                "variance": None if self.input_variance is None else self.input_variance.tolist()}


def _json_number(value):
    return np.asarray(value).tolist()
