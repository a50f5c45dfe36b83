"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalAveragePooling2D, GlobalMaxPooling2D.

They own no weights; each calls the pooling function of striate.functional.
"""

from collections.abc import Callable
from typing import Any

from striate import functional as F
from striate.functional.arguments import per_axis
from striate.layers.convolution import conv_output_shape
from striate.layers.layer import Layer


class Pooling(Layer):
    rank = 2
    function: Callable[..., Any]  # the functional pooling of `rank` spatial axes, set by each subclass

    def __init__(self, pool_size=2, strides=None, padding="valid", **options):
        super().__init__(**options)
        self.pool_size = per_axis(self.name, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else per_axis(self.name, "strides", strides, self.rank)
        self.padding = padding

    def call(self, inputs, training=False):
        return type(self).function(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self.name, input_shape, self.pool_size, self.strides, self.padding,
                                 (1,) * self.rank, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}


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


class GlobalAveragePooling2D(Layer):
    """(N, H, W, C) -> (N, C): the mean of each channel."""

    def call(self, inputs, training=False):
        return F.global_avg_pool(inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


class GlobalMaxPooling2D(Layer):
    """(N, H, W, C) -> (N, C): the max of each channel."""

    def call(self, inputs, training=False):
        return F.global_max_pool(inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
