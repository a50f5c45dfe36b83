"""The classic kernels: written-out values, scipy.ndimage's impulse responses, scikit-image's Gabor formula
(written out here, skimage is not imported), and hand-worked 3x3 patches."""

import math

import numpy as np
import pytest
import scipy.ndimage as ndimage

from striate import filters
from striate.filters import kernels


def impulse_response(function, size=7, **options):
    """What a scipy.ndimage filter makes of a single 1 in the middle: its convolution kernel (flipped correlation
    kernel), centred."""
    delta = np.zeros((size, size))
    delta[size // 2, size // 2] = 1.0
    return function(delta, mode="constant", **options)


def correlation_kernel_of(function, size=7, **options):
    """The cross-correlation kernel, as a Conv2D holds it, that reproduces a scipy.ndimage filter."""
    return impulse_response(function, size, **options)[::-1, ::-1]


def test_every_kernel_is_float32_in_the_keras_layout():
    for name in filters.names():
        kernel = filters.by_name(name)
        assert kernel.dtype == np.float32 and kernel.ndim == 4 and kernel.shape[2:] == (1, 1), name


def test_sobel_x_is_written_out_and_y_is_its_transpose():
    expected_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    assert np.array_equal(filters.sobel("x")[:, :, 0, 0], expected_x)
    assert np.array_equal(filters.sobel(1), filters.sobel("x"))
    assert np.array_equal(filters.sobel("y")[:, :, 0, 0], expected_x.T)
    assert np.array_equal(filters.sobel(0), filters.sobel("y"))


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("name, function", [("sobel", ndimage.sobel), ("prewitt", ndimage.prewitt)])
def test_derivatives_equal_scipy_ndimage_with_its_axis_and_sign(name, function, axis):
    reference = correlation_kernel_of(function, axis=axis)[2:5, 2:5]
    assert np.array_equal(getattr(filters, name)(axis)[:, :, 0, 0], reference)


def test_sobel_x_is_positive_where_the_image_gets_brighter_to_the_right():
    ramp = np.tile(np.arange(5.0), (5, 1))  # brighter to the right
    assert np.all(filters.apply(ramp, filters.sobel("x"), padding="valid") == 8.0)   # (1 + 2 + 1) * 2
    assert np.all(filters.apply(ramp, filters.sobel("y"), padding="valid") == 0.0)


def test_scharr_weights_are_3_10_3():
    assert np.array_equal(filters.scharr("x")[:, :, 0, 0], [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
    assert np.array_equal(filters.scharr("y")[:, :, 0, 0], [[-3, -10, -3], [0, 0, 0], [3, 10, 3]])


def test_laplacian_equals_scipy_laplace():
    assert np.array_equal(filters.laplacian()[:, :, 0, 0], correlation_kernel_of(ndimage.laplace)[2:5, 2:5])


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.3, 2.0])
def test_gaussian_is_scipy_gaussian_filters_impulse_response(sigma):
    radius = int(4 * sigma + 0.5)  # scipy's truncate=4.0
    kernel = filters.gaussian(sigma)[:, :, 0, 0]
    assert kernel.shape == (2 * radius + 1, 2 * radius + 1)
    reference = impulse_response(ndimage.gaussian_filter, size=2 * radius + 1, sigma=sigma, truncate=4.0)
    np.testing.assert_allclose(kernel, reference, rtol=1e-6, atol=1e-9)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-6)


def test_gaussian_of_a_given_size_is_cut_there_and_sums_to_one():
    kernel = filters.gaussian(1.0, size=3)[:, :, 0, 0]
    line = np.exp(-0.5 * np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(kernel, np.outer(line, line) / line.sum() ** 2, rtol=1e-6)


def test_box_blur_is_the_window_mean():
    assert np.array_equal(filters.box_blur(3)[:, :, 0, 0], np.full((3, 3), 1 / 9, np.float32))


def skimage_gabor_kernel_real(frequency, theta, sigma_x, sigma_y, n_stds=3, offset=0.0):
    """scikit-image 0.26's skimage.filters.gabor_kernel, written out, real part."""
    ct, st = math.cos(theta), math.sin(theta)
    x0 = np.ceil(max(np.abs(n_stds * sigma_x * ct), np.abs(n_stds * sigma_y * st), 1))
    y0 = np.ceil(max(np.abs(n_stds * sigma_y * ct), np.abs(n_stds * sigma_x * st), 1))
    y, x = np.meshgrid(np.arange(-y0, y0 + 1), np.arange(-x0, x0 + 1), indexing="ij")
    rotx = x * np.cos(theta) + y * np.sin(theta)
    roty = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-0.5 * (rotx ** 2 / sigma_x ** 2 + roty ** 2 / sigma_y ** 2))
    g = g / (2 * np.pi * sigma_x * sigma_y)
    g = g * np.exp(1j * (2 * np.pi * frequency * rotx + offset))
    return g.real


@pytest.mark.parametrize("theta", [0.0, math.pi / 6, math.pi / 4, math.pi / 2, 2.0])
@pytest.mark.parametrize("sigma, wavelength, gamma, phase", [(2.0, 5.0, 0.5, 0.0), (3.0, 8.0, 1.0, 0.7),
                                                             (1.5, 4.0, 0.8, -math.pi / 2)])
def test_gabor_equals_scikit_images_formula(theta, sigma, wavelength, gamma, phase):
    reference = skimage_gabor_kernel_real(1 / wavelength, theta, sigma, sigma / gamma, offset=phase)
    kernel = filters.gabor(theta, sigma, wavelength, gamma=gamma, phase=phase)[:, :, 0, 0]
    assert kernel.shape == reference.shape
    np.testing.assert_allclose(kernel, reference, rtol=1e-5, atol=1e-8)


def test_gabor_of_a_given_size_is_the_same_formula_on_a_wider_grid():
    wide = filters.gabor(0.3, 2.0, 5.0, size=41)[:, :, 0, 0]
    natural = filters.gabor(0.3, 2.0, 5.0)[:, :, 0, 0]
    height, width = natural.shape
    top, left = (41 - height) // 2, (41 - width) // 2
    np.testing.assert_array_equal(wide[top:top + height, left:left + width], natural)


def test_gabor_bank_holds_every_orientation_at_every_scale():
    bank = filters.gabor_bank(4, 2, wavelength=4.0)
    assert bank.shape[2:] == (1, 8) and bank.shape[0] == bank.shape[1]
    size = bank.shape[0]
    for s in range(2):
        wavelength = 4.0 * 2 ** s
        sigma = 0.5622 * wavelength  # one octave of bandwidth: sqrt(ln 2 / 2) / pi * 3
        for o in range(4):
            expected = filters.gabor(math.pi * o / 4, sigma, wavelength, size=size)[:, :, 0, 0]
            np.testing.assert_allclose(bank[:, :, 0, s * 4 + o], expected, rtol=2e-3, atol=1e-6)
    # the largest filter's extent: 3 sigma_y = 3 * 0.5622 * 8 / 0.5 = 26.99 -> 27 cells each side
    assert size == 2 * 27 + 1


# a 3x3 patch worked on paper; each kernel sees it once ("valid")
PATCH = np.array([[3, 0, 1], [2, 7, 4], [0, 5, 1]], np.float64)


@pytest.mark.parametrize("name, by_hand", [
    ("sharpen", 5 * 7 - (0 + 2 + 4 + 5)),                                    # 24
    ("edge-vertical", (3 + 2 + 0) - (1 + 4 + 1)),                             # -1: left column minus right
    ("edge-horizontal", (3 + 0 + 1) - (0 + 5 + 1)),                           # -2: top row minus bottom
    ("emboss", -2 * 3 - 1 * 0 + 0 * 1 - 1 * 2 + 7 + 4 + 0 * 0 + 5 + 2 * 1),   # 10
    ("laplacian", (0 + 2 + 4 + 5) - 4 * 7),                                   # -17
    ("sobel-x", (1 - 3) + 2 * (4 - 2) + (1 - 0)),                             # 3
])
def test_kernels_on_a_patch_worked_by_hand(name, by_hand):
    result = filters.apply(PATCH, filters.by_name(name), padding="valid")
    assert result.shape == (1, 1) and result[0, 0] == by_hand


def test_convolving_flips_the_kernel_so_the_vertical_edge_changes_sign():
    assert filters.apply(PATCH, filters.edge("vertical"), mode="convolve", padding="valid")[0, 0] == 1


def test_the_lectures_vertical_edge_detector_finds_the_6x6_edge():
    # the lectures' example: a 6x6 image bright (10) on the left half, dark (0) on the right
    image = np.array([[10, 10, 10, 0, 0, 0]] * 6, np.float64)
    result = filters.apply(image, filters.edge("vertical"), padding="valid")
    assert np.array_equal(result, np.array([[0, 30, 30, 0]] * 4))


def test_unknown_filter_name_lists_the_known_ones():
    with pytest.raises(ValueError) as error:
        filters.by_name("sobel-z")
    message = str(error.value)
    assert message.startswith("unknown filter 'sobel-z'; known filters: ")
    for name in ("sobel-x", "sobel-y", "scharr-x", "prewitt-y", "laplacian", "box-blur", "gaussian", "sharpen",
                 "emboss", "edge-vertical", "edge-horizontal", "gabor"):
        assert name in message


@pytest.mark.parametrize("call, message", [
    (lambda: filters.sobel("z"), "sobel: axis must be 0 or 'y'"),
    (lambda: filters.prewitt(2), "prewitt: axis must be 0 or 'y'"),
    (lambda: filters.box_blur(4), "box_blur: size must be an odd positive int"),
    (lambda: filters.gaussian(0), "gaussian: sigma must be a positive number"),
    (lambda: filters.gabor(0.0, 2.0, -1.0), "gabor: wavelength must be a positive number"),
    (lambda: filters.edge("diagonal"), "edge: orientation must be 'vertical' or 'horizontal'"),
    (lambda: filters.gabor_bank(0, 2), "gabor_bank: orientations must be a positive int"),
])
def test_bad_arguments_are_refused_with_the_function_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_tile_repeats_a_kernel_for_every_channel():
    tiled = filters.tile(filters.sobel("x"), 3)
    assert tiled.shape == (3, 3, 3, 1)
    for channel in range(3):
        assert np.array_equal(tiled[:, :, channel], filters.sobel("x")[:, :, 0])
    assert kernels.as_layer_kernel(np.eye(3)).shape == (3, 3, 1, 1)
