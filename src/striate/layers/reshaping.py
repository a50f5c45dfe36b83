"""Layers that move, repeat, cut or pad values without arithmetic on them, as keras.layers: Reshape, Permute,
RepeatVector, UpSampling1D/2D/3D, Cropping1D/2D/3D, ZeroPadding1D/3D (ZeroPadding2D is in core.py).

All are channels-last; none owns a weight. Each is a composition of ops (reshape, transpose, getitem, pad,
a product with ones), so gradients come from those ops.
"""

import math

import numpy as np

from striate import functional as F
from striate.functional.arguments import per_axis
from striate.functional.resizing import resize
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer
from striate.ops.shape import repeat_cells


def pairs_per_axis(op, name, value, rank):
    """((before, after), ...) for `rank` axes from an int, `rank` ints (symmetric) or `rank` pairs; a 1-D
    layer also takes one (before, after) pair."""
    if isinstance(value, int | np.integer):
        pairs = ((int(value), int(value)),) * rank
    elif rank == 1 and len(value) == 2 and all(isinstance(v, int | np.integer) for v in value):
        pairs = ((int(value[0]), int(value[1])),)
    elif len(value) == rank and all(isinstance(v, int | np.integer) for v in value):
        pairs = tuple((int(v), int(v)) for v in value)
    elif len(value) == rank and all(len(v) == 2 for v in value):
        pairs = tuple((int(v[0]), int(v[1])) for v in value)
    else:
        raise ValueError(f"{op}: {name} must be an int, {rank} ints or {rank} (before, after) pairs; "
                         f"received {value!r}")
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"{op}: {name} must be non-negative; received {value!r}")
    return pairs


class Reshape(Layer):
    """(N, *input) -> (N, *target_shape); one entry of target_shape may be -1 (inferred)."""

    def __init__(self, target_shape, **options):
        super().__init__(**options)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d < -1 or d == 0 for d in self.target_shape):
            raise ValueError(f"{self.name}: target_shape must be positive ints with at most one -1; received "
                             f"{target_shape!r}")

    def call(self, inputs, training=False):
        return inputs.reshape(inputs.shape[0], *self.compute_output_shape((None, *inputs.shape[1:]))[1:])

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(f"{self.name}: cannot reshape {input_shape} to {self.target_shape}: {size} values "
                                 f"are not a multiple of {known}")
            return (input_shape[0], *(size // known if d == -1 else d for d in self.target_shape))
        if known != size:
            raise ValueError(f"{self.name}: cannot reshape {input_shape} ({size} values per sample) to "
                             f"{self.target_shape} ({known} values)")
        return (input_shape[0], *self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Reorders the axes after the batch axis: dims is a permutation of 1..rank (Permute((2, 1)) swaps the two)."""

    def __init__(self, dims, **options):
        super().__init__(**options)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"{self.name}: dims must be a permutation of 1..{len(self.dims)} (the batch axis 0 "
                             f"stays); received {dims!r}")

    def call(self, inputs, training=False):
        return inputs.transpose((0, *self.dims))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"{self.name}: dims {self.dims} permute {len(self.dims)} axes; received an input of "
                             f"shape {input_shape}")
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def receptive_field(self, field, input_shape, output_shape):
        """The spatial axes' fields reordered as the axes, while the channels stay last; else None."""
        if self.dims[-1] != len(self.dims) or len(field) != len(self.dims) - 1:
            return None
        return tuple(field[d - 1] for d in self.dims[:-1])

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """(N, F) -> (N, n, F): the vector repeated n times."""

    def __init__(self, n, **options):
        super().__init__(**options)
        self.n = int(n)

    def call(self, inputs, training=False):
        self.compute_output_shape((None, *inputs.shape[1:]))
        return inputs.reshape(inputs.shape[0], 1, inputs.shape[1]) * np.ones((self.n, 1), inputs.dtype)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: expects (batch, features); received shape {input_shape}")
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class _UpSampling(Layer):
    rank = 2

    def __init__(self, size, interpolation="nearest", **options):
        super().__init__(**options)
        self.size = per_axis(self.name, "size", size, self.rank)
        self.interpolation = interpolation

    def call(self, inputs, training=False):
        self.compute_output_shape((None, *inputs.shape[1:]))
        if self.interpolation == "bilinear":
            return resize(inputs, (inputs.shape[1] * self.size[0], inputs.shape[2] * self.size[1]), "bilinear")
        return repeat_cells(inputs, self.size)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{self.name}: expects an input of rank {self.rank + 2} (batch, spatial..., "
                             f"channels); received shape {input_shape}")
        return (input_shape[0], *(n * s for n, s in zip(input_shape[1:-1], self.size)), input_shape[-1])

    def floating_point_operations(self, input_shape, output_shape):
        """0 for "nearest" (a copy); 7 per output for "bilinear" (4 weighted inputs: 4 multiplies, 3 adds)."""
        return 7 * math.prod(output_shape[1:]) if self.interpolation == "bilinear" else 0

    def receptive_field(self, field, input_shape, output_shape):
        """None: the field ends here. Output j repeats input floor(j / size) (or blends inputs near (j + 1/2) /
        size - 1/2): its field is an input cell's, but `size` neighbouring outputs share one input cell, so the
        outputs do not step by one jump and no (size, jump, start) describes them all."""
        return None

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling1D(_UpSampling):
    """(N, W, C) -> (N, W * size, C), each step repeated size times."""

    rank = 1

    def __init__(self, size=2, **options):
        super().__init__(size, **options)


class UpSampling2D(_UpSampling):
    """(N, H, W, C) -> (N, H * sh, W * sw, C): each pixel repeated ("nearest"), or bilinear interpolation
    with half-pixel centres ("bilinear", striate.functional.resizing)."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **options):
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"UpSampling2D: interpolation must be 'nearest' or 'bilinear'; received "
                             f"{interpolation!r}")
        super().__init__(size, interpolation, **options)
        self.data_format = check_data_format(self.name, data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """(N, D, H, W, C) -> (N, D * sd, H * sh, W * sw, C), each voxel repeated."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **options):
        super().__init__(size, **options)
        self.data_format = check_data_format(self.name, data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _Cropping(Layer):
    rank = 2

    def __init__(self, cropping, **options):
        super().__init__(**options)
        self.cropping = pairs_per_axis(self.name, "cropping", cropping, self.rank)

    def call(self, inputs, training=False):
        self.compute_output_shape((None, *inputs.shape[1:]))
        index = tuple(slice(before, n - after) for (before, after), n in zip(self.cropping, inputs.shape[1:-1]))
        return inputs[(slice(None), *index, slice(None))]

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{self.name}: expects an input of rank {self.rank + 2} (batch, spatial..., "
                             f"channels); received shape {input_shape}")
        spatial = input_shape[1:-1]
        for n, (before, after) in zip(spatial, self.cropping):
            if before + after >= n:
                raise ValueError(f"{self.name}: cropping {self.cropping} removes all of an axis of {n} cells "
                                 f"(input shape {input_shape})")
        return (input_shape[0], *(n - b - a for n, (b, a) in zip(spatial, self.cropping)), input_shape[-1])

    def receptive_field(self, field, input_shape, output_shape):
        """Output i is input i + before: size and jump unchanged, start + before * jump (padding by -before)."""
        return tuple((size, jump, start + before * jump) for (size, jump, start), (before, _) in
                     zip(field, self.cropping))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping1D(_Cropping):
    """(N, W, C) -> (N, W - left - right, C); cropping an int or (left, right)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **options):
        super().__init__(cropping, **options)


class Cropping2D(_Cropping):
    """(N, H, W, C) -> (N, H - top - bottom, W - left - right, C); cropping an int, (h, w) (symmetric) or
    ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **options):
        super().__init__(cropping, **options)
        self.data_format = check_data_format(self.name, data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Cropping3D(_Cropping):
    """(N, D, H, W, C) cropped on each spatial axis by an int, 3 ints or 3 (before, after) pairs."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **options):
        super().__init__(cropping, **options)
        self.data_format = check_data_format(self.name, data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _ZeroPadding(Layer):
    rank = 1

    def __init__(self, padding, data_format=None, **options):
        super().__init__(**options)
        self.data_format = check_data_format(self.name, data_format)
        self.padding = pairs_per_axis(self.name, "padding", padding, self.rank)

    def call(self, inputs, training=False):
        self.compute_output_shape((None, *inputs.shape[1:]))
        return F.pad(inputs, ((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{self.name}: expects an input of rank {self.rank + 2} (batch, spatial..., "
                             f"channels); received shape {input_shape}")
        spatial = (n + b + a for n, (b, a) in zip(input_shape[1:-1], self.padding))
        return (input_shape[0], *spatial, input_shape[-1])

    def sliding_window(self, input_shape):
        """A 1-cell window over the padded input: the padding moves the field's start."""
        ones = (1,) * self.rank
        return ones, ones, ones, self.padding

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """(N, W, C) -> (N, left + W + right, C) with zeros; padding an int or (left, right)."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **options):
        super().__init__(padding, data_format, **options)


class ZeroPadding3D(_ZeroPadding):
    """(N, D, H, W, C) padded with zeros: an int, 3 ints or 3 (before, after) pairs."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **options):
        super().__init__(padding, data_format, **options)
