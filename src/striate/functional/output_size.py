"""The arithmetic of a convolution's output size, public because the lectures teach it.

For one spatial axis with input length n, kernel size k, stride s, dilation d and p_before + p_after
cells of padding, the kernel spans k_eff = d(k - 1) + 1 cells and the output has

    out = floor((n + p_before + p_after - k_eff) / s) + 1          (the lectures' floor((n + 2p - f) / s) + 1)

positions. Padding words:
    "valid"  no padding;
    "same"   TensorFlow's rule: out = ceil(n / s), total padding max((out - 1) s + k_eff - n, 0),
             half before, the odd cell after;
    "full"   k_eff - 1 cells on each side: every position where the kernel overlaps the input.
"""

import math
import numbers
from typing import Any, TypeGuard

PADDING_WORDS = ("valid", "same", "full")


def effective_kernel_size(kernel_size: int, dilation_rate: int = 1) -> int:
    """Cells spanned by a dilated kernel: d(k - 1) + 1."""
    return dilation_rate * (kernel_size - 1) + 1


def padding_pair(padding: str | int | tuple[int, int], n: int, kernel_size: int, strides: int = 1,
                 dilation_rate: int = 1, op: str = "conv_output_length") -> tuple[int, int]:
    """(before, after) padding of one axis from a word, an int p, or a (before, after) pair."""
    k_eff = effective_kernel_size(kernel_size, dilation_rate)
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return 0, 0
        if word == "full":
            return k_eff - 1, k_eff - 1
        if word == "same":
            out = math.ceil(n / strides)
            total = max((out - 1) * strides + k_eff - n, 0)
            return total // 2, total - total // 2
        raise ValueError(
            f"{op}: unknown padding {padding!r}; expected 'valid', 'same', 'full', an int, "
            "one int per spatial axis, or one (before, after) pair per spatial axis"
        )
    if is_int(padding):
        before = after = int(padding)
    elif isinstance(padding, tuple | list) and len(padding) == 2 and all(is_int(p) for p in padding):
        before, after = int(padding[0]), int(padding[1])
    else:
        raise TypeError(f"{op}: padding of one axis must be a word, an int or a (before, after) pair; "
                        f"received {padding!r}")
    if before < 0 or after < 0:
        raise ValueError(f"{op}: padding must be non-negative; received {padding!r}")
    return before, after


def conv_output_length(n: int, kernel_size: int, strides: int = 1, padding: str | int | tuple[int, int] = 0,
                       dilation_rate: int = 1, op: str = "conv_output_length") -> int:
    """Output length of a convolution or pooling along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1.

    Args:
        n: input length. kernel_size: k. strides: s. dilation_rate: d.
        padding: an int p (p cells each side), a (before, after) pair, or "valid", "same", "full".

    Raises ValueError, showing the formula, when the kernel does not fit (the result would be < 1).

    >>> conv_output_length(7, 3, strides=2, padding=1)    # floor((7 + 2 - 3) / 2) + 1
    4
    >>> conv_output_length(227, 11, strides=4)             # AlexNet's first layer
    55
    """
    _check_positive(op, n=n, kernel_size=kernel_size, strides=strides, dilation_rate=dilation_rate)
    before, after = padding_pair(padding, n, kernel_size, strides, dilation_rate, op)
    k_eff = effective_kernel_size(kernel_size, dilation_rate)
    out = (n + before + after - k_eff) // strides + 1
    if out < 1:
        raise ValueError(f"{op}: a kernel of {k_eff} cells does not fit an input of {n} with padding "
                         f"{before + after}: {output_formula(n, before + after, k_eff, strides)}")
    return out


def output_formula(n: int, total_padding: int, k_eff: int, strides: int) -> str:
    """The lectures' formula filled in, e.g. 'floor((3 + 0 - 5) / 1) + 1 = -1'."""
    out = (n + total_padding - k_eff) // strides + 1
    return f"floor(({n} + {total_padding} - {k_eff}) / {strides}) + 1 = {out}"


def conv_transpose_output_length(n: int, kernel_size: int, strides: int = 1,
                                 padding: str | int | tuple[int, int] = "valid", output_padding: int | None = None,
                                 dilation_rate: int = 1, op: str = "conv_transpose_output_length") -> int:
    """Output length of a transposed convolution along one axis, by Keras' rule (k_eff = d(k-1) + 1):

        output_padding None:  "valid": n s + max(k_eff - s, 0);  "same": n s;  "full": n s - (s + k_eff - 2);
                              p or (before, after): (n - 1) s + k_eff - before - after
        output_padding q:     (n - 1) s + k_eff - before - after + q, where "same" counts k_eff // 2
                              on each side, "valid" 0 and "full" k_eff - 1.

    >>> conv_transpose_output_length(3, 3)      # the lectures' 3x3 input, 3x3 filter -> 5x5
    5
    """
    _check_positive(op, n=n, kernel_size=kernel_size, strides=strides, dilation_rate=dilation_rate)
    k_eff = effective_kernel_size(kernel_size, dilation_rate)
    word = padding.lower() if isinstance(padding, str) else None
    if word is not None and word not in PADDING_WORDS:
        padding_pair(padding, n, kernel_size, op=op)  # raises the unknown-word error
    if output_padding is None:
        if word == "valid":
            return n * strides + max(k_eff - strides, 0)
        if word == "same":
            return n * strides
        output_padding = 0
    if not is_int(output_padding) or not 0 <= output_padding < strides:
        raise ValueError(f"{op}: output_padding must be an int with 0 <= output_padding < stride "
                         f"({strides}); received {output_padding!r}")
    if word == "same":
        before = after = k_eff // 2
    else:
        before, after = padding_pair(padding, n, kernel_size, strides, dilation_rate, op)
    length = (n - 1) * strides + k_eff - before - after + output_padding
    if length < 1:
        raise ValueError(f"{op}: padding {before + after} removes the whole output: "
                         f"({n} - 1) * {strides} + {k_eff} - {before + after} + {output_padding} = {length}")
    return length


def is_int(value: Any) -> TypeGuard[int]:
    """An int or a NumPy integer, but not a bool."""
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))


def _check_positive(op: str, **values: Any) -> None:
    for name, value in values.items():
        if not is_int(value) or value < 1:
            raise ValueError(f"{op}: {name} must be a positive int; received {value!r}")
