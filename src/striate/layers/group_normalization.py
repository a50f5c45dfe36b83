"""Normalization within each sample, as keras.layers: LayerNormalization and GroupNormalization (see
striate.functional.sample_normalization). Neither keeps batch statistics: training and inference agree."""

import math

import numpy as np

from striate import constraints, regularizers
from striate.functional.sample_normalization import group_norm, layer_norm
from striate.layers.layer import Layer


class LayerNormalization(Layer):
    """y = gamma * (x - mean) / sqrt(var + epsilon) + beta over `axis` of each sample (Ba et al. 2016).

    Weights (Keras' order): gamma then beta, each shaped like the input's `axis` dimensions (C for axis=-1).
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **options):
        super().__init__(**options)
        _weight_options(self, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self.axis = int(axis) if isinstance(axis, int | np.integer) else [int(a) for a in axis]
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer

    def _axes(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if not -len(input_shape) <= axis < len(input_shape) or axis % len(input_shape) == 0:
                raise ValueError(f"{self.name}: axis {axis} is the batch axis or out of range for inputs of shape "
                                 f"{input_shape}; received axis={self.axis}")
        return sorted(a % len(input_shape) for a in axes)

    def build(self, input_shape):
        shape = tuple(input_shape[a] for a in self._axes(input_shape))
        _add_gamma_and_beta(self, shape)

    def call(self, inputs, training=False):
        axes = tuple(self._axes(inputs.shape))
        return layer_norm(inputs, axes, self.gamma, self.beta, self.epsilon)

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return input_shape

    def weight_shapes(self, input_shape):
        shape = tuple(input_shape[a] for a in self._axes(input_shape))
        return [(shape, True)] * (int(self.scale) + int(self.center))

    def floating_point_operations(self, input_shape, output_shape):
        return sample_normalization_flops(self, output_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, **_weight_config(self)}


class GroupNormalization(Layer):
    """Group normalization (Wu & He 2018) over the channels, cut into `groups` groups (-1: one per channel).

    Weights (Keras' order): gamma then beta, (C,) each. Only axis=-1 (channels last) is supported.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **options):
        super().__init__(**options)
        _weight_options(self, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        if axis != -1:
            raise ValueError(f"{self.name}: striate normalizes groups of the channels, the last axis; axis must be "
                             f"-1; received axis={axis}")
        if groups != -1 and groups < 1:
            raise ValueError(f"{self.name}: groups must be a positive int or -1 (one per channel); received {groups}")
        self.groups, self.axis = int(groups), -1
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer

    def _groups(self, input_shape):
        channels = input_shape[-1]
        groups = channels if self.groups == -1 else self.groups
        if channels % groups:
            raise ValueError(f"{self.name}: groups={groups} must divide the {channels} channels (input shape "
                             f"{input_shape})")
        return groups

    def build(self, input_shape):
        self._groups(input_shape)
        channels = (input_shape[-1],)
        _add_gamma_and_beta(self, channels)

    def call(self, inputs, training=False):
        return group_norm(inputs, self._groups(inputs.shape), self.gamma, self.beta, self.epsilon)

    def compute_output_shape(self, input_shape):
        self._groups(input_shape)
        return input_shape

    def weight_shapes(self, input_shape):
        return [((input_shape[-1],), True)] * (int(self.scale) + int(self.center))

    def floating_point_operations(self, input_shape, output_shape):
        return sample_normalization_flops(self, output_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, **_weight_config(self)}


def _weight_options(layer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint):
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def _add_gamma_and_beta(layer, shape):
    """gamma then beta (Keras' order), each of `shape`, with the layer's initializers, regularizers and
    constraints; None where scale or center is off."""
    layer.gamma = layer.add_weight("gamma", shape, layer.gamma_initializer, regularizer=layer.gamma_regularizer,
                                   constraint=layer.gamma_constraint) if layer.scale else None
    layer.beta = layer.add_weight("beta", shape, layer.beta_initializer, regularizer=layer.beta_regularizer,
                                  constraint=layer.beta_constraint) if layer.center else None


def _weight_config(layer):
    return {**regularizers.config_of(layer, "beta", "gamma"), **constraints.config_of(layer, "beta", "gamma")}


def sample_normalization_flops(layer, output_shape):
    """5 per element for the statistics and the normalizing (add to the mean, subtract it, square, add to the
    variance, times 1 / sqrt(var + epsilon)), plus 1 each for gamma (scale) and beta (center)."""
    return math.prod(output_shape[1:]) * (5 + int(layer.scale) + int(layer.center))
