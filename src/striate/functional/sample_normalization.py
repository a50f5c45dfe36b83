"""Normalization within each sample, no batch statistics: layer normalization (Ba et al. 2016) and group
normalization (Wu & He 2018). Both are one op (`striate.ops.sample_normalization`) on blocks of x."""

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric
from striate.ops.sample_normalization import normalize_groups


def _affine(op: str, name: str, parameter: ArrayLike | None, shape: tuple[int, int], fill: float,
            dtype: np.dtype) -> ArrayLike:
    """gamma or beta for the op, which reads its G * K values in order: the given values as they are (a reshape would
    be one more op in the graph), or a constant `fill` of `shape` (G, K) where the layer has none."""
    if parameter is None:
        return np.full(shape, fill, dtype)
    parameter = as_tensor(parameter)
    if parameter.size != math.prod(shape):
        raise ValueError(f"{op}: {name} must have {math.prod(shape)} values, one per normalized feature; received "
                         f"shape {parameter.shape}")
    return parameter


def layer_norm(x: ArrayLike, axis: int | Sequence[int] = -1, gamma: ArrayLike | None = None,
               beta: ArrayLike | None = None, epsilon: float = 1e-3) -> Tensor:
    """y = gamma * (x - mean) / sqrt(var + epsilon) + beta, mean and var over `axis` of each sample.

    Args:
        x: (N, ...).
        axis: an int or a tuple of the axes to normalize over (not the batch axis 0).
        gamma, beta: shaped like x's `axis` dimensions (or None).
    Shape: unchanged.
    """
    op = "layer_norm"
    check_numeric(op, "input", x)
    x = as_tensor(x)
    axes = tuple(sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int | np.integer) else axis)))
    if 0 in axes:
        raise ValueError(f"{op}: cannot normalize over the batch axis 0; received axis={axis} for shape {x.shape}")
    others = tuple(a for a in range(1, x.ndim) if a not in axes)
    order = (0, *others, *axes)  # the normalized axes last: each sample's blocks are then rows of the features
    moved = x if order == tuple(range(x.ndim)) else x.transpose(order)
    features = (1, math.prod(x.shape[a] for a in axes))
    blocks = moved.reshape(-1, 1, *features)
    y = normalize_groups(blocks, _affine(op, "gamma", gamma, features, 1, x.dtype),
                         _affine(op, "beta", beta, features, 0, x.dtype), epsilon)
    y = y.reshape(moved.shape)
    return y if moved is x else y.transpose(tuple(np.argsort(order)))


def group_norm(x: ArrayLike, groups: int, gamma: ArrayLike | None = None, beta: ArrayLike | None = None,
               epsilon: float = 1e-3) -> Tensor:
    """Group normalization over the channels (last axis) of x (N, ..., C), cut into `groups` groups of C / groups
    channels: each (sample, group) is normalized over its positions and channels, then
        y = gamma * (x - mean) / sqrt(var + epsilon) + beta,   gamma, beta (C,).
    groups = C is instance normalization; groups = 1 normalizes each sample over everything.
    """
    op = "group_norm"
    check_numeric(op, "input", x)
    x = as_tensor(x)
    channels = x.shape[-1]
    if x.ndim < 2 or groups < 1 or channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide the channels (last axis) of x; received shape "
                         f"{x.shape}")
    grouped = x.reshape(x.shape[0], -1, groups, channels // groups)
    shape = (groups, channels // groups)
    y = normalize_groups(grouped, _affine(op, "gamma", gamma, shape, 1, x.dtype),
                         _affine(op, "beta", beta, shape, 0, x.dtype), epsilon)
    return y.reshape(x.shape)
