"""The rest of Keras 3's activation functions, each a composition of striate's ops (so each gradient is the
chain rule through them; at a kink, the gradient of the branch `where` picks):

    relu6(x)          = min(max(x, 0), 6)
    celu(x, a)        = x for x > 0, a (e^(x / a) - 1) otherwise                      (Barron 2017)
    exponential(x)    = e^x
    glu(x)            = a * sigmoid(b), a and b the two halves of x along `axis`        (Dauphin et al. 2017)
    hard_tanh(x)      = min(max(x, -1), 1)
    hard_silu(x)      = x * relu6(x + 3) / 6   (also hard_swish)                        (Howard et al. 2019)
    hard_shrink(x, t) = x where |x| > t, else 0
    soft_shrink(x, t) = x - t where x > t, x + t where x < -t, else 0
    tanh_shrink(x)    = x - tanh(x)
    log_sigmoid(x)    = -softplus(-x)
    softsign(x)       = x / (|x| + 1)
    squareplus(x, b)  = (x + sqrt(x^2 + b)) / 2                                         (Barron 2021)
    sparse_plus(x)    = 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1
    sparse_sigmoid(x) = 0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1
    threshold(x, t, v)= x where x > t, else v
    sparsemax(x)      = max(x - tau, 0), tau such that the outputs sum to 1              (Martins & Astudillo 2016)
"""

import numpy as np

from striate.core.tensor import as_tensor
from striate.ops.activations import relu, sigmoid, tanh
from striate.ops.elementwise import abs, clip, exp, minimum, sqrt, where
from striate.ops.shape import getitem
from striate.ops.smooth_activations import softplus


def relu6(x):
    return clip(x, 0.0, 6.0)


def celu(x, alpha=1.0):
    x = as_tensor(x)
    return where(x.data > 0, x, alpha * (exp(minimum(x, 0.0) / alpha) - 1))


def exponential(x):
    return exp(x)


def glu(x, axis=-1):
    x = as_tensor(x)
    size = x.shape[axis]
    if size % 2:
        raise ValueError(f"glu: the axis {axis} is split into two halves, so its size must be even; received shape "
                         f"{x.shape}")
    axis = axis % x.ndim
    first = (slice(None),) * axis + (slice(0, size // 2),)
    second = (slice(None),) * axis + (slice(size // 2, size),)
    return getitem(x, first) * sigmoid(getitem(x, second))


def hard_tanh(x):
    return clip(x, -1.0, 1.0)


def hard_silu(x):
    return x * relu6(x + 3.0) / 6.0


hard_swish = hard_silu


def hard_shrink(x, threshold=0.5):
    x = as_tensor(x)
    return where(np.abs(x.data) > threshold, x, 0.0 * x)


def soft_shrink(x, threshold=0.5):
    x = as_tensor(x)
    return where(x.data > threshold, x - threshold, where(x.data < -threshold, x + threshold, 0.0 * x))


def tanh_shrink(x):
    return x - tanh(x)


def log_sigmoid(x):
    return -softplus(-as_tensor(x))


def softsign(x):
    return x / (abs(x) + 1.0)


def squareplus(x, b=4):
    x = as_tensor(x)
    return (x + sqrt(x * x + b)) / 2


def sparse_plus(x):
    x = as_tensor(x)
    return where(x.data >= 1, x, where(x.data <= -1, 0.0 * x, (x + 1) * (x + 1) / 4))


def sparse_sigmoid(x):
    return clip((as_tensor(x) + 1) / 2, 0.0, 1.0)


def threshold(x, threshold, default_value):
    x = as_tensor(x)
    return where(x.data > threshold, x, 0.0 * x + default_value)


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along `axis`. The support (which entries stay
    positive) is found on the values; tau = (sum of x over the support - 1) / |support| is then computed with
    ops, so the gradient is sparsemax's Jacobian, diag(s) - s s^T / |S| on the support s."""
    x = as_tensor(x)
    values = np.moveaxis(x.data, axis, -1)
    ordered = -np.sort(-values, axis=-1)
    ranks = np.arange(1, values.shape[-1] + 1)
    in_support = 1 + ranks * ordered > np.cumsum(ordered, axis=-1)
    size = in_support.sum(axis=-1, keepdims=True)
    cutoff = np.take_along_axis(ordered, size - 1, axis=-1)
    support = np.moveaxis(values >= cutoff, -1, axis).astype(x.data.dtype)
    tau = ((x * support).sum(axis=axis, keepdims=True) - 1) / np.moveaxis(size, -1, axis).astype(x.data.dtype)
    return relu(x - tau)
