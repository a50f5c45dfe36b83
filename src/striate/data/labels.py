"""Integer indices (class labels, token ids) checked once, and one-hot rows: `to_categorical`, as Keras'."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def whole_numbers(op: str, what: str, values: NDArray[Any]) -> NDArray[np.int64]:
    """`values` as int64, refusing non-numbers and floats with a fractional part, e.g. whole_numbers("Embedding",
    "token indices", x): TypeError for a dtype that is not a number, ValueError for 2.5 (its message names `op`,
    `what` and one offending value)."""
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {what} must be integers; received dtype {values.dtype}")
    indices = values.astype(np.int64)
    if values.dtype.kind == "f" and (indices != values).any():  # NaN too: NaN != its int64
        raise ValueError(f"{op}: {what} must be whole numbers; received e.g. {values[indices != values].flat[0]}")
    return indices


def to_categorical(x: ArrayLike, num_classes: int | None = None) -> NDArray[np.float32]:
    """One-hot rows for integer class labels: result[..., c] = 1 where x == c, else 0.

    Shape:
        x (N,) or (N, ...) -> (N, ..., num_classes); a trailing axis of length 1, as in labels (N, 1), is
        dropped first, as Keras does, so (N, 1) gives (N, num_classes). float32 (Keras gives float64; striate
        computes in float32 throughout).

    Args:
        x: class indices (integers, or floats with whole values) in [0, num_classes).
        num_classes: the number of classes; default the largest label + 1.

    >>> to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    values = np.asarray(x)
    labels = whole_numbers("to_categorical", "class labels", values)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must lie in [0, num_classes) = [0, {num_classes}); received labels "
                         f"from {labels.min()} to {labels.max()}")
    return (labels[..., None] == np.arange(num_classes)).astype(np.float32)
