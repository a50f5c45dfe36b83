"""Normalization: batch normalization (Ioffe & Szegedy 2015) and AlexNet's local response normalization."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric
from striate.ops import pad, relu, sliding_window, sqrt
from striate.ops.normalization import batch_moments
from striate.ops.normalization import batch_norm as normalization_op


def batch_norm(x: ArrayLike, moving_mean: NDArray[Any] | Tensor, moving_variance: NDArray[Any] | Tensor,
               gamma: ArrayLike | None = None, beta: ArrayLike | None = None, training: bool = False,
               momentum: float = 0.99, epsilon: float = 1e-3, synchronized: bool = False,
               activation: str | None = None) -> Tensor:
    """Normalize each channel (the last axis) to zero mean and unit variance, then scale and shift:

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta          (then relu(y) with activation="relu")

    In training, mean and var are the batch's (over every axis but the last; var is the biased variance),
    and the moving statistics are updated IN PLACE, as Keras:
        moving_mean = momentum * moving_mean + (1 - momentum) * mean     (same for the variance)
    In inference (training=False), mean and var are the moving statistics.

    synchronized=True (SyncBatchNorm, Keras' `synchronized`): in training, mean and var are those of the
    global batch, every rank's x together, in a data-parallel MPI job (striate.distributed): each is a sum
    over the ranks (`allreduce_sum`, an op whose backward allreduces the gradients too) divided by the total
    count, so forward and gradients equal one process's batch norm over the global batch. Every rank must
    call it in the same order; in a single process it is plain batch norm.

    Args:
        x: (N, ..., C).
        moving_mean, moving_variance: NumPy arrays (or Tensors) of shape (C,).
        gamma, beta: (C,) or None (no scale / no shift).
        activation: None or "relu", applied inside the op (one pass instead of two, forward and backward).
    """
    op = "batch_norm"
    check_numeric(op, "input", x)
    x = as_tensor(x)
    channels = x.shape[-1] if x.ndim else 0
    for name, value in (("moving_mean", moving_mean), ("moving_variance", moving_variance),
                        ("gamma", gamma), ("beta", beta)):
        if value is not None and np.shape(value) != (channels,):
            raise ValueError(f"{op}: {name} must have shape ({channels},), one per channel of the input's last "
                             f"axis {x.shape}; received {np.shape(value)}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must be in [0, 1]; received {momentum}")
    if activation not in (None, "relu"):
        raise ValueError(f"{op}: activation must be None or 'relu'; received {activation!r}")
    if not (synchronized and training):
        return _fused_batch_norm(x, moving_mean, moving_variance, gamma, beta, training, momentum, epsilon,
                                 activation)

    # synchronized, in training: a composition of ops, whose allreduces autodiff differentiates
    mean, centered, variance = _synchronized_moments(x, tuple(range(x.ndim - 1)))
    _update_in_place(moving_mean, momentum, mean.data)
    _update_in_place(moving_variance, momentum, variance.data)
    y = centered / sqrt(variance + epsilon)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y if activation is None else relu(y)


def _synchronized_moments(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, Tensor, Tensor]:
    """(mean, x - mean, biased variance) over `axes` of every rank's x together: the same two passes as one
    process, mean = allreduce(sum x) / n, then var = allreduce(sum (x - mean)^2) / n, n the global count."""
    from striate.distributed.allreduce_op import allreduce_sum
    from striate.distributed.collectives import allreduce

    local_count = int(np.prod([x.shape[axis] for axis in axes]))
    count = x.dtype.type(allreduce(np.array([local_count], np.int64), what="batch_norm's sample count")[0])
    mean = allreduce_sum(x.sum(axis=axes), what="batch_norm's sum") / count
    centered = x - mean
    variance = allreduce_sum((centered * centered).sum(axis=axes), what="batch_norm's sum of squares") / count
    return mean, centered, variance


def _fused_batch_norm(x: Tensor, moving_mean: NDArray[Any] | Tensor, moving_variance: NDArray[Any] | Tensor,
                      gamma: ArrayLike | None, beta: ArrayLike | None, training: bool, momentum: float,
                      epsilon: float, activation: str | None) -> Tensor:
    """The same formula as one op (`striate.ops.normalization`): in training the batch's moments in one pass (no
    graph: the op's gradient goes through them itself), then one pass that normalizes, scales and shifts."""
    if training:
        mean, variance = batch_moments(x.data)
        _update_in_place(moving_mean, momentum, mean)
        _update_in_place(moving_variance, momentum, variance)
    else:
        mean, variance = (np.asarray(v.data if isinstance(v, Tensor) else v, x.dtype)
                          for v in (moving_mean, moving_variance))
    channels = x.shape[-1]
    scale = as_tensor(gamma) if gamma is not None else Tensor(np.ones(channels, x.dtype))
    shift = as_tensor(beta) if beta is not None else Tensor(np.zeros(channels, x.dtype))
    return normalization_op(x, scale, shift, mean, variance, epsilon, batch_statistics=training, activation=activation)


def _update_in_place(moving: NDArray[Any] | Tensor, momentum: float, batch_statistic: NDArray[Any]) -> None:
    target = moving.data if isinstance(moving, Tensor) else moving
    target *= momentum
    target += (1 - momentum) * batch_statistic


def local_response_norm(x: ArrayLike, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
                        beta: float = 0.5) -> Tensor:
    """Local response normalization across channels (Krizhevsky et al. 2012), TensorFlow's definition:

        y[..., c] = x[..., c] / (bias + alpha * sum_{c' = c - r}^{c + r} x[..., c']^2) ** beta

    with r = depth_radius and channels beyond the edges counted as zeros. AlexNet uses r = 2 (5 channels),
    bias = 2, alpha = 1e-4, beta = 0.75. (PyTorch's LocalResponseNorm(size=2r+1) divides alpha by size.)
    """
    op = "local_response_norm"
    check_numeric(op, "input", x)
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expects (N, ..., C); received shape {x.shape}")
    if not isinstance(depth_radius, int | np.integer) or depth_radius < 0:
        raise ValueError(f"{op}: depth_radius must be a non-negative int; received {depth_radius!r}")
    channels = x.shape[-1]
    squares = (x * x).reshape(-1, channels, 1)  # channels as a 1-D axis to slide a window along
    padded = pad(squares, ((0, 0), (depth_radius, depth_radius), (0, 0)))
    windows = sliding_window(padded, (2 * depth_radius + 1,), (1,), (1,))  # (M, C, 2r+1, 1)
    square_sums = windows.sum(axis=(2, 3)).reshape(x.shape)
    return x / (bias + alpha * square_sums) ** beta
