"""Weight initializers, by Keras name or as objects.

fan_in and fan_out of a kernel (*kernel_size, C_in, C_out) are prod(kernel_size) * C_in and
prod(kernel_size) * C_out (for a Dense kernel (C_in, C_out), just C_in and C_out).

    glorot_uniform  U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))     (Glorot & Bengio 2010)
    glorot_normal   truncated normal, stddev sqrt(2 / (fan_in + fan_out))
    he_uniform      U(-limit, limit), limit = sqrt(6 / fan_in)                   (He et al. 2015)
    he_normal       truncated normal, stddev sqrt(2 / fan_in)
    zeros, ones, RandomUniform(minval, maxval) (the lectures' small random start: -0.01..0.01), RandomNormal
"""

import math

import numpy as np

from striate.core.random import generator

# a normal truncated at two standard deviations has this standard deviation (Keras' correction)
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def fans(shape):
    """(fan_in, fan_out) of a weight shape."""
    if len(shape) < 2:
        return (shape[0], shape[0]) if shape else (1, 1)
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, stddev, rng):
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return values * stddev / TRUNCATED_NORMAL_STDDEV


class Initializer:
    def __call__(self, shape, dtype=np.float32, rng=None):
        return np.asarray(self.sample(tuple(shape), rng or generator()), dtype=dtype)

    def sample(self, shape, rng):
        raise NotImplementedError

    def get_config(self):
        return {"class_name": type(self).__name__, "config": dict(vars(self))}


class Zeros(Initializer):
    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    def sample(self, shape, rng):
        return np.ones(shape)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = mean, stddev

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)


class GlorotUniform(Initializer):
    def sample(self, shape, rng):
        fan_in, fan_out = fans(shape)
        limit = math.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    def sample(self, shape, rng):
        fan_in, fan_out = fans(shape)
        return _truncated_normal(shape, math.sqrt(2 / (fan_in + fan_out)), rng)


class HeUniform(Initializer):
    def sample(self, shape, rng):
        limit = math.sqrt(6 / fans(shape)[0])
        return rng.uniform(-limit, limit, shape)


class HeNormal(Initializer):
    def sample(self, shape, rng):
        return _truncated_normal(shape, math.sqrt(2 / fans(shape)[0]), rng)


BY_NAME = {
    "zeros": Zeros, "ones": Ones, "random_uniform": RandomUniform, "random_normal": RandomNormal,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
}
BY_CLASS = {cls.__name__: cls for cls in BY_NAME.values()}


def get(identifier):
    """An Initializer from a name ("glorot_uniform"), a config dict, or an Initializer (returned as is)."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in BY_NAME:
        return BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name") in BY_CLASS:
        return BY_CLASS[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"initializer: unknown {identifier!r}; expected one of {sorted(BY_NAME)} or an Initializer")
