"""Mini-batches over a data set held in NumPy arrays."""

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Batch = tuple[NDArray[Any], NDArray[Any]]


def iterate_batches(x: ArrayLike, y: ArrayLike, batch_size: int, shuffle: bool = True,
                    seed: int | np.random.Generator | None = None, drop_last: bool = False) -> Iterator[Batch]:
    """Yield ``(x_batch, y_batch)`` pairs covering every sample exactly once (one epoch).

    Shape:
        x (N, ...) and y (N, ...) with the same N; each batch is (batch_size, ...), except the last,
        which holds the remaining ``N % batch_size`` samples unless ``drop_last`` drops it.

    Args:
        x, y: arrays indexed along their first axis.
        batch_size: samples per batch, a positive integer.
        shuffle: visit samples in a random order drawn from ``numpy.random.default_rng(seed)``;
            otherwise in order. Default True.
        seed: None (fresh randomness), an int (a repeatable order), or a ``numpy.random.Generator``
            (drawn from, so successive epochs differ). Default None.
        drop_last: skip a final batch smaller than ``batch_size``. Default False.

    Example:
        >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> [y_batch.tolist() for _, y_batch in iterate_batches(x, y, 2, shuffle=False)]
        [[0, 1], [2, 3], [4]]
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must hold the same number of samples; received len(x)={len(x)}, "
                         f"len(y)={len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; received {batch_size!r}")
    order = np.random.default_rng(seed).permutation(len(x)) if shuffle else np.arange(len(x))
    return _batches(x, y, order, batch_size, drop_last)


def _batches(x: NDArray[Any], y: NDArray[Any], order: NDArray[np.integer[Any]], batch_size: int,
             drop_last: bool) -> Iterator[Batch]:
    # a separate generator so that iterate_batches validates its arguments when called, not at first next()
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        indices = order[start:start + batch_size]
        yield x[indices], y[indices]
