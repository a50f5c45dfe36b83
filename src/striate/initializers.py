"""Keras' `initializers` module: the weight initializers of striate.layers under their Keras names, the classes
and their lower-case aliases (keras.initializers.he_normal is keras.initializers.HeNormal)."""

from striate.layers.initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    Ones,
    RandomNormal,
    RandomUniform,
    Zeros,
    get,
)
from striate.layers.recurrent import Orthogonal

zeros, ones, random_uniform, random_normal = Zeros, Ones, RandomUniform, RandomNormal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
orthogonal = Orthogonal

__all__ = [
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer", "Ones", "Orthogonal", "RandomNormal",
    "RandomUniform", "Zeros", "get", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "ones",
    "orthogonal", "random_normal", "random_uniform", "zeros",
]
