"""Guards against NaN and infinity: one NaN in a batch or a weight makes every weight NaN a few steps later.

Training on it is silent (the loss prints "nan", accuracy falls to chance), so striate checks:
- each training batch before its step (`check_finite_batch`): the sum of the batch is finite whenever every
  value is, so one `np.isfinite(x.sum())` per batch costs a single pass; only a non-finite sum (NaN, inf, or
  finite values whose sum overflows) pays for the element-wise check that finds the culprits;
- the weights before a model is saved (`non_finite_weights`, used by `striate.models.saving`).
"""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def count_non_finite(array: ArrayLike) -> int:
    """The number of NaN or infinite values in `array` (0 for integer arrays); cheap when there is none:
    sum(x) is finite whenever every x is, so only a non-finite sum pays for the element-wise check."""
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return 0
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return 0
    return int(array.size - np.count_nonzero(np.isfinite(array)))


def check_finite_batch(x_batch: ArrayLike, y_batch: ArrayLike | None, epoch: int, batch: int) -> None:
    """Raise ValueError if the training batch (x and, when they are floats, y) holds NaN or infinity.

    epoch and batch are 0-based (as callbacks receive them); the message counts from 1, as the progress bar.
    """
    for what, values in (("input", x_batch), ("target", y_batch)):
        if isinstance(values, list | tuple | dict):  # the inputs of a model of several inputs
            for part in values.values() if isinstance(values, dict) else values:
                check_finite_batch(part, None, epoch, batch)
            continue
        array = np.asarray(values)
        found = count_non_finite(array)
        if found:
            first = int(np.argmin(np.isfinite(array).reshape(len(array), -1).all(axis=1)))
            raise ValueError(f"fit: the {what} batch {batch + 1} of epoch {epoch + 1} (counting from 1) holds {found} "
                             f"NaN or infinite values, the first in sample {first} of the batch; training on it would "
                             f"make every weight NaN. Check the data; received a batch of shape {array.shape}")


def non_finite_weights(model: Any) -> list[tuple[str, int]]:
    """[(name, count)] for each weight of `model` holding NaN or infinite values, in model.weights order."""
    counts = ((weight.name, count_non_finite(weight.data)) for weight in model.weights)
    return [(name, count) for name, count in counts if count]
