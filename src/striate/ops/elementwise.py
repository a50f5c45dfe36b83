"""Elementwise functions: exp, log, sqrt, abs, and the choosers maximum, minimum, where, clip."""

import numpy as np

from striate.core.function import Function, unbroadcast


class Exp(Function):
    def forward(self, x):
        self.result = np.exp(x)
        return self.result

    def backward(self, grad):
        return (grad * self.result,)


class Log(Function):
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, grad):
        return (grad / self.x,)


class Sqrt(Function):
    def forward(self, x):
        self.result = np.sqrt(x)
        return self.result

    def backward(self, grad):
        return (grad / (2 * self.result),)


class Abs(Function):
    """|x|; the gradient at 0 is 0, as PyTorch."""

    def forward(self, x):
        self.sign = np.sign(x)
        return np.abs(x)

    def backward(self, grad):
        return (grad * self.sign,)


class Maximum(Function):
    """Elementwise max(a, b); where a == b each side gets half of the gradient, as PyTorch."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        self.a_share = (a > b) + 0.5 * (a == b)
        return np.maximum(a, b)

    def backward(self, grad):
        return unbroadcast(grad * self.a_share, self.shapes[0]), unbroadcast(grad * (1 - self.a_share), self.shapes[1])


class Minimum(Function):
    """Elementwise min(a, b); ties split the gradient evenly, as PyTorch."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        self.a_share = (a < b) + 0.5 * (a == b)
        return np.minimum(a, b)

    def backward(self, grad):
        return unbroadcast(grad * self.a_share, self.shapes[0]), unbroadcast(grad * (1 - self.a_share), self.shapes[1])


class Where(Function):
    """condition ? a : b, broadcasting all three; `condition` is a constant boolean array."""

    def forward(self, a, b, condition):
        self.shapes, self.condition = (a.shape, b.shape), condition
        return np.where(condition, a, b)

    def backward(self, grad):
        zero = np.zeros((), grad.dtype)
        return (
            unbroadcast(np.where(self.condition, grad, zero), self.shapes[0]),
            unbroadcast(np.where(self.condition, zero, grad), self.shapes[1]),
        )


class Clip(Function):
    """min(max(x, low), high); the gradient passes where low <= x <= high, as torch.clamp."""

    def forward(self, x, low, high):
        self.inside = (x >= low) & (x <= high)
        return np.clip(x, low, high)

    def backward(self, grad):
        return (grad * self.inside,)


def exp(x):
    """e ** x."""
    return Exp.apply(x)


def log(x):
    """Natural logarithm."""
    return Log.apply(x)


def sqrt(x):
    """Square root."""
    return Sqrt.apply(x)


def abs(x):  # noqa: A001 (the mathematical name)
    """|x|."""
    return Abs.apply(x)


def maximum(a, b):
    """Elementwise maximum, broadcasting."""
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum, broadcasting."""
    return Minimum.apply(a, b)


def where(condition, a, b):
    """Elements of `a` where `condition` holds, else of `b` (broadcasting)."""
    return Where.apply(a, b, condition=np.asarray(condition, dtype=bool))


def clip(x, min_value, max_value):
    """Limit values to [min_value, max_value] (either may be None for no bound)."""
    low = -np.inf if min_value is None else min_value
    high = np.inf if max_value is None else max_value
    if low > high:
        raise ValueError(f"clip: min_value must not exceed max_value; received min_value={low}, max_value={high}")
    return Clip.apply(x, low=low, high=high)
