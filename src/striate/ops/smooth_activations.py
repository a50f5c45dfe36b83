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
from typing import Any

import numpy as np
from numba import njit
from scipy.special import erf

from striate.core.function import Function
from striate.ops.activations import elu, sigmoid_values, tanh
from striate.ops.chunked import elementwise
from striate.ops.elementwise import clip
from striate.ops.vector_exp import exp_float32

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
    """x Phi(x) with Phi the standard normal CDF, exactly (erf) or by Hendrycks & Gimpel's tanh formula.

    The exact form in float32 is one compiled vector loop each way (`_gelu_float32`, `_gelu_gradient_float32`):
    Phi from a rational erf (`_normal_cdf`: within 2.2e-7 in float32 arithmetic, a few float32 steps near 1),
    phi(x) = e^(-x^2 / 2) / sqrt(2 pi) from `exp_float32`, both recomputed from x in the backward (tested against
    PyTorch's gelu in float32); in float64 Phi comes from scipy's erf (scalar, exact to float64) and the backward's
    phi from NumPy's exp, in passes over the arrays. The passes run on the chunks of the batch (`elementwise`).
    The Activation("gelu") layer on 32 x 16x16 x 64 float32, forward + backward, one thread: 2.3-2.7 ms with the
    erf loop, a stored Phi and NumPy's exp in the gradient's passes, 1.1-1.3 ms in one loop each way.
    """

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate:
            self.inner = np.tanh(math.sqrt(2 / math.pi) * (x + GELU_CUBIC * x**3))
            return (0.5 * x * (1 + self.inner)).astype(x.dtype)
        if x.dtype == np.float32:
            self.x = x = np.ascontiguousarray(x)
            return elementwise(_flat(_gelu_float32), x)
        self.cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        return (x * self.cdf).astype(x.dtype)

    def backward(self, grad):
        x = self.x
        if self.approximate:
            # d/dx [x (1 + t) / 2] = (1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2
            t = self.inner
            derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * GELU_CUBIC * x * x)
            return ((grad * derivative).astype(grad.dtype),)
        if x.dtype == np.float32:
            return (elementwise(_flat(_gelu_gradient_float32), np.asarray(grad, dtype=np.float32), x),)
        return (elementwise(gelu_gradient, np.asarray(grad, dtype=self.cdf.dtype), x, self.cdf),)


def gelu_gradient(grad, x, cdf, out=None):
    """grad * (Phi(x) + x phi(x)), phi(x) = e^(-x^2 / 2) / sqrt(2 pi), in place in `out` (or one new array)."""
    derivative = np.multiply(x, x, out=out)
    derivative *= -0.5
    np.exp(derivative, out=derivative)
    derivative *= x
    derivative *= 1 / math.sqrt(2 * math.pi)
    derivative += cdf
    derivative *= grad
    return derivative


def _flat(loop):
    """loop(*flat arrays, flat out) as function(*arrays, out=None) for `elementwise`: contiguous float32 arrays of
    one shape, out one new array where None."""

    def function(*arrays, out=None):
        out = np.empty_like(arrays[0]) if out is None else out
        loop(*(array.reshape(-1) for array in arrays), out.reshape(-1))
        return out

    return function


# erf(z) ~ z P(z^2) / Q(z^2) on [-4, 4] (erf(4) is 1 in float32), the rational approximation of Eigen's
# generic_fast_erf_float: within 6.5e-8 of erf evaluated in float64, 4.4e-7 in float32
ERF_NUMERATOR = tuple(np.float32(value) for value in (
    -1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05,
    -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10))
ERF_DENOMINATOR = tuple(np.float32(value) for value in (
    -1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04,
    -1.45660718464996e-05))
LOOPS: dict[str, Any] = {"nogil": True, "cache": True, "boundscheck": False, "error_model": "numpy",
                         "fastmath": {"contract"}}
# no call and IEEE division (error_model="numpy"), so that the loops vectorize; multiply-adds fused


@njit(inline="always", error_model="numpy", fastmath={"contract"})
def _normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 of a float32 x, erf by the rational approximation above in float32."""
    a1, a3, a5, a7, a9, a11, a13 = ERF_NUMERATOR
    b0, b2, b4, b6, b8 = ERF_DENOMINATOR
    four = np.float32(4)
    z = min(max(x * np.float32(1 / math.sqrt(2)), -four), four)
    z2 = z * z
    numerator = z * (a1 + z2 * (a3 + z2 * (a5 + z2 * (a7 + z2 * (a9 + z2 * (a11 + z2 * a13))))))
    denominator = b0 + z2 * (b2 + z2 * (b4 + z2 * (b6 + z2 * b8)))
    return np.float32(0.5) * (np.float32(1) + numerator / denominator)


@njit(**LOOPS)
def _gelu_float32(x, out):
    """out = x Phi(x) over flat float32 arrays."""
    for i in range(x.shape[0]):
        out[i] = x[i] * _normal_cdf(x[i])


@njit(**LOOPS)
def _gelu_gradient_float32(grad, x, out):
    """out = grad (Phi(x) + x e^(-x^2 / 2) / sqrt(2 pi)) over flat float32 arrays."""
    scale = np.float32(1 / math.sqrt(2 * math.pi))
    for i in range(x.shape[0]):
        value = x[i]
        out[i] = grad[i] * (_normal_cdf(value) + value * exp_float32(np.float32(-0.5) * value * value) * scale)


@njit(**LOOPS)
def _swish_float32(x, out):
    """out = x / (1 + e^-x) = x sigmoid(x) over flat float32 arrays."""
    one = np.float32(1)
    for i in range(x.shape[0]):
        out[i] = x[i] / (one + exp_float32(-x[i]))


@njit(**LOOPS)
def _swish_gradient_float32(grad, x, out):
    """out = grad s (1 + x (1 - s)), s = sigmoid(x) recomputed from x, over flat float32 arrays."""
    one = np.float32(1)
    for i in range(x.shape[0]):
        s = one / (one + exp_float32(-x[i]))
        out[i] = grad[i] * s * (one + x[i] * (one - s))


def swish_gradient(grad, x, s, out=None):
    """grad * s (1 + x (1 - s)), s = sigmoid(x), in place in `out` (or one new array)."""
    derivative = np.subtract(1, s, out=out, dtype=s.dtype)
    derivative *= x
    derivative += 1
    derivative *= s
    derivative *= grad
    return derivative


class Swish(Function):
    """x sigmoid(x) as one op. float32: one compiled vector loop each way (`_swish_float32`, the gradient
    s (1 + x (1 - s)) with s recomputed from x: `_swish_gradient_float32`), e^-x by `exp_float32`; float64: the
    sigmoid by `sigmoid_values` (NumPy's exp), kept for the gradient's four in-place passes. Each pass on the
    chunks of the batch (`elementwise`). The Activation("swish") layer on 32 x 16x16 x 64 float32, forward +
    backward, one thread: 1.8-2.1 ms in NumPy's passes, 1.1-1.3 ms in the loops."""

    def forward(self, x):
        self.x = np.ascontiguousarray(x)
        if self.x.dtype == np.float32:
            return elementwise(_flat(_swish_float32), self.x)
        self.sigmoid = elementwise(sigmoid_values, self.x)
        return elementwise(np.multiply, self.x, self.sigmoid)

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.x.dtype)
        if self.x.dtype == np.float32:
            return (elementwise(_flat(_swish_gradient_float32), grad, self.x),)
        return (elementwise(swish_gradient, grad, self.x, self.sigmoid),)


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
