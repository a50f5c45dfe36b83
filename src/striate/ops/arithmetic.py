"""Arithmetic with NumPy broadcasting: add, sub, mul, div, pow, neg, matmul.

Each backward undoes broadcasting with `unbroadcast`, so `(3, 1, 4) + (4,)` hands each operand a
gradient of its own shape.
"""

import numpy as np

from striate.algorithms import chunking
from striate.core.function import Function, unbroadcast
from striate.ops.chunked import each_chunk, rows


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        contiguous = a.flags.c_contiguous and b.flags.c_contiguous
        if a.shape != b.shape or a.ndim < 2 or a.dtype != b.dtype or not contiguous:
            return a + b
        # two batches of one shape (a residual connection): the sum cut into chunks of images for the threads
        out = np.empty_like(a)
        rows_a, rows_b, rows_out = rows(a), rows(b), rows(out)
        each_chunk(a, lambda part: np.add(rows_a[part], rows_b[part], out=rows_out[part]), streaming=True)
        return out

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(-grad, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        grad_a = unbroadcast(grad * self.b, self.a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * self.a, self.b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        grad_a = unbroadcast(grad / self.b, self.a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad * self.a / (self.b * self.b), self.b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Function):
    """a ** b.  d/da = b * a^(b-1);  d/db = a^b * ln(a)."""

    def forward(self, base, exponent):
        self.base, self.exponent = base, exponent
        self.result = np.power(base, exponent)
        return self.result

    def backward(self, grad):
        grad_base = grad_exponent = None
        if self.needs_input_grad[0]:
            grad_base = unbroadcast(grad * self.exponent * np.power(self.base, self.exponent - 1), self.base.shape)
        if self.needs_input_grad[1]:
            grad_exponent = unbroadcast(grad * self.result * np.log(self.base), self.exponent.shape)
        return grad_base, grad_exponent


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class MatMul(Function):
    """a @ b as NumPy's matmul: 1-D operands are promoted to a row / a column; leading axes broadcast."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return chunking.matmul(a, b) if a.ndim == b.ndim == 2 else a @ b

    def backward(self, grad):
        a, b = self.a, self.b
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if a.ndim == b.ndim == 2:  # the dense layers: row blocks on the workers during a training step
            grad_a = chunking.matmul(grad, b.T) if self.needs_input_grad[0] else None
            grad_b = chunking.matmul(a.T, grad) if self.needs_input_grad[1] else None
            return grad_a, grad_b
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def add(a, b):
    """a + b, broadcasting."""
    return Add.apply(a, b)


def sub(a, b):
    """a - b, broadcasting."""
    return Sub.apply(a, b)


def mul(a, b):
    """a * b elementwise, broadcasting."""
    return Mul.apply(a, b)


def div(a, b):
    """a / b elementwise, broadcasting."""
    return Div.apply(a, b)


def pow(base, exponent):  # noqa: A001 (the mathematical name)
    """base ** exponent elementwise, broadcasting."""
    return Pow.apply(base, exponent)


def neg(a):
    """-a."""
    return Neg.apply(a)


def matmul(a, b):
    """a @ b (NumPy matmul semantics)."""
    return MatMul.apply(a, b)
