"""striate.functional: every operation as a stateless function, channels-last, Keras argument names.

Each function accepts Tensors or NumPy arrays and returns a Tensor; gradients flow through all of them.
"""

from striate.functional.affine import affine_transform
from striate.functional.convolution import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    depthwise_conv2d,
    separable_conv2d,
)
from striate.functional.losses import binary_cross_entropy, cross_entropy, mse
from striate.functional.normalization import batch_norm, local_response_norm
from striate.functional.output_size import conv_output_length, conv_transpose_output_length
from striate.functional.pooling import (
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    global_avg_pool,
    global_max_pool,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from striate.functional.resizing import resize
from striate.functional.sample_normalization import group_norm, layer_norm
from striate.functional.signal import convolve, correlate
from striate.ops import (
    abs,
    add,
    clip,
    concat,
    div,
    dropout,
    elu,
    exp,
    gelu,
    gradient_gate,
    gru_sequence,
    hard_sigmoid,
    leaky_relu,
    log,
    log_softmax,
    lstm_sequence,
    matmul,
    max,
    maximum,
    mean,
    minimum,
    mish,
    mul,
    neg,
    pad,
    pow,
    relu,
    reshape,
    selu,
    sigmoid,
    silu,
    simple_rnn_sequence,
    softmax,
    softplus,
    sqrt,
    stack,
    sub,
    sum,
    swish,
    tanh,
    transpose,
    where,
)

__all__ = [
    "abs", "add", "avg_pool1d", "avg_pool2d", "avg_pool3d", "batch_norm", "binary_cross_entropy", "clip",
    "concat", "conv1d", "conv2d", "conv3d", "conv_output_length", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "gradient_gate", "conv_transpose_output_length", "convolve", "correlate", "cross_entropy",
    "depthwise_conv2d", "div", "dropout", "elu", "exp", "global_avg_pool", "global_max_pool", "leaky_relu",
    "local_response_norm", "log", "log_softmax", "matmul", "max", "max_pool1d", "max_pool2d", "max_pool3d",
    "maximum", "mean", "minimum", "mse", "mul", "neg", "pad", "pow", "relu", "reshape", "separable_conv2d",
    "sigmoid", "softmax", "sqrt", "stack", "sub", "sum", "tanh", "transpose", "where",
    "gru_sequence", "lstm_sequence", "simple_rnn_sequence",
    "affine_transform", "group_norm", "layer_norm", "resize",
    "gelu", "hard_sigmoid", "mish", "selu", "silu", "softplus", "swish",
]
