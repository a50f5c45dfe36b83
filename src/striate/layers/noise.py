"""Regularization by noise, active only when called with training=True (identity in inference), as
keras.layers: GaussianNoise, GaussianDropout, SpatialDropout1D/2D/3D; and the random source they share.

    GaussianNoise      y = x + e,      e ~ N(0, stddev^2)
    GaussianDropout    y = x * e,      e ~ N(1, rate / (1 - rate))         (Srivastava et al. 2014, sec. 10)
    SpatialDropout     y = x * m,      m = keep / (1 - rate) drawn once per (sample, channel) and shared by
                                       every position (Tompson et al. 2015): whole feature maps are dropped

Random numbers: with seed=None a layer draws from striate's generator (striate.core.random, so
`set_random_seed` makes runs repeatable); with an int seed it owns a generator of its own, seeded once, as
Keras' per-layer SeedGenerator: repeated calls give different noise, the same sequence on every run.
"""

import numpy as np

from striate import functional as F
from striate.core.random import generator
from striate.layers.data_format import check_data_format
from striate.layers.layer import Layer


class RandomSource:
    """The generator a random layer draws from: striate's shared one (seed=None) or its own (an int seed)."""

    def __init__(self, seed):
        if seed is not None and not isinstance(seed, int | np.integer):
            raise ValueError(f"seed must be an int or None; received {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._own = None if seed is None else np.random.default_rng(self.seed)

    def generator(self):
        return generator() if self._own is None else self._own


def check_rate(layer, rate):
    if not 0 <= rate < 1:
        raise ValueError(f"{layer}: rate must satisfy 0 <= rate < 1; received {rate}")
    return float(rate)


def dropout_mask(rng, shape, rate, dtype):
    """keep / (1 - rate) of `shape`, keep ~ Bernoulli(1 - rate): dropout applied to ones (a constant Tensor)."""
    return F.dropout(np.ones(shape, dtype), rate, training=True, seed=rng)


class GaussianNoise(Layer):
    """Adds N(0, stddev^2) noise in training (a data augmentation for real-valued inputs)."""

    def __init__(self, stddev, seed=None, **options):
        super().__init__(**options)
        if stddev < 0:
            raise ValueError(f"{self.name}: stddev must be non-negative; received {stddev}")
        self.stddev, self.random = float(stddev), RandomSource(seed)

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = self.random.generator().standard_normal(inputs.shape, dtype=_draw_dtype(inputs))
        return inputs + (self.stddev * noise).astype(inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.random.seed}


class GaussianDropout(Layer):
    """Multiplies by N(1, rate / (1 - rate)) noise in training: dropout's mean and variance, Gaussian."""

    def __init__(self, rate, seed=None, **options):
        super().__init__(**options)
        self.rate, self.random = check_rate(self.name, rate), RandomSource(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = np.sqrt(self.rate / (1 - self.rate))
        noise = 1 + stddev * self.random.generator().standard_normal(inputs.shape, dtype=_draw_dtype(inputs))
        return inputs * noise.astype(inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.random.seed}


class _SpatialDropout(Layer):
    rank = 2

    def __init__(self, rate, seed=None, **options):
        super().__init__(**options)
        self.rate, self.random = check_rate(self.name, rate), RandomSource(seed)

    def call(self, inputs, training=False):
        if inputs.ndim != self.rank + 2:
            raise ValueError(f"{self.name}: expects an input of rank {self.rank + 2} (batch, spatial..., "
                             f"channels); received shape {inputs.shape}")
        if not training or self.rate == 0:
            return inputs
        shape = (inputs.shape[0], *([1] * self.rank), inputs.shape[-1])
        return inputs * dropout_mask(self.random.generator(), shape, self.rate, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.random.seed}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (N, W, C): one keep/drop per (sample, channel)."""

    rank = 1


class _SpatialDropoutWithFormat(_SpatialDropout):
    """The 2-D and 3-D forms, which take Keras' data_format."""

    def __init__(self, rate, data_format=None, seed=None, **options):
        super().__init__(rate, seed, **options)
        self.data_format = check_data_format(self.name, data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout2D(_SpatialDropoutWithFormat):
    """Drops whole feature maps of (N, H, W, C): one keep/drop per (sample, channel)."""

    rank = 2


class SpatialDropout3D(_SpatialDropoutWithFormat):
    """Drops whole feature volumes of (N, D, H, W, C): one keep/drop per (sample, channel)."""

    rank = 3


def _draw_dtype(inputs):
    """The dtype a Generator draws normals in for inputs of this dtype (float32 or float64)."""
    return np.float32 if inputs.dtype == np.float32 else np.float64
