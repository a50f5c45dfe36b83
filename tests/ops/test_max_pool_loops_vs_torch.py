"""The compiled max-pooling loops (`striate.ops.pooling_loops`) against PyTorch, on the cases that pick their paths.

The forward scans whole rows below VECTOR_CHANNELS channels and one window's channels from there on; the backward
spreads dy over input rows below VECTOR_CHANNELS channels when windows do not overlap along the width, and adds
window by window otherwise. Each path is run with odd sizes, strides below, equal to and above the window,
ties (small integers) and NaNs (several in one window: PyTorch's scan gives the value and the gradient to the last
NaN), forward and gradient compared exactly where no cell receives two gradients.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from striate import Tensor
from striate.ops.pooling import max_pool
from striate.ops.pooling_loops import VECTOR_CHANNELS

TORCH_MAX_POOL = {1: TF.max_pool1d, 2: TF.max_pool2d, 3: TF.max_pool3d}
CHANNEL_COUNTS = [1, 6, VECTOR_CHANNELS - 1, VECTOR_CHANNELS, 19]  # both sides of the switch between the paths


def torch_max_pool(x, dy, pool_size, strides):
    """y and dx of PyTorch's max pooling on channels-last x, upstream gradient dy."""
    nd = x.ndim - 2
    t = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    y = TORCH_MAX_POOL[nd](t, pool_size, strides)
    y.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
    return np.moveaxis(y.detach().numpy(), 1, -1), np.moveaxis(t.grad.numpy(), 1, -1)


def striate_max_pool(x, dy, pool_size, strides):
    t = Tensor(x, requires_grad=True)
    y = max_pool(t, pool_size, strides)
    y.backward(dy)
    return y.numpy(), t.grad


def output_shape(x, pool_size, strides):
    return (x.shape[0], *((n - k) // s + 1 for n, k, s in zip(x.shape[1:-1], pool_size, strides)), x.shape[-1])


def assert_same_as_torch(x, pool_size, strides, exact_gradient):
    dy = np.random.default_rng(1).standard_normal(output_shape(x, pool_size, strides)).astype(x.dtype)
    y, dx = striate_max_pool(x, dy, pool_size, strides)
    expected_y, expected_dx = torch_max_pool(x, dy, pool_size, strides)
    np.testing.assert_array_equal(y, expected_y)  # NaN where torch has NaN
    if exact_gradient:
        np.testing.assert_array_equal(dx, expected_dx)
    else:  # overlapping windows: a cell adds several gradients, perhaps in another order
        np.testing.assert_allclose(dx, expected_dx, rtol=1e-6, atol=1e-6)


GEOMETRIES = [  # (spatial, pool_size, strides)
    ((28, 28), (2, 2), (2, 2)),  # LeNet's pools
    ((7, 9), (2, 2), (2, 2)),  # odd sizes: the last row and column belong to no window
    ((9, 11), (3, 3), (2, 2)),  # overlapping along both axes
    ((8, 10), (2, 3), (3, 2)),  # a gap between windows along the height, overlap along the width
    ((7, 11), (2, 2), (3, 3)),  # gaps along both axes
    ((6, 7), (3, 2), (1, 1)),  # stride 1
    ((5, 6), (5, 6), (5, 6)),  # one window covers the image
    ((13,), (4,), (3,)),
    ((5, 6, 7), (2, 3, 2), (2, 1, 2)),
]


@pytest.mark.parametrize("channels", CHANNEL_COUNTS)
@pytest.mark.parametrize("spatial,pool_size,strides", GEOMETRIES)
def test_max_pool_matches_torch_on_ties(spatial, pool_size, strides, channels):
    """Values 0, 1, 2 tie in almost every window: the first maximum in row-major order wins."""
    x = np.random.default_rng(0).integers(0, 3, (2, *spatial, channels)).astype(np.float32)
    overlapping = any(s < k for s, k in zip(strides, pool_size))
    assert_same_as_torch(x, pool_size, strides, exact_gradient=not overlapping)


@pytest.mark.parametrize("channels", CHANNEL_COUNTS)
@pytest.mark.parametrize("spatial,pool_size,strides", GEOMETRIES)
def test_max_pool_matches_torch_with_nans(spatial, pool_size, strides, channels):
    """A quarter of the cells NaN: windows with none, one and several NaNs, the NaN first, last or between."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, *spatial, channels))
    x[rng.random(x.shape) < 0.25] = np.nan
    overlapping = any(s < k for s, k in zip(strides, pool_size))
    assert_same_as_torch(x, pool_size, strides, exact_gradient=not overlapping)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [3, VECTOR_CHANNELS + 2])
def test_max_pool_gradient_of_tiling_windows_is_written_once_per_cell(dtype, channels):
    """Stride = window: each cell of dx is written by its window (dy or 0), the cells past the last window are 0."""
    x = np.random.default_rng(3).standard_normal((3, 9, 7, channels)).astype(dtype)
    assert_same_as_torch(x, (2, 3), (2, 3), exact_gradient=True)


def test_max_pool_takes_a_non_contiguous_input():
    x = np.random.default_rng(4).standard_normal((2, 8, 8, 12))[:, ::2, :, ::3]
    assert_same_as_torch(x, (2, 2), (2, 2), exact_gradient=True)
