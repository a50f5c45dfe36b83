"""Normalization: batch normalization (Ioffe & Szegedy 2015) and AlexNet's local response normalization."""

import numpy as np

from striate.core.tensor import Tensor, as_tensor
from striate.functional.arguments import check_numeric
from striate.ops import pad, sliding_window, sqrt


def batch_norm(x, moving_mean, moving_variance, gamma=None, beta=None, training=False, momentum=0.99,
               epsilon=1e-3):
    """Normalize each channel (the last axis) to zero mean and unit variance, then scale and shift:

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta

    In training, mean and var are the batch's (over every axis but the last; var is the biased variance),
    and the moving statistics are updated IN PLACE, as Keras:
        moving_mean = momentum * moving_mean + (1 - momentum) * mean     (same for the variance)
    In inference (training=False), mean and var are the moving statistics.

    Args:
        x: (N, ..., C).
        moving_mean, moving_variance: NumPy arrays (or Tensors) of shape (C,).
        gamma, beta: (C,) or None (no scale / no shift).
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

    if training:
        axes = tuple(range(x.ndim - 1))
        mean = x.mean(axis=axes)
        centered = x - mean
        variance = (centered * centered).mean(axis=axes)
        _update_in_place(moving_mean, momentum, mean.data)
        _update_in_place(moving_variance, momentum, variance.data)
    else:
        mean = np.asarray(moving_mean.data if isinstance(moving_mean, Tensor) else moving_mean, x.dtype)
        variance = np.asarray(moving_variance.data if isinstance(moving_variance, Tensor) else moving_variance,
                              x.dtype)
        centered = x - mean
    y = centered / sqrt(variance + epsilon)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def _update_in_place(moving, momentum, batch_statistic):
    target = moving.data if isinstance(moving, Tensor) else moving
    target *= momentum
    target += (1 - momentum) * batch_statistic


def local_response_norm(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
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
