"""Activation functions: relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax."""

import functools

import numpy as np

from striate.core.function import Function, unbroadcast
from striate.ops import activation_loops
from striate.ops.chunked import elementwise

COMPILED_DTYPES = (np.float32, np.float64)  # what the compiled loops take (numba has no float16 arrays)


def _compiled_loop_takes(*arrays):
    """Whether the arrays (the last one the output, None for none) can go to a compiled loop over flat arrays:
    contiguous float32 or float64 arrays of one shape and dtype."""
    first = arrays[0]
    return all(array is not None and array.shape == first.shape and array.dtype == first.dtype
               and array.flags.c_contiguous for array in arrays) and first.dtype in COMPILED_DTYPES


def relu_values(x, out=None):
    """max(x, 0) in x's dtype; fmax, not maximum, so that a NaN input still gives 0."""
    return np.fmax(x, 0, out=out)


def relu_gradient(grad, y, out=None):
    """dLoss/dx from dLoss/dy and the output y: grad * (1 where x > 0, i.e. where y > 0, else 0), into `out` or
    one new array: one compiled pass when grad, y and out are contiguous float32 or float64 arrays of one shape and
    dtype (`activation_loops.relu_gradient`), else NumPy's comparison and multiply (a mask, then a pass reading it)."""
    if _compiled_loop_takes(grad, y, out):
        activation_loops.relu_gradient(grad.reshape(-1), y.reshape(-1), out.reshape(-1), grad.dtype.type(1))
        return out
    return np.multiply(grad, y > 0, out=out)


def tanh_values(x, out=None):
    return np.tanh(x, out=out)


def tanh_gradient(grad, y, out=None):
    """grad * (1 - y^2), into `out` or one new array."""
    result = np.multiply(y, y, out=out)
    np.subtract(1, result, out=result)
    return np.multiply(grad, result, out=result)


def sigmoid_values(x, out=None):
    """1 / (1 + e^-x) by NumPy's vector exp and three passes into `out` (or one new array): scipy's expit, one
    scalar call per value, took 3 to 5 times as long (512 Ki float32 values: 1.9-3.6 ms against 0.73). Where e^-x
    overflows (x below -88.7 in float32) the result is 0, within 3e-39 of the exact value; NaN stays NaN."""
    result = np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(result, out=result)
    result += 1
    return np.reciprocal(result, out=result)


def sigmoid_gradient(grad, y, out=None):
    """grad * y (1 - y), into `out` or one new array."""
    result = np.subtract(1, y, out=out)
    np.multiply(result, y, out=result)
    return np.multiply(grad, result, out=result)


# Activations whose gradient is a function of their output: (values(x, out=None), gradient(grad, y, out=None)).
# Another op (the convolution) can apply them in place to its fresh output and keep only that output for its
# backward.
IN_PLACE_ACTIVATIONS = {
    "relu": (relu_values, relu_gradient),
    "tanh": (tanh_values, tanh_gradient),
    "sigmoid": (sigmoid_values, sigmoid_gradient),
}


class ReLU(Function):
    """max(x, 0); gradient 1 where x > 0, else 0. Each pass cut into chunks of images for striate's threads."""

    def forward(self, x):
        self.result = elementwise(relu_values, x, streaming=True)
        return self.result

    def backward(self, grad):
        return (elementwise(relu_gradient, grad, self.result, streaming=True),)


def add_relu_values(a, b, out=None):
    """max(a + b, 0) (0 for NaN, as relu_values), into `out` or one new array: one compiled pass when a, b and out
    are contiguous float32 or float64 arrays of one shape and dtype (`activation_loops.add_relu`), else NumPy's add
    and fmax."""
    if _compiled_loop_takes(a, b, out):
        activation_loops.add_relu(a.reshape(-1), b.reshape(-1), out.reshape(-1))
        return out
    total = np.add(a, b, out=out)
    return np.fmax(total, 0, out=total)


class AddReLU(Function):
    """max(a + b, 0): a residual connection and the relu after it in one pass (broadcasting as add); the
    gradient dz = dy where the output > 0, else 0, goes to both inputs."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        self.result = elementwise(add_relu_values, a, b, streaming=True)
        return self.result

    def backward(self, grad):
        dz = elementwise(relu_gradient, grad, self.result, streaming=True)
        return unbroadcast(dz, self.shapes[0]), unbroadcast(dz, self.shapes[1])


def leaky_relu_values(x, slope, out=None):
    """x where x > 0, else slope * x, into `out` or one new array (contiguous): one compiled pass."""
    out = np.empty_like(x) if out is None else out
    activation_loops.leaky_relu(x.reshape(-1), slope, out.reshape(-1))
    return out


def leaky_relu_gradient(grad, x, slope, out=None):
    """grad where x > 0, else slope * grad, into `out` or one new array (contiguous): one compiled pass."""
    out = np.empty_like(grad) if out is None else out
    activation_loops.leaky_relu_gradient(grad.reshape(-1), x.reshape(-1), slope, out.reshape(-1))
    return out


class LeakyReLU(Function):
    """x where x > 0, else negative_slope * x; gradient 1 where x > 0, else negative_slope. One compiled pass each
    way (`activation_loops.leaky_relu`), on the chunks of the batch."""

    def forward(self, x, negative_slope):
        self.x, self.slope = np.ascontiguousarray(x), x.dtype.type(negative_slope)
        return elementwise(functools.partial(leaky_relu_values, slope=self.slope), self.x, streaming=True)

    def backward(self, grad):
        grad = np.ascontiguousarray(grad, dtype=self.x.dtype)
        return (elementwise(functools.partial(leaky_relu_gradient, slope=self.slope), grad, self.x, streaming=True),)


class ELU(Function):
    """x where x > 0, else alpha * (e^x - 1); there the gradient is alpha * e^x = output + alpha."""

    def forward(self, x, alpha):
        self.alpha = alpha
        self.positive = x > 0
        self.negative_part = alpha * np.expm1(np.minimum(x, 0))
        return np.where(self.positive, x, self.negative_part)

    def backward(self, grad):
        return (np.where(self.positive, grad, grad * (self.negative_part + self.alpha)),)


class Sigmoid(Function):
    """1 / (1 + e^-x), computed without overflow; gradient s (1 - s)."""

    def forward(self, x):
        self.result = elementwise(sigmoid_values, x)
        return self.result

    def backward(self, grad):
        return (elementwise(sigmoid_gradient, grad, self.result),)


class Tanh(Function):
    """tanh x; gradient 1 - tanh^2 x."""

    def forward(self, x):
        self.result = elementwise(tanh_values, x)
        return self.result

    def backward(self, grad):
        return (elementwise(tanh_gradient, grad, self.result),)


class Softmax(Function):
    """e^x_i / sum_j e^x_j along `axis` (shifted by the max for stability); dx = s (g - sum(g s))."""

    def forward(self, x, axis):
        self.axis = axis
        if x.ndim and axis in (-1, x.ndim - 1) and x.size and _compiled_loop_takes(x):
            # along the last axis of contiguous floats: rows of one compiled loop (`activation_loops.softmax_rows`)
            result = np.empty_like(x)
            activation_loops.softmax_rows(x.reshape(-1, x.shape[-1]), result.reshape(-1, x.shape[-1]))
        else:
            shifted = x - x.max(axis=axis, keepdims=True)  # fresh: exp and the division go in place
            result = np.exp(shifted, out=shifted) if shifted.dtype.kind == "f" else np.exp(shifted)
            result /= result.sum(axis=axis, keepdims=True)
        self.result = result
        return result

    def backward(self, grad):
        s = self.result
        return (s * (grad - np.sum(grad * s, axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """x_i - log sum_j e^x_j along `axis`; dx = g - softmax * sum(g)."""

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - np.max(x, axis=axis, keepdims=True)
        result = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        self.softmax = np.exp(result)
        return result

    def backward(self, grad):
        return (grad - self.softmax * np.sum(grad, axis=self.axis, keepdims=True),)


def relu(x):
    """max(x, 0)."""
    return ReLU.apply(x)


def add_relu(a, b):
    """relu(a + b), one op (see AddReLU)."""
    return AddReLU.apply(a, b)


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise (Keras' default slope 0.2)."""
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (e^x - 1) otherwise."""
    return ELU.apply(x, alpha=alpha)


def sigmoid(x):
    """1 / (1 + e^-x)."""
    return Sigmoid.apply(x)


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def softmax(x, axis=-1):
    """Probabilities along `axis`: e^x_i / sum_j e^x_j."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)), computed stably."""
    return LogSoftmax.apply(x, axis=axis)
