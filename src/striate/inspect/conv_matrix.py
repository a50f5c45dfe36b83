"""A convolution is a feed-forward layer with sparse, shared weights: its matrix, its connections, its size.

For one example x of shape (*spatial, C_in) (no batch axis), conv(x, kernel) is linear in x, so there is a
matrix M with

    conv(x, kernel, ...).ravel() == M @ x.ravel()

Both sides are raveled channels-last in C order:

    row    = ravel_multi_index((*out_position, c_out), (*out_spatial, C_out))
    column = ravel_multi_index((*in_position, c_in), (*spatial, C_in))

Row `row` holds the kernel of filter c_out laid over the input at out_position: the entry in column
(in_position, c_in) is kernel[(*kernel_cell, c_in - g * C_in // groups, c_out)], where

    in_position = out_position * strides + kernel_cell * dilation_rate - padding_before        (per axis)

and g = c_out // (C_out // groups) is the filter's group. Every row of one filter holds the same numbers (weight
sharing), in at most prod(kernel_size) * C_in // groups columns (sparse connectivity). A kernel cell that
falls on zero padding multiplies a zero, so it simply has no entry.

- `conv_matrix` builds M. Its transpose is the transposed convolution (the conv's input gradient).
- `connectivity` lists which input positions feed one output position, or which outputs one input reaches.
- `compare_dense` counts a conv layer's parameters against a Dense layer joining the same input and output.
"""

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, NDArray

from striate.core.types import IntOrTuple, Padding
from striate.functional.arguments import (
    KERNEL_LAYOUTS,
    check_groups,
    check_numeric,
    check_window_fits,
    padding_pairs,
    per_axis,
)
from striate.functional.output_size import effective_kernel_size, is_int
from striate.layers.layer import Layer


def conv_matrix(input_shape: Sequence[int], kernel: ArrayLike, strides: IntOrTuple = 1, padding: Padding = "valid",
                dilation_rate: IntOrTuple = 1, groups: int = 1) -> scipy.sparse.csr_array:
    """The sparse matrix M of a convolution (zero padding) on one example: conv(x).ravel() == M @ x.ravel().

    Args:
        input_shape: (*spatial, C_in), one example without the batch axis: (W, C), (H, W, C) or (D, H, W, C).
        kernel: (*kernel_size, C_in // groups, C_out), striate's (Keras') layout; its rank fixes 1-D, 2-D or 3-D.
        strides, padding, dilation_rate, groups: as `striate.functional.conv2d` ("valid", "same" with
            TensorFlow's rule, "full", an int, one int or one (before, after) pair per axis); the padding
            holds zeros.

    Returns:
        A scipy.sparse.csr_array of shape (prod(out_spatial) * C_out, prod(spatial) * C_in), of the kernel's
        float dtype (float64 for an integer kernel). Row index = ravel_multi_index((*out_position, c_out)),
        column index = ravel_multi_index((*in_position, c_in)), both C order, channels last. Every
        connection is stored, also where its kernel weight is 0, so M's pattern is the conv's connectivity:
        M.nnz = prod(out_spatial) * C_out * (C_in // groups) * (kernel cells that land inside the input).

    The transpose is the transposed convolution, the conv's input gradient: for y of the conv's output shape,

        (M.T @ y.ravel()).reshape(input_shape) == conv_transpose2d(y[None], kernel, strides=strides,
                                                     padding=pads, output_padding=extra, dilation_rate=d,
                                                     groups=groups)[0]

    with the same kernel array (conv_transpose's layout (*k, C_out // groups, C_in) is this conv's kernel
    read backwards), pads = padding_pairs("conv_matrix", padding, spatial, kernel_size, strides, d) as
    (before, after) pairs (not the word "same": conv_transpose reads "same" as k_eff // 2 a side) and, per
    axis, extra = (n + before + after - k_eff) % s, the input cells the strided conv never reached.

    >>> m = conv_matrix((3, 1), np.array([1.0, 2.0]).reshape(2, 1, 1))    # 1-D, 3 cells, kernel [1, 2]
    >>> m.toarray()
    array([[1., 2., 0.],
           [0., 1., 2.]])
    """
    op = "conv_matrix"
    check_numeric(op, "kernel", kernel)
    kernel = np.asarray(kernel)
    rank = kernel.ndim - 2
    if rank not in KERNEL_LAYOUTS:
        raise ValueError(f"{op}: the kernel must have rank 3, 4 or 5 (*kernel_size, C_in // groups, C_out); "
                         f"received shape {kernel.shape}")
    spatial, channels_in = _checked_input_shape(op, input_shape, rank, f"a kernel of shape {kernel.shape}")
    kernel_size, group_channels_in, channels_out = kernel.shape[:rank], kernel.shape[-2], kernel.shape[-1]
    check_groups(op, groups, channels_in, channels_out)
    if group_channels_in * groups != channels_in:
        raise ValueError(f"{op}: input_shape {tuple(input_shape)} (*spatial, C_in) has C_in = {channels_in} but "
                         f"the kernel {kernel.shape} {KERNEL_LAYOUTS[rank]} expects C_in = {group_channels_in} x "
                         f"groups {groups} = {group_channels_in * groups}")
    geometry = _Geometry.checked(op, spatial, kernel_size, strides, padding, dilation_rate)

    # every (output position, kernel cell) pair whose input cell lies inside the input: P pairs
    out_flat, kernel_flat, in_flat = geometry.taps()
    group_channels_out = channels_out // groups
    filters = np.arange(channels_out)
    # input channel of (c_in within the group, filter): shape (C_in // groups, C_out)
    channel_of = (filters // group_channels_out)[None, :] * group_channels_in + np.arange(group_channels_in)[:, None]
    rows = out_flat[:, None, None] * channels_out + filters[None, None, :]
    columns = in_flat[:, None, None] * channels_in + channel_of[None, :, :]
    dtype = kernel.dtype if np.issubdtype(kernel.dtype, np.floating) else np.float64
    values = kernel.reshape(-1, group_channels_in, channels_out)[kernel_flat].astype(dtype, copy=False)
    shape = (math.prod(geometry.out) * channels_out, math.prod(spatial) * channels_in)
    rows, columns = np.broadcast_arrays(rows, columns, values)[:2]
    matrix = scipy.sparse.coo_array((values.ravel(), (rows.ravel(), columns.ravel())), shape=shape)
    return matrix.tocsr()


@dataclass(frozen=True)
class Connectivity:
    """The positions joined to one position of a convolution, on the other side.

    Attributes:
        position: the given position (0-based, spatial).
        side: "output" when `position` is an output position and `connected` are the input positions that
            feed it (its receptive field); "input" when `position` is an input position and `connected` are the
            output positions it reaches.
        connected: the joined positions on the other side, 0-based, in C (row-by-row) order.
        kernel_cells: for each connected position, the kernel cell that joins the two.
        grid_shape: the spatial shape of the other side (input or output), to number positions in.

    Channels: every input channel of filter o's group feeds output (position, o): all C_in channels when
    groups is 1, channels g * C_in / G ... (g + 1) * C_in / G - 1 for g = o // (C_out / G) otherwise.
    """

    position: tuple
    side: str
    connected: tuple
    kernel_cells: tuple
    grid_shape: tuple

    @property
    def numbers(self) -> list[int]:
        """The connected positions numbered 1, 2, ... row by row over `grid_shape`, as the lectures number pixels."""
        return [int(np.ravel_multi_index(p, self.grid_shape)) + 1 for p in self.connected]

    def __str__(self) -> str:
        other = "input" if self.side == "output" else "output"
        verb = "is fed by" if self.side == "output" else "reaches"
        return (f"{self.side} position {self.position} {verb} {len(self.connected)} {other} positions "
                f"(numbered 1.. row by row over {self.grid_shape}): {self.numbers}")


def connectivity(input_shape: Sequence[int], kernel_size: IntOrTuple, strides: IntOrTuple = 1,
                 padding: Padding = "valid", dilation_rate: IntOrTuple = 1,
                 output_position: int | Sequence[int] | None = None,
                 input_position: int | Sequence[int] | None = None) -> Connectivity:
    """Which input positions feed one output position, or which output positions one input position reaches.

    Give exactly one of `output_position` (its receptive field: the kernel cells that land inside the input;
    those on padding feed nothing) or `input_position` (every output whose window covers it). Positions are
    0-based spatial tuples (an int for 1-D); channels follow `Connectivity`'s rule.

    Args:
        input_shape: (*spatial, C_in) as for `conv_matrix` (C_in is not used).
        kernel_size, strides, dilation_rate: an int or one per spatial axis. padding: as `conv_matrix`.

    The lectures' example, a 4x4 input with pixels numbered 1..16 row by row and a 2x2 kernel:

    >>> connectivity((4, 4, 1), 2, output_position=(0, 0)).numbers        # h11
    [1, 2, 5, 6]
    """
    op = "connectivity"
    rank = len(input_shape) - 1 if isinstance(input_shape, tuple | list) else 0
    if rank not in KERNEL_LAYOUTS:
        raise ValueError(f"{op}: input_shape must be (*spatial, C_in) with 1, 2 or 3 spatial axes; "
                         f"received {input_shape!r}")
    kernel_size = per_axis(op, "kernel_size", kernel_size, rank)
    spatial, _ = _checked_input_shape(op, input_shape, rank, f"kernel_size {kernel_size}")
    geometry = _Geometry.checked(op, spatial, kernel_size, strides, padding, dilation_rate)
    if (output_position is None) == (input_position is None):
        raise ValueError(f"{op}: give exactly one of output_position and input_position; received "
                         f"output_position={output_position!r}, input_position={input_position!r}")
    side, position, bounds = (("output", output_position, geometry.out) if input_position is None
                              else ("input", input_position, spatial))
    position = (position,) if is_int(position) else position
    if (not isinstance(position, tuple | list) or len(position) != rank or not all(is_int(p) for p in position)
            or not all(0 <= p < n for p, n in zip(position, bounds))):
        raise ValueError(f"{op}: {side}_position must be {rank} int(s) inside the {side}'s spatial shape "
                         f"{tuple(bounds)} (0-based); received {position!r}")
    position = tuple(int(p) for p in position)
    # per axis: the (other side's index, kernel cell) pairs joined to this position, in increasing order
    per_axis_pairs = [geometry.axis_pairs(axis, side, p) for axis, p in enumerate(position)]
    grids = np.meshgrid(*[np.arange(len(pairs[0])) for pairs in per_axis_pairs], indexing="ij")
    picks = [g.ravel() for g in grids]
    connected = tuple(zip(*(pairs[0][i].tolist() for pairs, i in zip(per_axis_pairs, picks))))
    cells = tuple(zip(*(pairs[1][i].tolist() for pairs, i in zip(per_axis_pairs, picks))))
    grid_shape = tuple(spatial) if side == "output" else geometry.out
    return Connectivity(position, side, connected, cells, grid_shape)


@dataclass(frozen=True)
class DenseComparison:
    """A conv layer's parameters against a Dense layer joining the same input and output units.

    Dense: prod(input_shape) inputs, prod(output_shape) units: weights in * out, biases out.
    """

    layer: str
    input_shape: tuple
    output_shape: tuple
    conv_weights: int
    conv_biases: int
    dense_weights: int
    dense_biases: int

    @property
    def conv_params(self) -> int:
        return self.conv_weights + self.conv_biases

    @property
    def dense_params(self) -> int:
        return self.dense_weights + self.dense_biases

    @property
    def ratio(self) -> float:
        """dense_params / conv_params: how many times more parameters the Dense layer needs."""
        return self.dense_params / self.conv_params

    def __str__(self) -> str:
        rows = [("", "weights", "biases", "parameters"),
                (self.layer, f"{self.conv_weights:,}", f"{self.conv_biases:,}", f"{self.conv_params:,}"),
                ("Dense", f"{self.dense_weights:,}", f"{self.dense_biases:,}", f"{self.dense_params:,}"),
                ("Dense / conv", "", "", f"{self.ratio:,.1f}x")]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"input {self.input_shape} ({math.prod(self.input_shape):,} units) -> output "
                 f"{self.output_shape} ({math.prod(self.output_shape):,} units)"]
        lines += ["  ".join([row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:]))])
                  for row in rows]
        return "\n".join(lines)


def compare_dense(input_shape: Sequence[int], layer: Layer) -> DenseComparison:
    """Count a conv layer's parameters against a Dense layer connecting the same input and output sizes.

    Args:
        input_shape: (*spatial, C_in), one example without the batch axis.
        layer: a striate layer object (Conv1D/2D/3D, DepthwiseConv2D, SeparableConv2D, ...), built for this
            input shape or not built (then a copy is built; the layer itself is left as it was).

    Returns a `DenseComparison`: the layer's output shape from its own `compute_output_shape`, its weights
    (biases are the weights named "bias") and the Dense layer's in * out weights and out biases, with
    in = prod(input_shape), out = prod(output_shape).

    The lectures' numbers (LeNet's first layer, input 32x32x1, 5x5 kernel, 6 filters, "valid", output 28x28x6):
    conv 6 x 5 x 5 x 1 = 150 weights (+ 6 biases = 156) against 32x32 x 28x28x6 = 4,816,896 Dense weights
    (+ 4,704 biases = 4,821,600); the 1024 x 784 weights quoted beside it are one 28x28 feature map's
    (filters=1: 802,816 Dense weights against 25). LeNet's second layer (14x14x6 -> 10x10x16, 5x5, 16 filters):
    2,400 weights + 16 biases. A 32x32x3 input with 5x5 conv of 6 filters: 456 parameters against 14,455,392.
    The lectures' 120,000 x 1000 = 12 x 10^7 is a Dense layer on a 200x200x3 image, not a conv comparison.

    >>> from striate.layers import Conv2D
    >>> compare_dense((32, 32, 1), Conv2D(6, 5)).dense_weights
    4816896
    """
    op = "compare_dense"
    if not hasattr(layer, "compute_output_shape") or not hasattr(layer, "ensure_built"):
        raise TypeError(f"{op}: layer must be a striate layer such as Conv2D(6, 5); received "
                        f"{type(layer).__name__}")
    shape = tuple(input_shape) if isinstance(input_shape, tuple | list) else None
    if not shape or not all(is_int(n) and n > 0 for n in shape):
        raise ValueError(f"{op}: input_shape must be (*spatial, C_in), positive ints without the batch axis; "
                         f"received {input_shape!r}")
    batched = (None, *shape)
    if layer.built and tuple(layer.input_shape) != batched:
        raise ValueError(f"{op}: layer {layer.name} was built for input {tuple(layer.input_shape)}; received "
                         f"input_shape {shape} (batched {batched})")
    output_shape = tuple(layer.compute_output_shape(batched))[1:]
    if not layer.built:
        layer = copy.deepcopy(layer)
        layer.ensure_built(batched)
    biases = sum(w.size for w in layer.weights if w.name.rsplit("/", 1)[-1] == "bias")
    units_in, units_out = math.prod(shape), math.prod(output_shape)
    return DenseComparison(type(layer).__name__, shape, output_shape, layer.count_params() - biases, biases,
                           units_in * units_out, units_out)


@dataclass(frozen=True)
class _Geometry:
    """Where the kernel lands, per spatial axis: input cell = out * stride + cell * dilation - before."""

    spatial: tuple
    kernel_size: tuple
    strides: tuple
    dilation: tuple
    pads: tuple
    out: tuple

    @classmethod
    def checked(cls, op: str, spatial: Sequence[int], kernel_size: Sequence[int], strides: IntOrTuple,
                padding: Padding, dilation_rate: IntOrTuple) -> "_Geometry":
        rank = len(spatial)
        strides = per_axis(op, "strides", strides, rank)
        dilation = per_axis(op, "dilation_rate", dilation_rate, rank)
        pads = padding_pairs(op, padding, spatial, kernel_size, strides, dilation)
        check_window_fits(op, spatial, kernel_size, strides, dilation, pads)
        out = tuple((n + before + after - effective_kernel_size(k, d)) // s + 1
                    for n, k, s, d, (before, after) in zip(spatial, kernel_size, strides, dilation, pads))
        return cls(tuple(spatial), tuple(kernel_size), strides, dilation, pads, out)

    def axis_table(self, axis: int) -> NDArray[np.int64]:
        """(out, k) array of the input cell each (output index, kernel cell) reads on one axis."""
        out, cells = np.arange(self.out[axis]), np.arange(self.kernel_size[axis])
        return out[:, None] * self.strides[axis] + cells[None, :] * self.dilation[axis] - self.pads[axis][0]

    def axis_pairs(self, axis: int, side: str, index: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(other side's indices, kernel cells) joined to `index` on `side` along one axis, increasing."""
        table = self.axis_table(axis)
        if side == "output":
            cells = np.flatnonzero((table[index] >= 0) & (table[index] < self.spatial[axis]))
            return table[index, cells], cells
        outs, cells = np.nonzero(table == index)
        return outs, cells

    def taps(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int64]]:
        """Flat output position, flat kernel cell and flat input position of every (output, cell) pair inside.

        Built per axis and broadcast over (*out, *kernel_size); C-order flat indices.
        """
        rank = len(self.spatial)
        inside = np.ones((1,) * 2 * rank, dtype=bool)
        in_flat = np.zeros((1,) * 2 * rank, dtype=np.int64)
        in_step = np.cumprod((*self.spatial[1:], 1)[::-1])[::-1]
        for axis in range(rank):
            shape = [1] * 2 * rank
            shape[axis], shape[rank + axis] = self.out[axis], self.kernel_size[axis]
            table = self.axis_table(axis).reshape(shape)
            inside = inside & (table >= 0) & (table < self.spatial[axis])
            in_flat = in_flat + table * in_step[axis]
        full = (*self.out, *self.kernel_size)
        inside, in_flat = np.broadcast_to(inside, full), np.broadcast_to(in_flat, full)
        flat = np.flatnonzero(inside)
        out_flat, kernel_flat = np.divmod(flat, math.prod(self.kernel_size))
        return out_flat, kernel_flat, in_flat.ravel()[flat]


def _checked_input_shape(op: str, input_shape: Sequence[int], rank: int, against: str) -> tuple[tuple[int, ...], int]:
    """(spatial, C_in) from (*spatial, C_in), refusing a wrong rank or non-positive sizes."""
    shape = tuple(input_shape) if isinstance(input_shape, tuple | list) else None
    if shape is None or len(shape) != rank + 1 or not all(is_int(n) and n > 0 for n in shape):
        raise ValueError(f"{op}: input_shape must be {rank + 1} positive ints (*spatial, C_in), no batch axis, "
                         f"for {against}; received {input_shape!r}")
    return tuple(int(n) for n in shape[:-1]), int(shape[-1])
