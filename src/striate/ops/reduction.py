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


FEW_CELLS = 27  # up to a 3x3x3 window: reduced cell by cell when the last axis is kept (see `_reduce`)


def _reduce(ufunc, x, axes, keepdims):
    """ufunc.reduce of x over `axes` (np.add for sum, np.maximum for max).

    NumPy's loop over several short axes in the middle of an array (a pooling window, 2x2 cells, ahead of the
    channels) runs only as many steps as those axes hold, and is slow (6x at 6 channels). When the reduced axes
    hold few cells and the last axis is kept, the reduction is done one cell at a time instead, each step a
    whole-array ufunc; otherwise NumPy's own.
    """
    cells = int(np.prod([x.shape[a] for a in axes]))
    if not 2 <= cells <= FEW_CELLS or x.ndim - 1 in axes:
        return ufunc.reduce(x, axis=axes, keepdims=keepdims)
    reduced_first = np.moveaxis(x, axes, tuple(range(len(axes))))  # (*reduced, *kept), a view
    cell_indices = np.ndindex(*reduced_first.shape[: len(axes)])
    result = reduced_first[next(cell_indices)].copy()
    for index in cell_indices:
        ufunc(result, reduced_first[index], out=result)
    return np.expand_dims(result, axes) if keepdims else result


def _expand_reduced(grad, axes, keepdims):
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts over the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    def forward(self, x, axes, keepdims):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        return _reduce(np.add, x, axes, keepdims)

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
        result = _reduce(np.maximum, x, axes, keepdims=True)
        self.winners = x == result
        return result if keepdims else np.squeeze(result, axis=axes)

    def backward(self, grad):
        # each winner's share of the gradient, in grad's dtype: the division runs on the reduced shape only
        ties = self.winners.sum(axis=self.axes, keepdims=True, dtype=grad.dtype)
        return (self.winners * (_expand_reduced(grad, self.axes, self.keepdims) / ties),)


def sum(x, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    """Sum over `axis` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axes=_normalize_axes(axis, np.ndim(x)), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over `axis`."""
    return Mean.apply(x, axes=_normalize_axes(axis, np.ndim(x)), keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    """Maximum over `axis`."""
    return Max.apply(x, axes=_normalize_axes(axis, np.ndim(x)), keepdims=keepdims)
