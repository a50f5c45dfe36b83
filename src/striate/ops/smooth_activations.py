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
from numba import njit
from scipy.special import erf

from striate.core.function import Function
from striate.ops.activations import elu, sigmoid_values, tanh
from striate.ops.chunked import elementwise
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
    """x Phi(x) with Phi the standard normal CDF, exactly (erf) or by Hendrycks & Gimpel's tanh formula.

    The exact form's Phi(x) = (1 + erf(x / sqrt 2)) / 2 comes, for float32, from one compiled vector loop with a
    rational erf (`_normal_cdf_float32`: Phi within 2.2e-7 in float32 arithmetic, a few float32 steps near 1;
    tested against PyTorch's gelu in float32), and for float64 from scipy's erf (scalar, exact to float64): 512 Ki
    float32 values 5.5-9 ms -> 0.5 ms (PyTorch 0.2-0.3). The passes run on the chunks of the batch (`elementwise`).
    """

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate:
            self.inner = np.tanh(math.sqrt(2 / math.pi) * (x + GELU_CUBIC * x**3))
            return (0.5 * x * (1 + self.inner)).astype(x.dtype)
        if x.dtype == np.float32:
            self.x = x = np.ascontiguousarray(x)
            self.cdf = elementwise(normal_cdf_float32, x)
            return elementwise(np.multiply, x, self.cdf)
        self.cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        return (x * self.cdf).astype(x.dtype)

    def backward(self, grad):
        x = self.x
        if self.approximate:
            # d/dx [x (1 + t) / 2] = (1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2
            t = self.inner
            derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * GELU_CUBIC * x * x)
            return ((grad * derivative).astype(grad.dtype),)
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


def normal_cdf_float32(x, out=None):
    """Phi(x) of float32 x (contiguous) into `out` or one new array: one compiled vector loop
    (`_normal_cdf_float32`)."""
    out = np.empty_like(x) if out is None else out
    _normal_cdf_float32(x.reshape(-1), out.reshape(-1))
    return out


# erf(z) ~ z P(z^2) / Q(z^2) on [-4, 4] (erf(4) is 1 in float32), the rational approximation of Eigen's
# generic_fast_erf_float: within 6.5e-8 of erf evaluated in float64, 4.4e-7 in float32
ERF_NUMERATOR = (-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05,
                 -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10)
ERF_DENOMINATOR = (-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04,
                   -1.45660718464996e-05)


@njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _normal_cdf_float32(x, cdf):
    """cdf = Phi(x) = (1 + erf(x / sqrt 2)) / 2 over flat float32 arrays, erf by the rational approximation above in
    float32 arithmetic (the loop vectorizes: no call, and `error_model="numpy"` lets the division be IEEE's)."""
    a1, a3, a5, a7, a9, a11, a13 = [np.float32(value) for value in ERF_NUMERATOR]
    b0, b2, b4, b6, b8 = [np.float32(value) for value in ERF_DENOMINATOR]
    four, half, one = np.float32(4), np.float32(0.5), np.float32(1)
    scale = np.float32(1 / math.sqrt(2))
    for i in range(x.shape[0]):
        z = min(max(x[i] * scale, -four), four)
        z2 = z * z
        numerator = z * (a1 + z2 * (a3 + z2 * (a5 + z2 * (a7 + z2 * (a9 + z2 * (a11 + z2 * a13))))))
        denominator = b0 + z2 * (b2 + z2 * (b4 + z2 * (b6 + z2 * b8)))
        cdf[i] = half * (one + numerator / denominator)


def swish_gradient(grad, x, s, out=None):
    """grad * s (1 + x (1 - s)), s = sigmoid(x), in place in `out` (or one new array)."""
    derivative = np.subtract(1, s, out=out, dtype=s.dtype)
    derivative *= x
    derivative += 1
    derivative *= s
    derivative *= grad
    return derivative


class Swish(Function):
    """x sigmoid(x) as one op: the sigmoid by `sigmoid_values`, the gradient s (1 + x (1 - s)) in four in-place
    passes (as a product of ops, the sigmoid's and the product's backward and the sum of x's two gradients); each
    pass on the chunks of the batch (`elementwise`)."""

    def forward(self, x):
        self.x = np.ascontiguousarray(x)
        self.sigmoid = elementwise(sigmoid_values, self.x)
        return elementwise(np.multiply, self.x, self.sigmoid)

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.x.dtype)
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
