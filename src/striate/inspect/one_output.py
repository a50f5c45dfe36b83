"""The arithmetic of one output value: the window under the kernel, cell by cell, multiplied and added."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def arithmetic_of_one_output(image: ArrayLike, kernel: ArrayLike, row: int, column: int, stride: int = 1) -> str:
    """Write out how output[row, column] of a single-channel, valid cross-correlation is computed.

    Args:
        image: (H, W) array. kernel: (kh, kw) array. stride: the step between windows.

    >>> arithmetic_of_one_output(np.eye(2), np.ones((2, 2)), 0, 0)
    '1*1 + 0*1 + 0*1 + 1*1 = 2'
    """
    image, kernel = np.asarray(image), np.asarray(kernel)
    kh, kw = kernel.shape
    top, left = row * stride, column * stride
    window = image[top : top + kh, left : left + kw]
    if window.shape != kernel.shape:
        raise ValueError(f"arithmetic_of_one_output: the {kh}x{kw} kernel at output ({row}, {column}) with stride "
                         f"{stride} hangs over the {image.shape[0]}x{image.shape[1]} image")
    terms = " + ".join(f"{_number(a)}*{_number(w)}" for a, w in zip(window.ravel(), kernel.ravel()))
    return f"{terms} = {_number(np.sum(window * kernel))}"


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
