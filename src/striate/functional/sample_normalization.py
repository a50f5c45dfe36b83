"""Normalization within each sample, no batch statistics: layer normalization (Ba et al. 2016) and group
normalization (Wu & He 2018). Both are compositions of ops; gradients come from those ops."""

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric
from striate.ops import sqrt


def _moments(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """(mean, biased variance) over `axes`, kept as size-1 axes."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return centered, (centered * centered).mean(axis=axes, keepdims=True)


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
    centered, variance = _moments(x, axes)
    y = centered / sqrt(variance + epsilon)
    broadcast = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
    if gamma is not None:
        y = y * as_tensor(gamma).reshape(broadcast)
    if beta is not None:
        y = y + as_tensor(beta).reshape(broadcast)
    return y


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
    grouped = x.reshape(*x.shape[:-1], groups, channels // groups)
    axes = tuple(a for a in range(1, grouped.ndim) if a != grouped.ndim - 2)
    centered, variance = _moments(grouped, axes)
    y = (centered / sqrt(variance + epsilon)).reshape(x.shape)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y
