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
from striate.layers.merge import Add, Concatenate
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
]
