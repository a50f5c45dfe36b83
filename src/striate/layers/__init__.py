"""Layers with Keras' names and arguments. Layers own weights and call striate.functional."""

from striate.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from striate.layers.augmentation import (
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from striate.layers.convolution import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from striate.layers.core import Activation, Dense, Dropout, Flatten, InputLayer, ZeroPadding2D
from striate.layers.embedding import Embedding, Masking
from striate.layers.filter_bank import FilterBank
from striate.layers.function_layers import Identity, Lambda
from striate.layers.group_normalization import GroupNormalization, LayerNormalization
from striate.layers.initializers import RandomNormal, RandomUniform
from striate.layers.layer import Layer, SymbolicTensor
from striate.layers.merge import Add, Concatenate, add, concatenate
from striate.layers.merging import (
    Average,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    average,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from striate.layers.noise import GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from striate.layers.normalization import BatchNormalization, LocalResponseNormalization
from striate.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from striate.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from striate.layers.recurrent import GRU, LSTM, SimpleRNN, pad_sequences
from striate.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding3D,
)
from striate.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "Activation", "Add", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "BatchNormalization",
    "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Conv3D", "Dense", "DepthwiseConv2D", "Dropout",
    "FilterBank", "Flatten",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "InputLayer", "Layer", "LocalResponseNormalization",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "RandomNormal", "RandomUniform", "SeparableConv2D",
    "SymbolicTensor", "ZeroPadding2D",
    "Bidirectional", "Embedding", "GRU", "LSTM", "Masking", "SimpleRNN", "TimeDistributed", "pad_sequences",
    "add", "concatenate",
    # issue 16's layers
    "Average", "CenterCrop", "Conv1DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "SeparableConv1D",
    "Cropping1D", "Cropping2D", "Cropping3D", "Dot", "ELU", "GaussianDropout",
    "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling3D",
    "GroupNormalization", "Identity", "Lambda", "LayerNormalization", "LeakyReLU", "Maximum", "Minimum", "Multiply",
    "Normalization", "Permute", "PReLU", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "Softmax",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Subtract", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "ZeroPadding1D", "ZeroPadding3D",
    "average", "dot", "maximum", "minimum", "multiply", "subtract",
]

# Keras' other names for the same classes (keras.layers.MaxPool2D is keras.layers.MaxPooling2D)
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, SeparableConvolution2D = Conv2DTranspose, SeparableConv2D
Convolution1DTranspose, Convolution3DTranspose = Conv1DTranspose, Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
__all__ += [
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "Convolution1D", "Convolution2D", "Convolution2DTranspose", "Convolution3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "SeparableConvolution2D",
    "Convolution1DTranspose", "Convolution3DTranspose", "SeparableConvolution1D",
]


def __getattr__(name):
    """keras.layers.Input is striate.Input (defined with the models, which import this package: loaded lazily)."""
    if name == "Input":
        from striate.models.model import Input

        return Input
    raise AttributeError(f"module 'striate.layers' has no attribute {name!r}")
