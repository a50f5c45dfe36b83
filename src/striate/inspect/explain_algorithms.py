"""Which convolution algorithm serves a layer, how fast, with how many multiplies and how exactly."""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from striate.algorithms import ALGORITHMS, PASSES, Case, choose, multiply_count
from striate.functional.arguments import check_groups, check_window_fits, padding_pairs, per_axis
from striate.layers.layer import Layer


@dataclass
class AlgorithmRow:
    """One algorithm on one layer. Times in milliseconds (best of the repeats); None where it cannot serve."""

    name: str
    forward_ms: float | None = None
    backward_ms: float | None = None
    multiplies: int | None = None
    max_error: float | None = None
    refusal: str | None = None


@dataclass
class Explanation:
    """The rows of `explain_algorithms`, printable as a table."""

    case: Case
    auto: dict
    rows: list

    def __str__(self) -> str:
        lines = [f"convolution of padded input {self.case.input_shape} with kernel {self.case.kernel_shape}, "
                 f"strides {self.case.strides}, dilation {self.case.dilation}, groups {self.case.groups}",
                 "auto picks: " + ", ".join(f"{which} {name}" for which, name in self.auto.items()),
                 f"{'algorithm':<10} {'forward ms':>11} {'backward ms':>12} {'multiplies':>14} {'max rel error':>14}"]
        for row in self.rows:
            if row.refusal:
                lines.append(f"{row.name:<10} cannot serve: {row.refusal}")
            else:
                lines.append(f"{row.name:<10} {row.forward_ms:>11.2f} {row.backward_ms:>12.2f} {row.multiplies:>14,} "
                             f"{row.max_error:>14.1e}")
        return "\n".join(lines)


def convolution_case(layer_or_arguments: Layer | dict[str, Any], input_shape: Sequence[int]) -> Case:
    """The `Case` (padded input shape, kernel shape, strides, dilation, groups) that `algorithm="auto"` sees for a
    conv layer or a dict of conv2d-style arguments applied to an input of `input_shape` (N, *spatial, C)."""
    rank = len(input_shape) - 2
    channels = input_shape[-1]
    if isinstance(layer_or_arguments, dict):
        arguments = dict(layer_or_arguments)
    else:
        layer: Any = layer_or_arguments  # a Conv*D or DepthwiseConv2D: Layer itself has no kernel_size
        arguments = dict(kernel_size=layer.kernel_size, strides=layer.strides, padding=layer.padding,
                         dilation_rate=layer.dilation_rate)
        if hasattr(layer, "depth_multiplier") and not hasattr(layer, "filters"):
            arguments.update(filters=channels * layer.depth_multiplier, groups=channels)
        else:
            arguments.update(filters=layer.filters, groups=getattr(layer, "groups", 1))
    op = "explain_algorithms"
    kernel_size = per_axis(op, "kernel_size", arguments["kernel_size"], rank)
    strides = per_axis(op, "strides", arguments.get("strides", 1), rank)
    dilation = per_axis(op, "dilation_rate", arguments.get("dilation_rate", 1), rank)
    groups, filters = arguments.get("groups", 1), arguments["filters"]
    check_groups(op, groups, channels, filters)
    pads = padding_pairs(op, arguments.get("padding", "valid"), tuple(input_shape[1:-1]), kernel_size, strides,
                         dilation)
    check_window_fits(op, tuple(input_shape[1:-1]), kernel_size, strides, dilation, pads)
    kernel_shape = (*kernel_size, channels // groups, int(filters))
    padded = (input_shape[0], *(n + before + after for n, (before, after) in zip(input_shape[1:-1], pads)),
              channels)
    return Case(padded, kernel_shape, strides, dilation, groups)


def _best_ms(function: Callable[..., Any], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def _relative_error(value: NDArray[Any], reference: NDArray[Any]) -> float:
    return float(np.abs(value - reference).max() / max(np.abs(reference).max(), np.finfo(np.float64).tiny))


def explain_algorithms(layer_or_arguments: Layer | dict[str, Any], input_shape: Sequence[int], repeats: int = 3,
                       error_images: int = 2, seed: int = 0) -> Explanation:
    """Measure every algorithm of `striate.algorithms.ALGORITHMS` on one convolution layer.

    Args:
        layer_or_arguments: a Conv1D/2D/3D or DepthwiseConv2D layer, or a dict of conv arguments
            (filters, kernel_size, strides=1, padding="valid", dilation_rate=1, groups=1).
        input_shape: (N, *spatial, C_in) of the layer's (unpadded) input.
        repeats: timings are the best of this many runs, on float32 random data of `input_shape`.
        error_images: the error is measured in float32 on this many images against `direct` in float64
            (the direct loop is slow), as the largest |difference| / largest |reference| over the forward
            pass and both gradients.

    Returns an `Explanation`: per algorithm the forward time, the backward time (input and kernel
    gradients), the forward multiply count, and the error; or why it cannot serve the layer. print() it.

    >>> print(explain_algorithms({"filters": 8, "kernel_size": 3, "padding": "same"}, (2, 16, 16, 8)))  # doctest: +SKIP
    """
    case = convolution_case(layer_or_arguments, tuple(input_shape))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.input_shape, dtype=np.float32)
    kernel = rng.standard_normal(case.kernel_shape, dtype=np.float32)
    arguments = (case.strides, case.dilation, case.groups)
    reference = ALGORITHMS["direct"]
    small_x = x[:error_images].astype(np.float64)
    expected_y = reference.conv_forward(small_x, kernel.astype(np.float64), *arguments)
    small_grad = rng.standard_normal(expected_y.shape)
    expected = (expected_y,
                reference.conv_input_gradient(small_grad, kernel.astype(np.float64), small_x.shape, *arguments),
                reference.conv_kernel_gradient(small_x, small_grad, kernel.shape, *arguments))
    rows = []
    for name, module in ALGORITHMS.items():
        row = AlgorithmRow(name)
        try:
            small = (module.conv_forward(small_x.astype(np.float32), kernel, *arguments),
                     module.conv_input_gradient(small_grad.astype(np.float32), kernel, small_x.shape, *arguments),
                     module.conv_kernel_gradient(small_x.astype(np.float32), small_grad.astype(np.float32),
                                                 kernel.shape, *arguments))
        except ValueError as refusal:
            if not str(refusal).startswith(f"{name} needs"):  # not a refusal ("<name> needs ..."): a fault
                raise
            rows.append(AlgorithmRow(name, refusal=str(refusal)))
            continue
        row.max_error = max(_relative_error(value, want) for value, want in zip(small, expected))
        row.multiplies = multiply_count(name, case)
        if name == "direct":  # the reference loop: its time on the full batch says nothing useful and takes long
            row.forward_ms = row.backward_ms = math.nan
        else:
            y = module.conv_forward(x, kernel, *arguments)
            grad = rng.standard_normal(y.shape, dtype=np.float32)
            row.forward_ms = _best_ms(lambda module=module: module.conv_forward(x, kernel, *arguments), repeats)
            row.backward_ms = _best_ms(lambda module=module, grad=grad: (
                module.conv_input_gradient(grad, kernel, x.shape, *arguments),
                module.conv_kernel_gradient(x, grad, kernel.shape, *arguments)), repeats)
        rows.append(row)
    return Explanation(case, {which: choose(case, which) for which in PASSES}, rows)
