"""The lectures' convolution animations as data: one frame per output position, each a plain dataclass.

    frames = convolution_frames(image, kernel, strides=1, padding="same")     # what striate.viz.animate_* draws
    frames[1].window          # (kh, kw, 2): the padded-input cells the kernel covers for the first output
    frames[1].text            # '3*1 + 0*0 + 1*-1 + ... = -5', as the lectures write it

Each function returns the frames of one animation in the order they are shown: an "intro" frame (nothing
computed yet), one "step" frame per output position in row-major order, and an "outro" frame (everything
computed); `receptive_field_frames` has one frame per layer instead. Coordinates are (row, column) in the
padded input: input cell (r, c) sits at (r + p_top, c + p_left).

For output (i, j) a window layer with stride s, dilation d and kernel k reads the padded cells

    (i s_h + a d_h,  j s_w + b d_w),   a < k_h, b < k_w

and the padding is striate's (`padding_pairs`: TensorFlow's "same" rule for any stride, dilation and even
kernel), so every value here equals `striate.functional.conv2d` / `max_pool2d` / `avg_pool2d`.

A transposed convolution (Dumoulin & Visin 2016, "A guide to convolution arithmetic for deep learning",
section 4) is drawn as the stride-1 convolution it equals: s - 1 zeros inserted between input cells, the
result padded with k_eff - 1 - p_before cells before (and what makes the output length after), then the
flipped kernel slid one cell at a time.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike

from striate.core.types import IntOrTuple, Padding
from striate.functional.arguments import check_numeric, check_window_fits, padding_pairs, per_axis
from striate.functional.output_size import (
    conv_transpose_output_length,
    effective_kernel_size,
    is_int,
    output_formula,
    padding_pair,
)
from striate.inspect.one_output import _number, arithmetic_of_one_output
from striate.inspect.plan import plan

if TYPE_CHECKING:
    from striate.layers.layer import Layer
    from striate.models.model import Model

STAGES = ("intro", "step", "outro")


# ---- convolution -------------------------------------------------------------------------------------------
@dataclass(eq=False)
class ConvolutionFrame:
    """One picture of a convolution sliding over its input (window fields are None on intro and outro).

    mode: "correlate" or "convolve" (true convolution).
    padded: (H + p_top + p_bottom, W + p_left + p_right, C) input, zeros in the padding (shared by all frames).
    padding: ((p_top, p_bottom), (p_left, p_right)).
    kernel: (kh, kw, C), the kernel as applied: flipped on both spatial axes for mode="convolve".
    output_index: (i, j). window: (kh, kw, 2) int, the padded cells under the kernel.
    products: (kh, kw, C), window values times kernel. channel_sums: (C,). value: their total.
    text: the sum written out ('3*1 + 0*0 + 1*-1 + ... = -5'; one line per channel, then their total, for
        C > 1); on intro and outro a description of the geometry.
    output: (H_out, W_out), NaN where not computed yet.
    """

    stage: str
    mode: str
    padded: np.ndarray
    padding: tuple
    kernel: np.ndarray
    output: np.ndarray
    text: str
    output_index: tuple | None = None
    window: np.ndarray | None = None
    products: np.ndarray | None = None
    channel_sums: np.ndarray | None = None
    value: float | None = None


def convolution_frames(x: ArrayLike, kernel: ArrayLike, strides: IntOrTuple = 1, padding: Padding = "valid",
                       dilation_rate: IntOrTuple = 1,
                       mode: Literal["correlate", "convolve"] = "correlate") -> list[ConvolutionFrame]:
    """The frames of one filter sliding over `x`: y[i, j] = sum_{a, b, c} x_pad[i s + a d, j s + b d, c] w[a, b, c].

    Args:
        x: (H, W) or (H, W, C). kernel: (kh, kw), or (kh, kw, C) for an (H, W, C) input (one output channel).
        strides, dilation_rate: int or (rows, columns). padding: as `striate.functional.conv2d` (zeros).
        mode: "correlate" (deep learning's convolution, the kernel as given) or "convolve" (true convolution:
            the kernel flipped on both axes, scipy.signal.convolve2d).
    Returns [intro, one step per output in row-major order, outro] (`ConvolutionFrame`).
    """
    op = "convolution_frames"
    check_numeric(op, "input", x)
    check_numeric(op, "kernel", kernel)
    x, kernel = np.asarray(x, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    if x.ndim not in (2, 3) or kernel.ndim != x.ndim or (x.ndim == 3 and kernel.shape[2] != x.shape[2]):
        raise ValueError(f"{op}: expects x (H, W) with kernel (kh, kw), or x (H, W, C) with kernel (kh, kw, C); "
                         f"received x {x.shape} and kernel {kernel.shape}")
    if mode not in ("correlate", "convolve"):
        raise ValueError(f"{op}: mode must be 'correlate' or 'convolve'; received {mode!r}")
    if x.ndim == 2:
        x, kernel = x[..., None], kernel[..., None]
    strides = per_axis(op, "strides", strides, 2)
    dilation = per_axis(op, "dilation_rate", dilation_rate, 2)
    kernel_size = kernel.shape[:2]
    pads = padding_pairs(op, padding, x.shape[:2], kernel_size, strides, dilation)
    check_window_fits(op, x.shape[:2], kernel_size, strides, dilation, pads)

    padded = np.pad(x, (*pads, (0, 0)))
    applied = kernel[::-1, ::-1] if mode == "convolve" else kernel
    out_shape = _window_counts(padded.shape[:2], kernel_size, strides, dilation)
    output = np.full(out_shape, np.nan)
    described = _describe(x.shape, kernel_size, strides, dilation, pads, out_shape, mode)
    frames = [ConvolutionFrame("intro", mode, padded, pads, applied, output.copy(), described)]
    for index in np.ndindex(*out_shape):
        window = _window(index, kernel_size, strides, dilation)
        values = padded[window[..., 0], window[..., 1]]
        products = values * applied
        channel_sums = products.sum(axis=(0, 1))
        output[index] = channel_sums.sum()
        frames.append(ConvolutionFrame("step", mode, padded, pads, applied, output.copy(), _sum_text(values, applied),
                                       index, window, products, channel_sums, float(output[index])))
    frames.append(ConvolutionFrame("outro", mode, padded, pads, applied, output.copy(), described))
    return frames


def _sum_text(values, kernel):
    """'a*w + ... = s' per channel (arithmetic_of_one_output), then 's0 + s1 + s2 = total' for several."""
    lines = [arithmetic_of_one_output(values[..., c], kernel[..., c], 0, 0) for c in range(values.shape[-1])]
    if len(lines) == 1:
        return lines[0]
    sums = [line.rsplit(" = ", 1)[1] for line in lines]
    total = np.sum(values * kernel)
    return "\n".join([*(f"channel {c}: {line}" for c, line in enumerate(lines)),
                      f"{' + '.join(sums)} = {_number(total)}"])


def _describe(shape, kernel_size, strides, dilation, pads, out_shape, mode):
    flipped = ", kernel flipped (true convolution)" if mode == "convolve" else ""
    dilated = f", dilation {_pair_text(dilation)}" if dilation != (1, 1) else ""
    return (f"{shape[0]}x{shape[1]} input, {kernel_size[0]}x{kernel_size[1]} kernel, stride "
            f"{_pair_text(strides)}, padding {_padding_text(pads)}{dilated}{flipped} -> "
            f"{out_shape[0]}x{out_shape[1]} output")


# ---- convolution arithmetic (geometry only) ----------------------------------------------------------------
@dataclass(eq=False)
class ArithmeticGeometry:
    """The grids of one conv_arithmetic picture, shared by its frames (per axis: (rows, columns)).

    grid_shape: the cells the kernel slides over: the padded input, or for a transposed convolution the
        input with s - 1 zeros between cells, then padded. input_cells: (H, W, 2) int, where input cell
        (r, c) sits in that grid. padding: ((before, after), ...) of the grid. kernel_size, strides (of
        the convolution drawn; 1 for transposed), dilation, output_size: as their names.
    formula: the output-size formula filled in ('o = floor((5 + 2 - 3) / 2) + 1 = 3'); caption: the
        parameters in words.
    """

    input_size: tuple
    kernel_size: tuple
    strides: tuple
    dilation: tuple
    padding: tuple
    grid_shape: tuple
    input_cells: np.ndarray
    output_size: tuple
    transposed: bool
    formula: str
    caption: str


@dataclass(eq=False)
class ArithmeticFrame:
    """One picture: the kernel footprint on the grid and the output cells filled so far.

    footprint: (kh, kw, 2) int grid cells under the kernel (None on intro and outro); the cells between
        them (dilation holes) are not read. reads: (n, 2) the input cells (input coordinates) under the
        footprint, row-major. filled: (H_out, W_out) bool.
    """

    stage: str
    geometry: ArithmeticGeometry
    filled: np.ndarray
    output_index: tuple | None = None
    footprint: np.ndarray | None = None
    reads: np.ndarray | None = None


def arithmetic_frames(input_size: IntOrTuple, kernel_size: IntOrTuple, strides: IntOrTuple = 1,
                      padding: Padding = "valid", dilation_rate: IntOrTuple = 1,
                      transposed: bool = False) -> list[ArithmeticFrame]:
    """The frames of Dumoulin & Visin's convolution arithmetic pictures, for any geometry.

    Args:
        input_size, kernel_size, strides, dilation_rate: int or (rows, columns).
        padding: as `striate.functional.conv2d` ("valid", "same", "full", ints, pairs); for transposed=True as
            `conv_transpose2d` (the padding of the matching convolution).
        transposed: draw the transposed convolution (output size by Keras' rule, `conv_transpose_output_length`).
    Returns [intro, one step per output position, outro] (`ArithmeticFrame`).
    """
    op = "arithmetic_frames"
    size = per_axis(op, "input_size", input_size, 2)
    kernel_size = per_axis(op, "kernel_size", kernel_size, 2)
    strides = per_axis(op, "strides", strides, 2)
    dilation = per_axis(op, "dilation_rate", dilation_rate, 2)
    axes = _transposed_axes(op, size, kernel_size, strides, dilation, padding) if transposed else (
        _conv_axes(op, size, kernel_size, strides, dilation, padding))
    geometry = _geometry(size, kernel_size, strides, dilation, padding, transposed, axes)

    filled = np.zeros(geometry.output_size, dtype=bool)
    frames = [ArithmeticFrame("intro", geometry, filled.copy())]
    where = {tuple(cell): n for n, cell in enumerate(geometry.input_cells.reshape(-1, 2))}
    for index in np.ndindex(*geometry.output_size):
        footprint = _window(index, kernel_size, geometry.strides, dilation)
        read = [divmod(where[cell], size[1]) for cell in map(tuple, footprint.reshape(-1, 2)) if cell in where]
        filled[index] = True
        frames.append(ArithmeticFrame("step", geometry, filled.copy(), index, footprint,
                                      np.array(read, dtype=int).reshape(-1, 2)))
    frames.append(ArithmeticFrame("outro", geometry, filled.copy()))
    return frames


def _conv_axes(op, size, kernel_size, strides, dilation, padding):
    """Per axis (pads, positions of the input cells, output length, formula)."""
    pads = padding_pairs(op, padding, size, kernel_size, strides, dilation)
    check_window_fits(op, size, kernel_size, strides, dilation, pads)
    axes = []
    for n, k, s, d, (before, after) in zip(size, kernel_size, strides, dilation, pads):
        k_eff = effective_kernel_size(k, d)
        formula = output_formula(n, before + after, k_eff, s)
        axes.append(((before, after), before + np.arange(n), int(formula.rsplit(" ", 1)[1]), f"o = {formula}"))
    return axes


def _transposed_axes(op, size, kernel_size, strides, dilation, padding):
    """Per axis as `_conv_axes`, for the stride-1 convolution over the stretched, padded input."""
    per_axis_padding = [padding] * 2 if isinstance(padding, str) or is_int(padding) else (
        padding_pairs(op, padding, size, kernel_size, strides, dilation))
    axes = []
    for n, k, s, d, axis_padding in zip(size, kernel_size, strides, dilation, per_axis_padding):
        length = conv_transpose_output_length(n, k, s, axis_padding, None, d, op=op)
        before, after = padding_pair(axis_padding, length, k, s, d, op=op)
        k_eff = effective_kernel_size(k, d)
        stretched = (n - 1) * s + 1
        grid_before = k_eff - 1 - before
        grid_after = length + k_eff - 1 - stretched - grid_before
        if grid_before < 0 or grid_after < 0:
            raise ValueError(f"{op}: padding {axis_padding!r} crops more than the k_eff - 1 = {k_eff - 1} cells a "
                             f"transposed convolution adds on each side; it cannot be drawn as a convolution over "
                             f"a zero-padded input; received padding ({before}, {after})")
        extra = length - ((n - 1) * s + k_eff - before - after)
        formula = f"o = ({n} - 1)*{s} + {k_eff} - {before + after}{f' + {extra}' if extra else ''} = {length}"
        axes.append(((grid_before, grid_after), grid_before + s * np.arange(n), length, formula))
    return axes


def _geometry(size, kernel_size, strides, dilation, padding, transposed, axes):
    (rows, columns) = axes
    grid = tuple(pads[0] + (n - 1) * (s if transposed else 1) + 1 + pads[1]
                 for (pads, *_), n, s in zip(axes, size, strides))
    cells = np.stack(np.meshgrid(rows[1], columns[1], indexing="ij"), axis=-1)
    formula = rows[3] if rows[3] == columns[3] else f"rows: {rows[3]};  columns: {columns[3]}"
    k_eff = tuple(effective_kernel_size(k, d) for k, d in zip(kernel_size, dilation))
    grid_padding = _padding_text((rows[0], columns[0]))
    words = [f"i = {_pair_text(size)}", f"k = {_pair_text(kernel_size)}", f"s = {_pair_text(strides)}",
             f"padding {padding!r}" + (f" = {grid_padding}" if isinstance(padding, str) and not transposed else "")]
    if dilation != (1, 1):
        words.append(f"d = {_pair_text(dilation)} (k_eff = d(k - 1) + 1 = {_pair_text(k_eff)})")
    if transposed:
        words.append(f"drawn as: s - 1 = {_pair_text(tuple(s - 1 for s in strides))} zero(s) between input cells, "
                     f"padding {grid_padding}, stride 1")
    return ArithmeticGeometry(size, kernel_size, (1, 1) if transposed else strides, dilation,
                              (rows[0], columns[0]), grid, cells, (rows[2], columns[2]), transposed, formula,
                              ", ".join(words))


# ---- pooling -----------------------------------------------------------------------------------------------
@dataclass(eq=False)
class PoolingFrame:
    """One picture of a pooling window (window fields None on intro and outro).

    kind: "max" or "average". pool_size: (ph, pw).
    padded: (H + pads, W + pads) input, NaN in the padding (padded cells take no part, as Keras).
    window: (ph, pw, 2) int padded cells. values: (ph, pw), NaN for padding. chosen: the padded cell holding
    the maximum (the first in row-major order on ties), None for average pooling. text: 'max(1, 3, 2, 9) = 9'
    or '(1 + 3 + 2 + 9) / 4 = 3.75'. output: (H_out, W_out), NaN where not computed yet.
    """

    stage: str
    kind: str
    pool_size: tuple
    padded: np.ndarray
    padding: tuple
    output: np.ndarray
    text: str
    output_index: tuple | None = None
    window: np.ndarray | None = None
    values: np.ndarray | None = None
    chosen: tuple | None = None
    value: float | None = None


def pooling_frames(x: ArrayLike, pool_size: IntOrTuple, strides: IntOrTuple | None = None,
                   padding: Literal["valid", "same"] = "valid",
                   kind: Literal["max", "average"] = "max") -> list[PoolingFrame]:
    """The frames of max or average pooling over x (H, W), as `max_pool2d` / `avg_pool2d` compute it.

    Args:
        pool_size: int or (ph, pw). strides: int, pair, or None for pool_size. padding: "valid" or "same".
        kind: "max" or "average".
    Returns [intro, one step per output in row-major order, outro] (`PoolingFrame`).
    """
    op = "pooling_frames"
    check_numeric(op, "input", x)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{op}: expects one (H, W) map; received shape {x.shape}")
    if kind not in ("max", "average"):
        raise ValueError(f"{op}: kind must be 'max' or 'average'; received {kind!r}")
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same' (as Keras); received {padding!r}")
    pool_size = per_axis(op, "pool_size", pool_size, 2)
    strides = pool_size if strides is None else per_axis(op, "strides", strides, 2)
    pads = padding_pairs(op, padding, x.shape, pool_size, strides, (1, 1))
    check_window_fits(op, x.shape, pool_size, strides, (1, 1), pads, what="pool window")

    padded = np.pad(x, pads, constant_values=np.nan)
    out_shape = _window_counts(padded.shape, pool_size, strides, (1, 1))
    output = np.full(out_shape, np.nan)
    described = (f"{kind} pooling: {x.shape[0]}x{x.shape[1]} input, {pool_size[0]}x{pool_size[1]} window, stride "
                 f"{_pair_text(strides)}, padding {_padding_text(pads)} -> {out_shape[0]}x{out_shape[1]} output")
    frames = [PoolingFrame("intro", kind, pool_size, padded, pads, output.copy(), described)]
    for index in np.ndindex(*out_shape):
        window = _window(index, pool_size, strides, (1, 1))
        values = padded[window[..., 0], window[..., 1]]
        real = values[~np.isnan(values)]
        chosen = None
        if kind == "max":
            first = np.nanargmax(values)  # row-major: the first maximum
            chosen = tuple(int(v) for v in window.reshape(-1, 2)[first])
            output[index] = real.max()
            text = f"max({', '.join(_number(v) for v in real)}) = {_number(output[index])}"
        else:
            output[index] = real.mean()
            text = f"({' + '.join(_number(v) for v in real)}) / {real.size} = {_number(output[index])}"
        frames.append(PoolingFrame("step", kind, pool_size, padded, pads, output.copy(), text, index, window, values,
                                   chosen, float(output[index])))
    frames.append(PoolingFrame("outro", kind, pool_size, padded, pads, output.copy(), described))
    return frames


# ---- receptive field ---------------------------------------------------------------------------------------
@dataclass(eq=False)
class ReceptiveFieldFrame:
    """One layer of a receptive-field picture: the input region one output cell of that layer sees.

    cell: (row, column) in the layer's output (H_out, W_out) = output_size. size, jump, start: the layer's
    receptive field per axis as `striate.inspect.plan` reports it. region: (top, left, bottom, right),
    inclusive input coordinates; it may reach past the input into the padding, and it may hold edge pixels
    that no window reads (a 5x5 stride-2 valid convolution never reads column 15 of 16), as plan's field
    does. earlier: the regions of the
    frames before. extent: (top, left, bottom, right) covering the input and every frame's region (the same
    for all frames, so the pictures line up).
    """

    name: str
    type: str
    input_size: tuple
    output_size: tuple
    cell: tuple
    size: tuple
    jump: tuple
    start: tuple
    region: tuple
    earlier: list = field(default_factory=list)
    extent: tuple = ()


def receptive_field_frames(model: "Model | Sequence[Layer]", layer: "str | Layer",
                           position: Sequence[int] | None = None,
                           input_shape: Sequence[int] | None = None) -> list[ReceptiveFieldFrame]:
    """One frame per layer, from the first to `layer`: the input region seen by one cell of each.

    The cell of `layer` is `position` (default the centre of its output); each earlier layer shows its cell
    nearest to the centre of the next layer's cell, one of the cells that cell reads, so the regions nest
    and grow. Sizes come from `plan` (size_out = size_in + (k_eff - 1) jump_in; jump_out = jump_in s):
    cell i of a layer is centred on input pixel start + i jump and covers size pixels.

    Args:
        model: a Sequential model (or list of layers) of 2-D layers; layer: a layer name or the layer.
        position: (row, column) in `layer`'s output. input_shape: (H, W, C) when the model has none.
    """
    op = "receptive_field_frames"
    if input_shape is None and getattr(model, "input_shape", None) is None:
        raise ValueError(f"{op}: give an input_shape, e.g. (28, 28, 1); the model has none")
    target = getattr(layer, "name", layer)
    rows = plan(model, input_shape).rows
    names = [row.name for row in rows]
    if target not in names[1:]:
        raise ValueError(f"{op}: no layer named {target!r}; the model's layers are {names[1:]}")
    rows = rows[: names.index(target) + 1]
    if rows[-1].receptive_field is None or len(rows[-1].output_shape) != 4:
        raise ValueError(f"{op}: layer {target!r} ({rows[-1].type}) has no 2-D receptive field to draw; received "
                         f"output shape {rows[-1].output_shape}")
    steps = [row for row in rows[1:] if len(row.output_shape) == 4 and row.receptive_field is not None]
    input_size = tuple(rows[0].output_shape[1:3])
    output_size = tuple(steps[-1].output_shape[1:3])
    cell = tuple((n - 1) // 2 for n in output_size) if position is None else tuple(position)
    if len(cell) != 2 or not all(is_int(c) and 0 <= c < n for c, n in zip(cell, output_size)):
        raise ValueError(f"{op}: position must be (row, column) inside {target}'s {output_size[0]}x"
                         f"{output_size[1]} output; received {position!r}")

    cells = [cell]
    for later, row in zip(steps[:0:-1], steps[-2::-1]):
        centre = [s + c * j for s, c, j in zip(later.start, cells[0], later.jump)]
        nearest = [math.floor((x - s) / j + 0.5) for x, s, j in zip(centre, row.start, row.jump)]
        cells.insert(0, tuple(min(max(i, 0), n - 1) for i, n in zip(nearest, row.output_shape[1:3])))
    regions = [_region(row, c) for row, c in zip(steps, cells)]
    extent = (min(0, *(r[0] for r in regions)), min(0, *(r[1] for r in regions)),
              max(input_size[0] - 1, *(r[2] for r in regions)), max(input_size[1] - 1, *(r[3] for r in regions)))
    return [ReceptiveFieldFrame(row.name, row.type, input_size, tuple(row.output_shape[1:3]), c, row.receptive_field,
                                row.jump, row.start, region, regions[:n], extent)
            for n, (row, c, region) in enumerate(zip(steps, cells, regions))]


def _region(row, cell):
    """(top, left, bottom, right) input pixels seen by `cell`: centre start + i jump, size pixels wide."""
    low = [round(s + i * j - (size - 1) / 2) for s, i, j, size in zip(row.start, cell, row.jump, row.receptive_field)]
    return low[0], low[1], low[0] + row.receptive_field[0] - 1, low[1] + row.receptive_field[1] - 1


# ---- shared ------------------------------------------------------------------------------------------------
def _window_counts(padded_shape, kernel_size, strides, dilation):
    return tuple((n - effective_kernel_size(k, d)) // s + 1
                 for n, k, s, d in zip(padded_shape, kernel_size, strides, dilation))


def _window(index, kernel_size, strides, dilation):
    """(kh, kw, 2): the padded cells (i s_h + a d_h, j s_w + b d_w) read by output (i, j)."""
    rows = index[0] * strides[0] + dilation[0] * np.arange(kernel_size[0])
    columns = index[1] * strides[1] + dilation[1] * np.arange(kernel_size[1])
    return np.stack(np.meshgrid(rows, columns, indexing="ij"), axis=-1)


def _pair_text(pair):
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _padding_text(pads):
    if all(p == pads[0][0] for pair in pads for p in pair):
        return str(pads[0][0])
    return f"(top {pads[0][0]}, bottom {pads[0][1]}, left {pads[1][0]}, right {pads[1][1]})"
