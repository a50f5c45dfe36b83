"""resize against PyTorch's interpolate (half-pixel centres, no antialiasing: TensorFlow's tf.image.resize), and
the aspect-ratio crop and pad against worked examples."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from striate.data.resizing import resize


def torch_resize(image, size, mode):
    nchw = torch.from_numpy(image.transpose(2, 0, 1)[None].astype(np.float32).copy())
    options = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(nchw, size=size, mode=mode, **options)[0].numpy().transpose(1, 2, 0)


@pytest.mark.parametrize("shape, size", [((7, 9, 3), (4, 5)), ((5, 4, 1), (11, 13)), ((6, 6, 2), (6, 3)),
                                         ((1, 8, 3), (3, 3))])
def test_bilinear_equals_pytorchs_half_pixel_interpolation(shape, size):
    image = np.random.default_rng(0).uniform(0, 255, shape)
    np.testing.assert_allclose(resize(image, size), torch_resize(image, size, "bilinear"), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("shape, size", [((7, 9, 3), (4, 5)), ((5, 4, 1), (11, 13))])
def test_nearest_equals_pytorchs_nearest_exact(shape, size):
    image = np.random.default_rng(1).uniform(0, 255, shape)
    np.testing.assert_array_equal(resize(image, size, "nearest"), torch_resize(image, size, "nearest-exact"))


def test_a_batch_is_resized_image_by_image():
    batch = np.random.default_rng(2).uniform(0, 1, (3, 6, 8, 2))
    out = resize(batch, (4, 4))
    assert out.shape == (3, 4, 4, 2) and out.dtype == np.float32
    for image, resized in zip(batch, out):
        np.testing.assert_allclose(resized, resize(image, (4, 4)), rtol=1e-6)


def test_crop_to_aspect_ratio_keeps_the_centred_square_of_a_wide_image():
    # 4 x 8 image to 2 x 2: the centred 4 x 4 window (columns 2-5), then halved
    image = np.arange(32, dtype=np.float32).reshape(4, 8, 1)
    np.testing.assert_allclose(resize(image, (4, 4), crop_to_aspect_ratio=True), image[:, 2:6])
    np.testing.assert_allclose(resize(image, (2, 2), crop_to_aspect_ratio=True)[..., 0],
                               [[image[0:2, 2:4].mean(), image[0:2, 4:6].mean()],
                                [image[2:4, 2:4].mean(), image[2:4, 4:6].mean()]])


def test_pad_to_aspect_ratio_adds_zero_rows_equally_above_and_below():
    image = np.ones((2, 6, 1), dtype=np.float32)  # 2 x 6 to a square: 2 zero rows above and 2 below
    expected = np.zeros((6, 6, 1), dtype=np.float32)
    expected[2:4] = 1
    np.testing.assert_array_equal(resize(image, (6, 6), pad_to_aspect_ratio=True), expected)


def test_bad_arguments_are_refused_naming_what_was_received():
    with pytest.raises(ValueError, match=r"expects \(H, W, C\) or \(N, H, W, C\) images; received shape \(4, 4\)"):
        resize(np.zeros((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        resize(np.zeros((4, 4, 1)), (2, 2), "bicubic")
    with pytest.raises(ValueError, match="only one of crop_to_aspect_ratio and pad_to_aspect_ratio"):
        resize(np.zeros((4, 4, 1)), (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
