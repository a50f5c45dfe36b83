"""Keras' `initializers` module: the weight initializers of striate.layers under their Keras names, the classes
and their lower-case aliases (keras.initializers.he_normal is keras.initializers.HeNormal)."""

from striate.layers.initializers import (
    STFT,
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    OrthogonalInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    get,
)
from striate.layers.recurrent import Orthogonal  # the recurrent layers' (the same values for 2D weights)

IdentityInitializer, STFTInitializer, stft = Identity, STFT, STFT
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal, variance_scaling = LecunUniform, LecunNormal, VarianceScaling
orthogonal = Orthogonal

__all__ = [
    "STFT", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "IdentityInitializer",
    "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal",
    "RandomUniform", "STFTInitializer", "TruncatedNormal", "VarianceScaling", "Zeros", "constant", "get",
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform",
    "ones", "orthogonal", "random_normal", "random_uniform", "stft", "truncated_normal", "variance_scaling", "zeros",
]
