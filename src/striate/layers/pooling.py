"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalAveragePooling1D/2D/3D,
GlobalMaxPooling1D/2D/3D.

They own no weights; each calls the pooling function of striate.functional. data_format="channels_last" (or
None) is accepted, "channels_first" refused (striate is channels-last).
"""

import math
from collections.abc import Callable
from typing import Any

from striate import functional as F
from striate.functional.arguments import padding_pairs, per_axis
from striate.layers.convolution import conv_output_shape
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer


class Pooling(Layer):
    rank = 2
    function: Callable[..., Any]  # the functional pooling of `rank` spatial axes, set by each subclass

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **options):
        super().__init__(**options)
        self.data_format = check_data_format(self.name, data_format)
        self.pool_size = per_axis(self.name, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else per_axis(self.name, "strides", strides, self.rank)
        self.padding = padding

    def call(self, inputs, training=False):
        return type(self).function(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.pool_size, self.strides, self.padding,
                                 (1,) * self.rank, input_shape[-1])

    def floating_point_operations(self, input_shape, output_shape):
        """k - 1 comparisons (max) or k additions-or-divisions (average) per output, for a window of k cells."""
        cells = math.prod(self.pool_size)
        return math.prod(output_shape[1:]) * (cells - 1 if type(self).function in MAX_POOLS else cells)

    def sliding_window(self, input_shape):
        ones = (1,) * self.rank
        pads = padding_pairs(self.name, self.padding, input_shape[1:-1], self.pool_size, self.strides, ones)
        return self.pool_size, self.strides, ones, pads

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format}


MAX_POOLS = (F.max_pool1d, F.max_pool2d, F.max_pool3d)


class MaxPooling1D(Pooling):
    rank, function = 1, F.max_pool1d


class MaxPooling2D(Pooling):
    """Max over pool_size windows, strides default to pool_size, as keras.layers.MaxPooling2D."""

    rank, function = 2, F.max_pool2d


class MaxPooling3D(Pooling):
    rank, function = 3, F.max_pool3d


class AveragePooling1D(Pooling):
    rank, function = 1, F.avg_pool1d


class AveragePooling2D(Pooling):
    """Mean over pool_size windows, as keras.layers.AveragePooling2D."""

    rank, function = 2, F.avg_pool2d


class AveragePooling3D(Pooling):
    rank, function = 3, F.avg_pool3d


class _GlobalPooling(Layer):
    """(N, *spatial, C) -> (N, C), or (N, 1, ..., 1, C) with keepdims=True: one value per channel."""

    rank = 2
    function: Callable[..., Any]  # F.global_avg_pool or F.global_max_pool, set by each subclass

    def __init__(self, data_format=None, keepdims=False, **options):
        super().__init__(**options)
        self.data_format = check_data_format(self.name, data_format)
        self.keepdims = bool(keepdims)

    def call(self, inputs, training=False):
        shape = self.compute_output_shape((None, *inputs.shape[1:]))
        pooled = type(self).function(inputs)
        return pooled.reshape(inputs.shape[0], *shape[1:]) if self.keepdims else pooled

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{self.name}: expects an input of rank {self.rank + 2} (batch, spatial..., channels); "
                             f"received shape {input_shape}")
        if self.keepdims:
            return (input_shape[0], *([1] * self.rank), input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def floating_point_operations(self, input_shape, output_shape):
        """cells - 1 comparisons (max) or cells additions-or-divisions (average) per channel."""
        cells = math.prod(input_shape[1:-1])
        return input_shape[-1] * (cells - 1 if type(self).function is F.global_max_pool else cells)

    def sliding_window(self, input_shape):
        """One window over the whole map."""
        spatial = tuple(input_shape[1:-1])
        return spatial, spatial, (1,) * len(spatial), ((0, 0),) * len(spatial)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    """(N, W, C) -> (N, C): the mean of each channel over the steps."""

    rank, function = 1, F.global_avg_pool


class GlobalAveragePooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C): the mean of each channel."""

    rank, function = 2, F.global_avg_pool


class GlobalAveragePooling3D(_GlobalPooling):
    """(N, D, H, W, C) -> (N, C): the mean of each channel."""

    rank, function = 3, F.global_avg_pool


class GlobalMaxPooling1D(_GlobalPooling):
    """(N, W, C) -> (N, C): the max of each channel over the steps."""

    rank, function = 1, F.global_max_pool


class GlobalMaxPooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C): the max of each channel."""

    rank, function = 2, F.global_max_pool


class GlobalMaxPooling3D(_GlobalPooling):
    """(N, D, H, W, C) -> (N, C): the max of each channel."""

    rank, function = 3, F.global_max_pool
