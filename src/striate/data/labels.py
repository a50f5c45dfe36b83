"""Class labels as one-hot rows: `to_categorical`, as keras.utils.to_categorical."""

import numpy as np


def to_categorical(x, num_classes=None):
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
    if values.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: class labels must be integers; received dtype {values.dtype}")
    labels = values.astype(np.int64)
    if values.dtype.kind == "f" and not np.array_equal(labels, values):
        raise ValueError(f"to_categorical: class labels must be whole numbers; received e.g. "
                         f"{values[labels != values].flat[0]}")
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must lie in [0, num_classes) = [0, {num_classes}); received labels "
                         f"from {labels.min()} to {labels.max()}")
    return (labels[..., None] == np.arange(num_classes)).astype(np.float32)
