"""Layers with Keras' names and arguments. Layers own weights and call striate.functional."""

from striate.layers.convolution import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    DepthwiseConv2D,
    SeparableConv2D,
)
from striate.layers.core import Activation, Dense, Dropout, Flatten, InputLayer, ZeroPadding2D
from striate.layers.embedding import Embedding, Masking
from striate.layers.filter_bank import FilterBank
from striate.layers.initializers import RandomNormal, RandomUniform
from striate.layers.layer import Layer, SymbolicTensor
from striate.layers.merge import Add, Concatenate, add, concatenate
from striate.layers.normalization import BatchNormalization, LocalResponseNormalization
from striate.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from striate.layers.recurrent import GRU, LSTM, SimpleRNN, pad_sequences
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
]

# Keras' other names for the same classes (keras.layers.MaxPool2D is keras.layers.MaxPooling2D)
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, SeparableConvolution2D = Conv2DTranspose, SeparableConv2D
__all__ += [
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "Convolution1D", "Convolution2D", "Convolution2DTranspose", "Convolution3D",
    "GlobalAvgPool2D", "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "SeparableConvolution2D",
]
