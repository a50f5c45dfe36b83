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
FEW_LAST_CELLS = 8  # reduced cell by cell when the last axis is among the reduced ones (see `_reduce`)


def _reduce(ufunc, x, axes, keepdims):
    """ufunc.reduce of x over `axes` (np.add for sum, np.maximum for max).

    NumPy's loop over several short axes in the middle of an array (a pooling window, 2x2 cells, ahead of the
    channels) runs only as many steps as those axes hold, and is slow (6x at 6 channels); over a short last axis
    (a loss's mean over an image's 3 channels) it runs one such loop per output value, slower still. When the
    reduced axes hold few cells (FEW_CELLS with the last axis kept, FEW_LAST_CELLS with it reduced), the reduction
    is done one cell at a time instead, each step a whole-array ufunc; otherwise, and over all axes (to one value),
    NumPy's own. A sum over the last axis of (32768, k) float32 values, one thread, NumPy's / cell by cell, us:
    k = 2 819 / 33, k = 3 515 / 27, k = 8 236 / 60, k = 16 142 / 97; of (4M / k, k), ms: k = 8 10.1 / 4.0,
    k = 16 5.2 / 4.3, k = 27 3.7 / 8.3.
    """
    cells = int(np.prod([x.shape[a] for a in axes]))
    if not 2 <= cells <= (FEW_LAST_CELLS if x.ndim - 1 in axes else FEW_CELLS) or len(axes) == x.ndim:
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
        if x.dtype not in (np.float32, np.float64):  # NumPy's mean: integers give float64, float16 sums in float32
            return np.mean(x, axis=axes, keepdims=keepdims)
        return _reduce(np.add, x, axes, keepdims) / self.count

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
