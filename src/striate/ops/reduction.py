"""Reductions: sum, mean and max over some axes (all axes when axis is None)."""

import numpy as np

from striate.core.function import Function


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for a in axes:
        if not -ndim <= a < (ndim or 1):
            raise ValueError(f"reduction: axis {a} is out of range for an array of rank {ndim}")
    return tuple(sorted(a % (ndim or 1) for a in axes))


def _expand_reduced(grad, axes, keepdims):
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts over the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    def forward(self, x, axes, keepdims):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        return np.sum(x, axis=axes, keepdims=keepdims)

    def backward(self, grad):
        return (np.broadcast_to(_expand_reduced(grad, self.axes, self.keepdims), self.shape),)


class Mean(Function):
    def forward(self, x, axes, keepdims):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        self.count = int(np.prod([x.shape[a] for a in axes]))
        return np.mean(x, axis=axes, keepdims=keepdims)

    def backward(self, grad):
        expanded = _expand_reduced(grad, self.axes, self.keepdims) / self.count
        return (np.broadcast_to(expanded, self.shape),)


class Max(Function):
    """Maximum over axes; tied maxima share the gradient equally (as torch.amax)."""

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        result = np.max(x, axis=axes, keepdims=True)
        winners = x == result
        self.share = winners / winners.sum(axis=axes, keepdims=True)
        return result if keepdims else np.squeeze(result, axis=axes)

    def backward(self, grad):
        return (_expand_reduced(grad, self.axes, self.keepdims) * self.share,)


def sum(x, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    """Sum over `axis` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axes=_normalize_axes(axis, np.ndim(x)), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over `axis`."""
    return Mean.apply(x, axes=_normalize_axes(axis, np.ndim(x)), keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    """Maximum over `axis`."""
    return Max.apply(x, axes=_normalize_axes(axis, np.ndim(x)), keepdims=keepdims)
