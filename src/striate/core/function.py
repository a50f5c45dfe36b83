"""`Function`: the base of every primitive op.

An op subclasses Function and writes two methods side by side:

- `forward(*arrays, **options)` computes the result with NumPy and keeps on `self` what backward needs;
- `backward(grad)` receives dLoss/dOutput and returns one gradient per tensor input (None where the
  input needs none).

`Op.apply(*inputs, **options)` runs forward and, when any input requires a gradient, links the output to
the op so that `Tensor.backward()` can call the op's backward later. Nothing else in striate computes
gradients: layers and models are compositions of ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate.core.runtime import is_grad_enabled


class Function:
    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]

    def forward(self, *arrays: np.ndarray, **options: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        tensors = inputs if all([type(value) is Tensor for value in inputs]) else operands_as_tensors(inputs)
        op = cls()
        op.needs_input_grad = needs_input_grad = tuple([t.requires_grad for t in tensors])
        data = op.forward(*[t.data for t in tensors], **options)
        if True in needs_input_grad and is_grad_enabled():
            op.inputs = tensors
            return Tensor._from_op(data, op)
        return Tensor._from_op(data, None)  # no graph: the op, and all it kept for backward, goes now


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo NumPy broadcasting: sum `grad` down to `shape` (the operand's shape before broadcasting)."""
    extra_leading_axes = grad.ndim - len(shape)
    if extra_leading_axes > 0:
        grad = sum_leading_axes(grad, extra_leading_axes)
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def sum_leading_axes(array: np.ndarray, count: int) -> np.ndarray:
    """`array.sum(axis=(0, ..., count - 1))`, as the bias gradient needs it: (N, H, W, C) -> (C,).

    For floats it is one matrix product, ones (R,) @ array as (R, rest): NumPy's sum over leading axes runs
    its inner loop along the short trailing axes (C = 6 floats for LeNet's first layer) and is ten times slower.
    """
    if array.dtype.kind != "f" or not array.flags.c_contiguous or array.size == 0:
        return array.sum(axis=tuple(range(count)))
    rows = math.prod(array.shape[:count])
    return (np.ones(rows, dtype=array.dtype) @ array.reshape(rows, -1)).reshape(array.shape[count:])


# Tensor's operators call ops, which subclass Function: the import comes last, once Function is defined, so either
# module may be imported first
from striate.core.tensor import Tensor, operands_as_tensors  # noqa: E402
