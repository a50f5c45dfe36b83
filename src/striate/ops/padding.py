"""`pad`: add cells around an array, by a constant or by copying the array's own cells.

Modes (PyTorch's names, NumPy's meaning in brackets):
- "constant": the value `constant_value` (zeros by default);
- "reflect": mirror without repeating the edge, [1 2 3] -> 3 2 [1 2 3] 2 1 (NumPy "reflect");
- "replicate": repeat the edge cell, [1 2 3] -> 1 1 [1 2 3] 3 3 (NumPy "edge");
- "circular": wrap around, [1 2 3] -> 2 3 [1 2 3] 1 2 (NumPy "wrap").

The copying modes are a gather: along each axis, padded position j reads source index `source(j)`. Their
backward is the matching scatter-add, so a cell copied three times receives three gradients.
"""

import numpy as np

from striate.core.function import Function

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def source_indices(mode, length, before, after):
    """For each padded position along an axis of `length` cells, the index of the cell it copies."""
    positions = np.arange(-before, length + after)
    if mode == "reflect":
        positions = np.abs(positions)
        return np.where(positions > length - 1, 2 * (length - 1) - positions, positions)
    if mode == "replicate":
        return np.clip(positions, 0, length - 1)
    return positions % length  # circular


class Pad(Function):
    def forward(self, x, pad_width, mode, constant_value):
        self.input_shape, self.pad_width, self.mode = x.shape, pad_width, mode
        if not any(before or after for before, after in pad_width):
            return x  # nothing to add ("valid" pooling, padding 0): no copy
        if mode == "constant":
            return np.pad(x, pad_width, mode="constant", constant_values=constant_value)
        for axis, (before, after) in enumerate(pad_width):
            if before or after:
                x = np.take(x, source_indices(mode, x.shape[axis], before, after), axis=axis)
        return x

    def backward(self, grad):
        if self.mode == "constant":
            inside = tuple(slice(before, before + n) for (before, _), n in zip(self.pad_width, self.input_shape))
            return (grad[inside],)
        for axis in reversed(range(grad.ndim)):
            before, after = self.pad_width[axis]
            if before or after:
                length = self.input_shape[axis]
                moved = np.moveaxis(grad, axis, 0)
                folded = np.zeros((length, *moved.shape[1:]), grad.dtype)
                np.add.at(folded, source_indices(self.mode, length, before, after), moved)
                grad = np.moveaxis(folded, 0, axis)
        return (grad,)


def pad(x, pad_width, mode="constant", constant_value=0.0):
    """Pad `x` with `pad_width` = one (before, after) pair of non-negative ints per axis.

    Shape: (n_0, ..., n_k) -> (n_0 + b_0 + a_0, ..., n_k + b_k + a_k).
    "reflect" needs each pad < n (it mirrors without the edge), "circular" needs each pad <= n.

    >>> pad(Tensor([1.0, 2.0, 3.0]), [(2, 1)], mode="reflect").numpy()
    array([3., 2., 1., 2., 3., 2.], dtype=float32)
    """
    pad_width = tuple((int(before), int(after)) for before, after in pad_width)
    check_pad_arguments("pad", np.shape(x), pad_width, mode)
    return Pad.apply(x, pad_width=pad_width, mode=mode, constant_value=constant_value)


def check_pad_arguments(op, shape, pad_width, mode):
    """Raise, naming `op`, if `pad_width` or `mode` cannot pad an array of `shape`."""
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: unknown padding mode {mode!r}; expected one of {', '.join(map(repr, PAD_MODES))}")
    if len(pad_width) != len(shape):
        raise ValueError(f"{op}: needs one (before, after) pair per axis, {len(shape)} for shape {tuple(shape)}; "
                         f"received {len(pad_width)}")
    for axis, ((before, after), n) in enumerate(zip(pad_width, shape)):
        if before < 0 or after < 0:
            raise ValueError(f"{op}: padding must be non-negative; received {(before, after)} on axis {axis}")
        if not (before or after) or mode == "constant":
            continue
        if mode == "reflect" and max(before, after) >= n:
            raise ValueError(f"{op}: reflect padding mirrors without the edge cell, so it must be smaller than "
                             f"the axis: axis {axis} has {n} cells, received padding {(before, after)}")
        if mode == "replicate" and n == 0:
            raise ValueError(f"{op}: replicate padding cannot copy from the empty axis {axis}")
        if mode == "circular" and max(before, after) > n:
            raise ValueError(f"{op}: circular padding wraps at most once: axis {axis} has {n} cells, "
                             f"received padding {(before, after)}")
