"""Ops that move values without changing them: reshape, transpose, indexing, concat, stack, repeat_cells."""

import numpy as np
from numba import njit

from striate.algorithms.chunking import batch_chunks, split_batch
from striate.core.function import Function
from striate.ops.chunked import each_chunk, rows


class Reshape(Function):
    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return (grad.reshape(self.input_shape),)


class Transpose(Function):
    def forward(self, x, axes):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, grad):
        inverse = None if self.axes is None else np.argsort(self.axes)
        return (np.transpose(grad, inverse),)


def _is_basic_index(index):
    """Slices, ints, None and Ellipsis select each element at most once, so the gradient is a plain add."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, slice | int | np.integer) or p is None or p is Ellipsis for p in parts)


class GetItem(Function):
    """x[index] with NumPy indexing; repeated advanced indices accumulate their gradients."""

    def forward(self, x, index):
        self.input_shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, grad):
        full = np.zeros(self.input_shape, self.dtype)
        if _is_basic_index(self.index):
            full[self.index] += grad
        else:
            np.add.at(full, self.index, grad)
        return (full,)


class Concat(Function):
    """Arrays joined along `axis`; the gradient is dy split at the same boundaries.

    Joined on the last axis (channels-last feature maps: DenseNet's and U-Net's concatenations), each output row of
    C_1 + C_2 + ... values is written once by a compiled loop (`_join_bands`), on the chunks of the batch:
    np.concatenate copies each input into its band of columns in turn (64 x 32x32 x 48 and x 12, one thread: 1.78
    against 0.86 ms; 32 + 32 channels 2.74 against 0.87; PyTorch's channels-last cat 1.00 and 1.04 ms). The
    gradient's parts are then written out the same way (`_split_bands`), each a contiguous array: np.split's views
    of dy would be copied by each op that reads them as rows (a convolution's two gradients: twice).
    """

    def forward(self, *arrays, axis):
        self.axis = axis
        self.boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        first = arrays[0]
        self.by_rows = first.ndim >= 2 and axis % first.ndim == first.ndim - 1 and all(
            a.dtype == first.dtype and a.shape[:-1] == first.shape[:-1] and a.flags.c_contiguous for a in arrays)
        if not self.by_rows:
            return np.concatenate(arrays, axis=axis)
        y = np.empty((*first.shape[:-1], sum(a.shape[-1] for a in arrays)), dtype=first.dtype)
        sources, y_rows = [rows(a) for a in arrays], rows(y)
        each_chunk(first, lambda part: _join_bands(tuple(s[part] for s in sources), y_rows[part]), streaming=True)
        return y

    def backward(self, grad):
        if not self.by_rows:
            return tuple(np.split(grad, self.boundaries, axis=self.axis))
        grad = np.ascontiguousarray(grad)
        widths = np.diff([0, *self.boundaries, grad.shape[-1]])
        parts = [np.empty((*grad.shape[:-1], width), dtype=grad.dtype) for width in widths]
        grad_rows, part_rows = rows(grad), [rows(p) for p in parts]
        each_chunk(grad, lambda chunk: _split_bands(grad_rows[chunk], tuple(p[chunk] for p in part_rows)),
                   streaming=True)
        return tuple(parts)


# the two directions are two compiled functions: numba types both branches of one, and an array only read there (a
# read-only input, an upstream gradient NumPy marked read-only) cannot be typed in a function that also writes it


@njit(nogil=True, cache=True, boundscheck=False)
def _join_bands(narrow, wide):
    """wide[r] (R, C_1 + C_2 + ...) = narrow[0][r], narrow[1][r], ... side by side, row by row (narrow: a tuple of
    (R, C_i) arrays)."""
    for r in range(wide.shape[0]):
        start = 0
        for band in narrow:
            for c in range(band.shape[1]):
                wide[r, start + c] = band[r, c]
            start += band.shape[1]


@njit(nogil=True, cache=True, boundscheck=False)
def _split_bands(wide, narrow):
    """`_join_bands` undone: narrow[0][r], narrow[1][r], ... = wide[r] cut into their widths, row by row."""
    for r in range(wide.shape[0]):
        start = 0
        for band in narrow:
            for c in range(band.shape[1]):
                band[r, c] = wide[r, start + c]
            start += band.shape[1]


class Stack(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


class RepeatCells(Function):
    """Each cell of the spatial axes of x (N, *spatial, C) repeated sizes[i] times along axis i ([a b] -> [a a b b],
    nearest-neighbour upsampling by whole factors): y (N, *(n_i s_i), C); the gradient sums each block of
    s_1 x s_2 x ... cells. The forward is one broadcast copy; the backward one compiled loop (`_block_sums`) that
    reads dy once and writes each input cell once, with the same sums bit for bit as adding strided views of dy
    one block cell at a time, which passes over the input gradient once per cell (dy 32x32x32x64 by 2 x 2, one
    thread: 0.27 against 0.54 ms at best, 0.32-0.38 against 0.79-1.17 median); both on the chunks of the batch."""

    def forward(self, x, sizes):
        self.sizes, self.input_shape = sizes, x.shape
        spatial = x.shape[1:-1]
        y = np.empty((x.shape[0], *(n * size for n, size in zip(spatial, sizes)), x.shape[-1]), dtype=x.dtype)
        blocks = y.reshape(x.shape[0], *(d for n, size in zip(spatial, sizes) for d in (n, size)), x.shape[-1])
        expanded = x.reshape(x.shape[0], *(d for n in spatial for d in (n, 1)), x.shape[-1])

        def copy(images):
            np.copyto(blocks[images], expanded[images])

        split_batch(copy, batch_chunks(x.shape[0], y[:1].nbytes), work=y.size)
        return y

    def backward(self, grad):
        grad = np.ascontiguousarray(grad)
        grad_input = np.empty(self.input_shape, dtype=grad.dtype)
        spatial = (1,) * (3 - len(self.sizes)) + self.input_shape[1:-1]  # as three spatial axes
        sizes = (1,) * (3 - len(self.sizes)) + self.sizes

        def block_sums(images):
            part, total = grad[images], grad_input[images]
            blocks = part.reshape(part.shape[0] * spatial[0], sizes[0], spatial[1], sizes[1], spatial[2], sizes[2],
                                  part.shape[-1])
            _block_sums(blocks, total.reshape(-1, spatial[1], spatial[2], part.shape[-1]))

        split_batch(block_sums, batch_chunks(grad.shape[0], grad[:1].nbytes), work=grad.size)
        return (grad_input,)


@njit(nogil=True, cache=True, boundscheck=False)
def _block_sums(blocks, total):
    """total[a, i, j] = the sum of blocks[a, p, i, q, j, r] over the block's cells (p, q, r), added in that order
    (a vector of C values each): dy (A, s_1, H, s_2, W, s_3, C) -> dx (A, H, W, C), A = N times the first spatial
    axis' length (1-D and 2-D data: axes of length 1 in front). dy is read in its own order, row after row, into
    an output row that stays in the cache (0.30 ms for 32x32x32x64 by 2 x 2, one output cell after another 0.48)."""
    cells, high, rows, wide, columns, channels = blocks.shape[1:]
    for a in range(total.shape[0]):
        for i in range(high):
            out = total[a, i]
            for p in range(cells):
                for q in range(rows):
                    for j in range(wide):
                        target = out[j]
                        for r in range(columns):
                            source = blocks[a, p, i, q, j, r]
                            if p + q + r == 0:
                                for c in range(channels):
                                    target[c] = source[c]
                            else:
                                for c in range(channels):
                                    target[c] += source[c]


def reshape(x, shape):
    """The same values in a new shape (one dimension may be -1)."""
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    return Reshape.apply(x, shape=shape)


def transpose(x, axes=None):
    """Permute axes (reverse them when axes is None)."""
    return Transpose.apply(x, axes=None if axes is None else tuple(axes))


def repeat_cells(x, sizes):
    """x (N, *spatial, C) with each cell repeated sizes[i] times along spatial axis i; see RepeatCells."""
    return RepeatCells.apply(x, sizes=tuple(int(size) for size in sizes))


def getitem(x, index):
    """x[index]: NumPy basic and advanced indexing (Tensors inside the index are read as arrays)."""
    from striate.core.tensor import Tensor

    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(p.data.astype(np.int64) if isinstance(p, Tensor) else p for p in parts)
    return GetItem.apply(x, index=parts if isinstance(index, tuple) else parts[0])


def _check_same_shapes(name, tensors, axis, ignore_axis):
    shapes = [np.shape(t) for t in tensors]
    if not shapes:
        raise ValueError(f"{name}: needs at least one tensor; received none")
    ndim = len(shapes[0])
    for shape in shapes:
        trimmed = [s for i, s in enumerate(shape) if not (ignore_axis and i == axis % max(ndim, 1))]
        reference = [s for i, s in enumerate(shapes[0]) if not (ignore_axis and i == axis % max(ndim, 1))]
        if len(shape) != ndim or trimmed != reference:
            except_axis = " except on the axis" if ignore_axis else ""
            raise ValueError(f"{name}: shapes must match{except_axis}; received {shapes}")


def concat(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    _check_same_shapes("concat", tensors, axis, ignore_axis=True)
    return Concat.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis."""
    tensors = list(tensors)
    _check_same_shapes("stack", tensors, axis, ignore_axis=False)
    return Stack.apply(*tensors, axis=axis)
