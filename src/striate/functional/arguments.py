"""Checks shared by the convolution and pooling functions, run before any work is done.

Each check raises with the op's name, what it received and, for sizes, the formula that failed.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from striate.core.tensor import Tensor
from striate.core.types import IntOrTuple, Padding, Shape
from striate.functional.output_size import effective_kernel_size, is_int, output_formula, padding_pair

LAYOUTS = {1: "(N, W, C)", 2: "(N, H, W, C)", 3: "(N, D, H, W, C)"}
KERNEL_LAYOUTS = {1: "(kw, C_in // groups, C_out)", 2: "(kh, kw, C_in // groups, C_out)",
                  3: "(kd, kh, kw, C_in // groups, C_out)"}


def check_numeric(op: str, name: str, value: Any) -> None:
    """Refuse strings, objects and other non-numbers with a TypeError naming the argument (a Tensor is numeric by
    construction)."""
    if type(value) is Tensor:
        return
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        dtype = np.asarray(value).dtype
    if np.dtype(dtype).kind not in "biuf":
        raise TypeError(f"{op}: {name} must be numeric; received an array of dtype {dtype}")


def check_input_rank(op: str, shape: Shape, rank: int) -> None:
    if len(shape) != rank + 2:
        raise ValueError(f"{op}: expects an input of rank {rank + 2} {LAYOUTS[rank]}, channels last; "
                         f"received shape {tuple(shape)}")


def per_axis(op: str, name: str, value: IntOrTuple, rank: int) -> tuple[int, ...]:
    """An int, or one int per spatial axis, as a tuple of positive ints."""
    if type(value) is int and value >= 1:  # the usual arguments, a positive int or a layer's tuple of them,
        return (value,) * rank             # pass without the general checks below
    if type(value) is tuple and len(value) == rank and all([type(v) is int and v >= 1 for v in value]):
        return value
    values = (value,) * rank if is_int(value) else value
    if not isinstance(values, tuple | list) or len(values) != rank or not all(is_int(v) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {rank} ints (one per spatial axis); received {value!r}")
    if any(v < 1 for v in values):
        raise ValueError(f"{op}: {name} must be positive; received {value!r}")
    return tuple(int(v) for v in values)


def padding_pairs(op: str, padding: Padding, spatial: Sequence[int], kernel_size: Sequence[int],
                  strides: Sequence[int], dilation: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """One (before, after) pair per spatial axis from a word, an int, one int per axis or one pair per axis.

    A 1-D operation also accepts a single (before, after) pair.
    """
    rank = len(spatial)
    per_axis_padding: list[Any]
    if isinstance(padding, str) or is_int(padding):
        per_axis_padding = [padding] * rank
    elif isinstance(padding, tuple | list) and len(padding) == rank:
        per_axis_padding = list(padding)
    elif rank == 1 and isinstance(padding, tuple | list) and len(padding) == 2:
        per_axis_padding = [tuple(padding)]
    else:
        raise ValueError(f"{op}: padding must be 'valid', 'same', 'full', an int, {rank} ints or {rank} "
                         f"(before, after) pairs; received {padding!r}")
    return tuple(
        padding_pair(p, n, k, s, d, op=op)
        for p, n, k, s, d in zip(per_axis_padding, spatial, kernel_size, strides, dilation)
    )


def check_groups(op: str, groups: int, channels_in: int, channels_out: int) -> None:
    """groups must be a positive int dividing both the input channels and the filters."""
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int; received {groups!r}")
    if channels_in % groups or channels_out % groups:
        raise ValueError(f"{op}: groups={groups} must divide both the input channels C_in={channels_in} and "
                         f"the filters C_out={channels_out}")


def check_window_fits(op: str, spatial: Sequence[int], kernel_size: Sequence[int], strides: Sequence[int],
                      dilation: Sequence[int], pads: Sequence[tuple[int, int]], what: str = "kernel") -> None:
    """Raise, with the lectures' formula, when a window is larger than the padded input on some axis."""
    for n, k, s, d, (before, after) in zip(spatial, kernel_size, strides, dilation, pads):
        k_eff = effective_kernel_size(k, d)
        if (n + before + after - k_eff) // s + 1 < 1:
            spans = _by(effective_kernel_size(size, rate) for size, rate in zip(kernel_size, dilation))
            dilated = f" with dilation_rate {tuple(dilation)} (spanning {spans} cells)" if any(
                rate > 1 for rate in dilation) else ""
            raise ValueError(
                f"{op}: a {_by(kernel_size)} {what}{dilated} does not fit a {_by(spatial)} input with padding "
                f"{_padding_text(pads)}: {output_formula(n, before + after, k_eff, s)}"
            )


def _by(sizes: Iterable[int]) -> str:
    return "x".join(str(s) for s in sizes)


def _padding_text(pads: Sequence[tuple[int, int]]) -> str:
    if all(before == after == pads[0][0] for before, after in pads):
        return str(pads[0][0])
    return str(list(pads))


_PLAIN_TYPES = (int, str, type(None))


def is_plain(arguments: tuple) -> bool:
    """Each argument is an int, a str or None, or a tuple of such or of tuples of such (padding pairs): equal ones
    are then the same argument, so a cache may key on them (1, 1.0 and True are equal, but only the first is a
    valid stride)."""
    for value in arguments:
        if type(value) is tuple:
            for item in value:
                if type(item) is tuple:
                    if not all([type(inner) in _PLAIN_TYPES for inner in item]):
                        return False
                elif type(item) not in _PLAIN_TYPES:
                    return False
        elif type(value) not in _PLAIN_TYPES:
            return False
    return True
