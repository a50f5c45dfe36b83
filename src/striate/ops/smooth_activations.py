"""Smooth activations: softplus, gelu and swish (silu) as primitive ops; selu, mish and hard_sigmoid as exact
compositions of primitive ops (so their gradients come from those ops).

    softplus(x)     = log(1 + e^x)                                   d/dx = sigmoid(x)
    gelu(x)         = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2          d/dx = Phi(x) + x phi(x)
    gelu(x, approximate=True)
                    = x (1 + tanh(u)) / 2,  u = sqrt(2 / pi) (x + 0.044715 x^3)   (Hendrycks & Gimpel 2016)
    swish(x)        = x sigmoid(x)                                   d/dx = s (1 + x (1 - s)),  s = sigmoid(x)
                                                                     (Ramachandran et al. 2017; silu)
    selu(x)         = scale * elu(x, alpha), alpha = 1.67326..., scale = 1.05070...   (Klambauer et al. 2017)
    mish(x)         = x tanh(softplus(x))                             (Misra 2019)
    hard_sigmoid(x) = clip(x / 6 + 1 / 2, 0, 1)                       (Keras 3's, = relu6(x + 3) / 6)
"""

import math

import numpy as np
from scipy.special import erf

from striate.core.function import Function
from striate.ops.activations import elu, sigmoid_values, tanh
from striate.ops.elementwise import clip

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_CUBIC = 0.044715


class Softplus(Function):
    """log(1 + e^x), computed as logaddexp(0, x) (no overflow); gradient sigmoid(x)."""

    def forward(self, x):
        self.x = x
        return np.logaddexp(np.zeros((), x.dtype), x)

    def backward(self, grad):
        return (grad * sigmoid_values(self.x),)


class Gelu(Function):
    """x Phi(x) with Phi the standard normal CDF, exactly (erf) or by Hendrycks & Gimpel's tanh formula."""

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate:
            self.inner = np.tanh(math.sqrt(2 / math.pi) * (x + GELU_CUBIC * x**3))
            return (0.5 * x * (1 + self.inner)).astype(x.dtype)
        self.cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        return (x * self.cdf).astype(x.dtype)

    def backward(self, grad):
        x = self.x
        if self.approximate:
            # d/dx [x (1 + t) / 2] = (1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2
            t = self.inner
            derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * GELU_CUBIC * x * x)
        else:
            density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            derivative = self.cdf + x * density
        return ((grad * derivative).astype(grad.dtype),)


class Swish(Function):
    """x sigmoid(x) as one op: the sigmoid by `sigmoid_values`, the gradient s (1 + x (1 - s)) in four in-place
    passes (as a product of ops, the sigmoid's and the product's backward and the sum of x's two gradients)."""

    def forward(self, x):
        self.x, self.sigmoid = x, sigmoid_values(x)
        return x * self.sigmoid

    def backward(self, grad):
        s = self.sigmoid
        derivative = np.subtract(1, s, dtype=s.dtype)
        derivative *= self.x
        derivative += 1
        derivative *= s
        derivative *= grad
        return (derivative,)


def softplus(x):
    """log(1 + e^x)."""
    return Softplus.apply(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit x Phi(x); approximate=True uses the tanh formula (module docstring)."""
    return Gelu.apply(x, approximate=bool(approximate))


def swish(x):
    """x * sigmoid(x) (also called silu)."""
    return Swish.apply(x)


silu = swish


def selu(x):
    """Scaled exponential linear unit: SELU_SCALE * elu(x, SELU_ALPHA)."""
    return SELU_SCALE * elu(x, alpha=SELU_ALPHA)


def mish(x):
    """x * tanh(softplus(x))."""
    return x * tanh(softplus(x))


def hard_sigmoid(x):
    """Piecewise linear sigmoid, Keras 3's: 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between."""
    return clip(x / 6 + 0.5, 0.0, 1.0)
