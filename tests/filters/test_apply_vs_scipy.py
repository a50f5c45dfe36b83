"""filters.apply against scipy.ndimage (with the padding modes mapped honestly), a Conv2D layer and
torch.nn.functional.conv2d; channels "each" and "sum"; bad input refused before any work."""

import numpy as np
import pytest
import scipy.ndimage as ndimage
import torch

from striate import filters
from striate import layers as L

# striate's padding mode -> scipy.ndimage's name for the same extension of the border
SCIPY_MODES = {"constant": "constant", "reflect": "mirror", "replicate": "nearest", "circular": "wrap"}


@pytest.fixture
def image():
    return np.random.default_rng(0).random((23, 31))  # float64, not square


@pytest.mark.parametrize("padding_mode", list(SCIPY_MODES))
@pytest.mark.parametrize("kernel, reference", [
    (filters.sobel(0), lambda x, mode: ndimage.sobel(x, axis=0, mode=mode)),
    (filters.sobel(1), lambda x, mode: ndimage.sobel(x, axis=1, mode=mode)),
    (filters.prewitt("y"), lambda x, mode: ndimage.prewitt(x, axis=0, mode=mode)),
    (filters.prewitt("x"), lambda x, mode: ndimage.prewitt(x, axis=1, mode=mode)),
    (filters.laplacian(), lambda x, mode: ndimage.laplace(x, mode=mode)),
], ids=["sobel-y", "sobel-x", "prewitt-y", "prewitt-x", "laplacian"])
def test_derivatives_equal_scipy_ndimage(image, kernel, reference, padding_mode):
    result = filters.apply(image, kernel, padding_mode=padding_mode)
    assert result.shape == image.shape and result.dtype == np.float64
    np.testing.assert_allclose(result, reference(image, SCIPY_MODES[padding_mode]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", list(SCIPY_MODES))
@pytest.mark.parametrize("sigma", [0.8, 1.5, 2.5])
def test_gaussian_equals_scipy_gaussian_filter(image, sigma, padding_mode):
    result = filters.apply(image, filters.gaussian(sigma), padding_mode=padding_mode)
    expected = ndimage.gaussian_filter(image, sigma, mode=SCIPY_MODES[padding_mode], truncate=4.0)
    np.testing.assert_allclose(result, expected, atol=1e-7)  # the kernel is float32


def test_scipys_own_reflect_is_not_striates_reflect(image):
    # scipy "reflect" repeats the edge pixel (NumPy "symmetric"); striate's "reflect" does not (scipy "mirror")
    result = filters.apply(image, filters.sobel("x"), padding_mode="reflect")
    assert not np.allclose(result[:, 0], ndimage.sobel(image, axis=1, mode="reflect")[:, 0])
    inside = (slice(1, -1), slice(1, -1))  # where the 3x3 kernel reads no padding, the two agree
    np.testing.assert_allclose(result[inside], ndimage.sobel(image, axis=1, mode="reflect")[inside], atol=1e-12)


def test_correlate_and_convolve_equal_scipy_with_an_asymmetric_kernel(image):
    kernel = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(filters.apply(image, kernel, mode="correlate", padding_mode="replicate"),
                               ndimage.correlate(image, kernel, mode="nearest"), atol=1e-12)
    np.testing.assert_allclose(filters.apply(image, kernel, mode="convolve", padding_mode="replicate"),
                               ndimage.convolve(image, kernel, mode="nearest"), atol=1e-12)


def test_valid_keeps_only_positions_where_the_kernel_fits(image):
    kernel = np.random.default_rng(2).standard_normal((5, 3))
    valid = filters.apply(image, kernel, padding="valid")
    assert valid.shape == (23 - 5 + 1, 31 - 3 + 1)
    np.testing.assert_allclose(valid, ndimage.correlate(image, kernel)[2:-2, 1:-1], atol=1e-12)


def test_each_filters_every_channel_of_a_colour_image_alone():
    photo = np.random.default_rng(3).random((12, 15, 3)).astype(np.float32)
    result = filters.apply(photo, filters.gaussian(1.0))
    assert result.shape == (12, 15, 3) and result.dtype == np.float32
    for channel in range(3):
        expected = ndimage.gaussian_filter(photo[:, :, channel].astype(np.float64), 1.0, mode="mirror")
        np.testing.assert_allclose(result[:, :, channel], expected, atol=1e-6)


def test_each_with_one_kernel_per_channel_is_a_depthwise_convolution_in_keras_order():
    photo = np.random.default_rng(4).random((9, 10, 2))
    kernel = np.random.default_rng(5).standard_normal((3, 3, 2, 3))  # (kh, kw, C, multiplier)
    result = filters.apply(photo, kernel, padding_mode="constant")
    assert result.shape == (9, 10, 6)
    for c in range(2):
        for m in range(3):
            expected = ndimage.correlate(photo[:, :, c], kernel[:, :, c, m], mode="constant")
            np.testing.assert_allclose(result[:, :, c * 3 + m], expected, atol=1e-12)


def test_sum_adds_the_channels_as_a_convolution_layer_does():
    photo = np.random.default_rng(6).random((9, 10, 3))
    kernel = np.random.default_rng(7).standard_normal((3, 5, 3, 2))
    result = filters.apply(photo, kernel, channels="sum", padding_mode="circular")
    assert result.shape == (9, 10, 2)
    for o in range(2):
        expected = sum(ndimage.correlate(photo[:, :, c], kernel[:, :, c, o], mode="wrap") for c in range(3))
        np.testing.assert_allclose(result[:, :, o], expected, atol=1e-12)


def test_sum_with_a_one_channel_kernel_uses_it_for_every_channel():
    photo = np.random.default_rng(8).random((8, 8, 3))
    result = filters.apply(photo, filters.sobel("x"), channels="sum")
    np.testing.assert_allclose(result[:, :, 0], ndimage.sobel(photo.sum(axis=2), axis=1, mode="mirror"), atol=1e-12)


def test_greyscale_image_keeps_two_axes_and_a_bank_adds_one():
    grey = np.random.default_rng(9).random((20, 20))
    assert filters.apply(grey, filters.sobel("x")).shape == (20, 20)
    bank = filters.gabor_bank(2, 1)
    result = filters.apply(grey, bank, padding_mode="constant")
    assert result.shape == (20, 20, 2)
    np.testing.assert_allclose(result[:, :, 1], ndimage.correlate(grey, bank[:, :, 0, 1].astype(np.float64),
                                                                  mode="constant"), atol=1e-7)


def test_a_conv2d_layer_with_the_kernel_gives_the_same_output():
    photo = np.random.default_rng(10).random((11, 13, 3)).astype(np.float32)
    kernel = np.random.default_rng(11).standard_normal((3, 3, 3, 4)).astype(np.float32)
    layer = L.Conv2D(4, 3, padding="same")
    layer(photo[None])
    layer.set_weights([kernel, np.zeros(4, np.float32)])
    expected = layer(photo[None]).numpy()[0]
    result = filters.apply(photo, kernel, channels="sum", padding_mode="constant")
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


def test_same_as_torch_conv2d_with_zero_padding():
    photo = np.random.default_rng(12).random((10, 12, 2))
    kernel = np.random.default_rng(13).standard_normal((3, 3, 2, 5))
    expected = torch.nn.functional.conv2d(torch.from_numpy(photo).permute(2, 0, 1)[None],
                                          torch.from_numpy(kernel).permute(3, 2, 0, 1), padding=1)
    result = filters.apply(photo, kernel, channels="sum", padding_mode="constant")
    np.testing.assert_allclose(result, expected[0].permute(1, 2, 0).numpy(), atol=1e-12)


def test_integer_images_give_float32():
    image = np.arange(36, dtype=np.uint8).reshape(6, 6)
    result = filters.apply(image, filters.box_blur(3), padding="valid")
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, ndimage.uniform_filter(image.astype(np.float64), 3)[1:-1, 1:-1], atol=1e-5)


@pytest.mark.parametrize("image_shape, kernel, message", [
    ((8, 8), np.zeros((3, 3, 3, 1)),
     r"filters.apply: a greyscale \(H, W\) image of shape \(8, 8\) cannot take a kernel for C_in = 3 channels"),
    ((8, 8, 2), np.zeros((3, 3, 3, 1)), r"a 2-channel image of shape \(8, 8, 2\) cannot take a kernel for C_in = 3"),
    ((1, 8, 8, 1), np.zeros((3, 3)), r"expects one image \(H, W\) or \(H, W, C\); received shape \(1, 8, 8, 1\)"),
    ((8, 8), np.zeros((3, 3, 1)), r"the kernel must be \(kh, kw\) or \(kh, kw, C_in, C_out\); received shape"),
    ((2, 6), np.zeros((5, 5)), r"'reflect' padding of a 5x5 kernel adds 2 cells, more than a 2x6 image can"),
])
def test_bad_shapes_are_one_clear_error(image_shape, kernel, message):
    with pytest.raises(ValueError, match=message):
        filters.apply(np.zeros(image_shape), kernel)


def test_a_kernel_larger_than_the_image_is_refused_for_valid():
    with pytest.raises(ValueError, match=r"a 5x5 kernel does not fit a 3x3 image with padding 'valid'"):
        filters.apply(np.zeros((3, 3)), np.zeros((5, 5)), padding="valid")


@pytest.mark.parametrize("argument, value", [("mode", "convolution"), ("padding", "full"),
                                             ("padding_mode", "mirror"), ("channels", "all")])
def test_unknown_choices_list_the_known_ones(argument, value):
    with pytest.raises(ValueError, match=f"filters.apply: {argument} must be one of .*; received '{value}'"):
        filters.apply(np.zeros((5, 5)), filters.sobel("x"), **{argument: value})
