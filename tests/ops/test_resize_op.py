"""The resize op: each output pixel from its 2 x 2 input pixels (bilinear) or one (nearest), as PyTorch's
`interpolate`, also on striate's threads; nearest copies, so an inf stays in the pixels copied from it."""

import numpy as np
import pytest
import torch

import striate.functional as F
from oracle import check_against_torch
from striate.algorithms import chunking
from striate.core import runtime


def torch_resize(size, mode):
    def resize(x):
        options = {"align_corners": False} if mode == "bilinear" else {}
        return torch.nn.functional.interpolate(x.permute(0, 3, 1, 2), size=size, mode=mode, **options).permute(
            0, 2, 3, 1)

    return resize


@pytest.mark.parametrize(("size", "interpolation", "mode"), [
    ((11, 6), "bilinear", "bilinear"),  # up along H, down by a fraction along W
    ((10, 14), "bilinear", "bilinear"),  # doubling: U-Net's UpSampling2D(interpolation="bilinear")
    ((3, 9), "nearest", "nearest-exact"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resize_in_one_image_chunks_on_two_threads_equals_torch(monkeypatch, size, interpolation, mode, dtype):
    """Forward and input gradient, a batch of 4 in chunks of one image shared by two threads."""
    monkeypatch.setattr(chunking, "CHUNK_BYTES", 1)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(runtime, "_requested_threads", 2)
    x = np.random.default_rng(sum(size)).standard_normal((4, 5, 7, 3))
    with runtime.workers_only():
        check_against_torch(lambda images: F.resize(images, size, interpolation), torch_resize(size, mode), [x], dtype)


def test_nearest_copies_an_inf_only_into_the_pixels_that_read_it():
    """y = x[cell] copied, not a sum of x times a one-hot row (0 * inf would make NaNs beside it)."""
    x = np.arange(2 * 4 * 4 * 2, dtype=np.float32).reshape(2, 4, 4, 2)
    x[1, 2, 3, 0] = np.inf
    y = F.resize(x, (8, 6), "nearest").numpy()
    expected = torch_resize((8, 6), "nearest-exact")(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(y, expected)
    assert np.isinf(y).sum() == 4 and not np.isnan(y).any()
