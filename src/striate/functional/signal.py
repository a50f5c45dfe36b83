"""True convolution beside cross-correlation, on plain N-d arrays (no batch, no channels).

The lectures contrast the two:
    correlate:  y[i] = sum_k x[i + k] w[k]              (what CNN layers compute and call "convolution")
    convolve:   y[i] = sum_k x[i + k] w[K - 1 - k]      (the mathematical convolution: the kernel flipped)
so convolve(x, w) == correlate(x, flip(w)), and the two agree exactly when w is symmetric under the flip.

Modes, as scipy.signal: "valid" (only where the kernel fits inside x: n - k + 1 cells), "full" (every
overlap: n + k - 1 cells), "same" (n cells, the centre of "full": padding ceil((k-1)/2) before and
floor((k-1)/2) after).
"""

from typing import Literal

from numpy.typing import ArrayLike

from striate.core.tensor import Tensor, as_tensor
from striate.core.types import Padding
from striate.functional.arguments import check_numeric
from striate.functional.convolution import _conv
from striate.ops import getitem, reshape

MODES = ("valid", "same", "full")

Mode = Literal["valid", "same", "full"]


def correlate(x: ArrayLike, kernel: ArrayLike, mode: Mode = "valid") -> Tensor:
    """Cross-correlation of an N-d array with an N-d kernel (scipy.signal.correlate's definition).

    >>> correlate(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])).numpy()
    array([-2., -2.])
    """
    return _sliding_product("correlate", x, kernel, mode, flip=False)


def convolve(x: ArrayLike, kernel: ArrayLike, mode: Mode = "valid") -> Tensor:
    """Mathematical convolution of an N-d array with an N-d kernel: the kernel is flipped on every axis.

    >>> convolve(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])).numpy()
    array([2., 2.])
    """
    return _sliding_product("convolve", x, kernel, mode, flip=True)


def _sliding_product(op: str, x: ArrayLike, kernel: ArrayLike, mode: str, flip: bool) -> Tensor:
    check_numeric(op, "x", x)
    check_numeric(op, "kernel", kernel)
    x, weights = as_tensor(x), as_tensor(kernel)
    if mode not in MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected 'valid', 'same' or 'full'")
    if x.ndim != weights.ndim or x.ndim not in (1, 2, 3):
        raise ValueError(f"{op}: x and kernel must have the same rank, 1, 2 or 3; received shapes {x.shape} and "
                         f"{weights.shape}")
    if flip:
        weights = getitem(weights, (slice(None, None, -1),) * weights.ndim)
    padding: Padding
    if mode == "same":
        padding = [((k - 1) - (k - 1) // 2, (k - 1) // 2) for k in weights.shape]
    else:
        padding = mode
    rank = x.ndim
    batch_of_one = reshape(x, (1, *x.shape, 1))
    one_filter = reshape(weights, (*weights.shape, 1, 1))
    result = _conv(op, rank, batch_of_one, one_filter, None, 1, padding, 1, 1, "zeros", "auto")
    return reshape(result, result.shape[1:-1])
