"""Primitive ops: each defines its forward and its backward in one place (see striate.core.function)."""

from striate.ops.activations import add_relu, elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from striate.ops.arithmetic import add, div, matmul, mul, neg, pow, sub
from striate.ops.convolution import convolution, transposed_convolution
from striate.ops.dense import dense
from striate.ops.dropout import dropout
from striate.ops.elementwise import abs, clip, exp, log, maximum, minimum, sqrt, where
from striate.ops.embedding import embedding
from striate.ops.gradient_gate import gradient_gate
from striate.ops.padding import pad
from striate.ops.recurrent import gru_sequence, lstm_sequence, simple_rnn_sequence
from striate.ops.reduction import max, mean, sum
from striate.ops.resampling import resize
from striate.ops.sample_normalization import normalize_groups
from striate.ops.shape import concat, getitem, repeat_cells, reshape, stack, transpose
from striate.ops.sliding_window import sliding_window
from striate.ops.smooth_activations import gelu, hard_sigmoid, mish, selu, softplus, swish

__all__ = [
    "abs", "add", "add_relu", "clip", "concat", "convolution", "dense", "div", "dropout", "elu", "embedding", "exp",
    "getitem", "gradient_gate", "leaky_relu", "log", "log_softmax", "matmul", "max", "maximum", "mean", "minimum",
    "mul", "neg", "pad", "pow", "relu", "repeat_cells", "reshape", "resize", "sigmoid", "sliding_window", "softmax",
    "sqrt", "stack", "normalize_groups", "sub", "sum", "tanh", "transpose", "transposed_convolution", "where",
    "gru_sequence", "lstm_sequence", "simple_rnn_sequence", "gelu", "hard_sigmoid", "mish", "selu", "silu", "softplus",
    "swish",
]
silu = swish  # Keras' other name
