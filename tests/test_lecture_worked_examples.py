"""Worked examples from the lecture notes in /work/shared/seeds, pinned as exact tests.

Every expected value is either a literal checked by hand (the arithmetic is in the comments) or comes
from the small explicit-loop references below, never from striate itself. Where a slide prints a wrong
number, the test asserts the correct value and a comment gives the slide's number.

Seed files: 000 = "Unit 2 Convolutional Networks", 001 = COSC2779 "Convolutional Neural Networks",
002 = One Fourth Labs notes, 003 = handwritten CNN notes, 004 = APL 405 Lecture 15.
"""

import numpy as np
import pytest

import striate.functional as F

# --------------------------------------------------------------------------------------------------
# Explicit-loop references (independent of striate)
# --------------------------------------------------------------------------------------------------


def reference_correlate2d(image, kernel, strides=(1, 1), pad=0):
    """Cross-correlation of a 2D image with a 2D kernel after `pad` rings of zeros, one loop per output."""
    padded = np.pad(np.asarray(image, dtype=float), pad)
    kh, kw = kernel.shape
    sh, sw = strides
    out_h = (padded.shape[0] - kh) // sh + 1
    out_w = (padded.shape[1] - kw) // sw + 1
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += padded[i * sh + a, j * sw + b] * kernel[a, b]
    return out


def reference_transpose2d(image, kernel, stride=1):
    """Transposed convolution as a scatter: input pixel (i, j) adds image[i, j] * kernel at (i*s, j*s)."""
    n_h, n_w = image.shape
    kh, kw = kernel.shape
    out = np.zeros(((n_h - 1) * stride + kh, (n_w - 1) * stride + kw))
    for i in range(n_h):
        for j in range(n_w):
            for a in range(kh):
                for b in range(kw):
                    out[i * stride + a, j * stride + b] += image[i, j] * kernel[a, b]
    return out


def conv2d_single(image, kernel, **kwargs):
    """Run F.conv2d on one single-channel image with one filter and return the 2D map."""
    x = np.asarray(image, dtype=float)[None, :, :, None]
    w = np.asarray(kernel, dtype=float)[:, :, None, None]
    return F.conv2d(x, w, **kwargs).numpy()[0, :, :, 0]


def pool2d_single(pool, image, **kwargs):
    return pool(np.asarray(image, dtype=float)[None, :, :, None], **kwargs).numpy()[0, :, :, 0]


VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
KERNEL_0_TO_8 = np.arange(9, dtype=float).reshape(3, 3)  # [[0, 1, 2], [3, 4, 5], [6, 7, 8]]

# seed 000, "A simple exercise on Convolution": the 6x6 input image.
IMAGE_6X6 = np.array(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ],
    dtype=float,
)

# seed 001, "2D Convolution" / "Padding" / "2D Pooling": the 7x7 image.
IMAGE_7X7 = np.array(
    [
        [1, 6, 2, 8, 1, 2, 7],
        [1, 6, 2, 8, 1, 2, 5],
        [0, 5, 8, 1, 5, 7, 1],
        [1, 7, 1, 3, 5, 8, 0],
        [5, 2, 4, 4, 5, 8, 4],
        [8, 2, 3, 7, 3, 8, 2],
        [1, 2, 3, 6, 5, 9, 6],
    ],
    dtype=float,
)

# seed 004, "Zero padding" / "Stride" / "Pooling": the 4x6 input.
IMAGE_4X6 = np.array(
    [
        [1, 2, 3, 4, 4, 5],
        [6, 0, 7, 8, 9, 0],
        [4, 1, 7, 2, 9, 4],
        [9, 4, 9, 1, 4, 2],
    ],
    dtype=float,
)

# seed 001, "2D Convolution in Traditional Computer Vision": the 6x6 grey-level patch.
SOBEL_PATCH = np.array(
    [
        [0.8, 0.74, 0.6, 0.5, 0.47, 0.55],
        [0.81, 0.73, 0.58, 0.45, 0.41, 0.46],
        [0.81, 0.73, 0.58, 0.43, 0.35, 0.38],
        [0.81, 0.73, 0.58, 0.43, 0.31, 0.31],
        [0.82, 0.73, 0.61, 0.44, 0.29, 0.27],
        [0.83, 0.75, 0.62, 0.44, 0.27, 0.25],
    ]
)

# seed 003, "CNNs example: Edge Detection". The OCR reads the bright half as 1s, but the printed output
# band of 30s (= 3 rows x 10) needs 10s, as in the lecture the notes follow; OCR dropped the zeros.
BRIGHT_LEFT = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=float)
BAND_OF_30S = np.array([[0, 30, 30, 0]] * 4, dtype=float)


# --------------------------------------------------------------------------------------------------
# Single-channel 2D convolution
# --------------------------------------------------------------------------------------------------


def test_vertical_edge_filter_on_6x6_image_gives_slide_4x4_map():
    # seed 000, "A simple exercise on Convolution". First entry worked on the slide:
    # 3*1 + 0 + 1*-1 + 1*1 + 5*0 + 8*-1 + 2*1 + 7*0 + 2*-1 = -5.
    # Second entry by hand: (0 + 5 + 7) - (2 + 9 + 5) = -4; last entry: (1 + 6 + 2) - (8 + 8 + 9) = -16.
    expected = np.array(
        [
            [-5, -4, 0, 8],
            [-10, -2, 2, 3],
            [0, -2, -4, -7],
            [-3, -2, -3, -16],
        ],
        dtype=float,
    )
    out = conv2d_single(IMAGE_6X6, VERTICAL_EDGE)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(expected, reference_correlate2d(IMAGE_6X6, VERTICAL_EDGE))


def test_bright_left_dark_right_image_gives_band_of_30s():
    # seed 003, "CNNs example: Edge Detection": each row of a straddling window gives 10 - 0, three rows
    # give 30; windows entirely inside one half give 0.
    np.testing.assert_array_equal(conv2d_single(BRIGHT_LEFT, VERTICAL_EDGE), BAND_OF_30S)


def test_dark_left_bright_right_image_gives_band_of_minus_30s():
    # seed 003: "what if input was [0 0 0 10 10 10] ..." -- the same filter now sees 0 - 10 per row.
    dark_left = BRIGHT_LEFT[:, ::-1]
    np.testing.assert_array_equal(conv2d_single(dark_left, VERTICAL_EDGE), -BAND_OF_30S)


def test_mirrored_edge_filter_responds_positively_to_dark_to_bright_edge():
    # seed 003 says "if left of image is bright then [[-1, 0, 1], ...] is the right kernel". That is
    # backwards: [-1, 0, 1] gives +30 when the RIGHT side is bright (and -30 on the bright-left image).
    mirrored = VERTICAL_EDGE[:, ::-1]
    np.testing.assert_array_equal(conv2d_single(BRIGHT_LEFT[:, ::-1], mirrored), BAND_OF_30S)
    np.testing.assert_array_equal(conv2d_single(BRIGHT_LEFT, mirrored), -BAND_OF_30S)


def test_horizontal_edge_filter_gives_band_of_30s_for_bright_top_dark_bottom():
    # seed 003: [[1, 1, 1], [0, 0, 0], [-1, -1, -1]] "detects horizontal edges such that image is light
    # on top and dark at bottom": the transposed picture of the vertical example.
    horizontal_edge = VERTICAL_EDGE.T
    bright_top = BRIGHT_LEFT.T
    np.testing.assert_array_equal(conv2d_single(bright_top, horizontal_edge), BAND_OF_30S.T)


def test_2x2_kernel_on_3x3_input_gives_19_25_37_43():
    # seed 004, "1D Convolution to 2D Convolution" / "2D Convolution", all four sums printed on the slide:
    # 0*0 + 1*1 + 3*2 + 4*3 = 19, 1*0 + 2*1 + 4*2 + 5*3 = 25,
    # 3*0 + 4*1 + 6*2 + 7*3 = 37, 4*0 + 5*1 + 7*2 + 8*3 = 43.
    image = np.arange(9, dtype=float).reshape(3, 3)
    kernel = np.array([[0, 1], [2, 3]], dtype=float)
    expected = np.array([[19, 25], [37, 43]], dtype=float)
    np.testing.assert_array_equal(conv2d_single(image, kernel), expected)
    np.testing.assert_array_equal(F.correlate(image, kernel).numpy(), expected)


def test_all_ones_filter_on_7x7_image_gives_5x5_map_starting_31_46_36():
    # seed 001, "2D Convolution" (all weights 1); seed 000 also notes "the input is 7 by 7 but the output
    # is only 5 by 5". Slide row: 1+6+2+1+6+2+0+5+8 = 31, 6+2+8+6+2+8+5+8+1 = 46, 2+8+1+2+8+1+8+1+5 = 36.
    ones = np.ones((3, 3))
    out = conv2d_single(IMAGE_7X7, ones)
    assert out.shape == (5, 5)
    np.testing.assert_array_equal(out[0, :3], [31, 46, 36])
    np.testing.assert_array_equal(out, reference_correlate2d(IMAGE_7X7, ones))


def test_one_ring_of_zero_padding_keeps_7x7_image_at_7x7_with_corner_14():
    # seed 001, "Padding". The OCR shows the padded image as 9 rows by 10 columns (a stray extra zero
    # column); one ring around 7x7 is 9x9. Corner: 1 + 6 + 1 + 6 = 14; the valid map 31 46 36 moves to
    # row 1, columns 1..3, as the slide draws it.
    ones = np.ones((3, 3))
    out = conv2d_single(IMAGE_7X7, ones, padding=1)
    assert out.shape == (7, 7)
    assert out[0, 0] == 14
    np.testing.assert_array_equal(out[1, 1:4], [31, 46, 36])
    np.testing.assert_array_equal(out, reference_correlate2d(IMAGE_7X7, ones, pad=1))


def test_stride_2_on_7x7_image_gives_3x3_map_starting_31_36():
    # seed 001, "The stride of 2 will be used": the filter jumps from columns 0..2 to 2..4, so the first row
    # reads 31 then 36 (= 2+8+1+2+8+1+8+1+5); floor((7 - 3) / 2) + 1 = 3 outputs per side.
    ones = np.ones((3, 3))
    out = conv2d_single(IMAGE_7X7, ones, strides=2)
    assert out.shape == (3, 3)
    np.testing.assert_array_equal(out[0, :2], [31, 36])
    np.testing.assert_array_equal(out, reference_correlate2d(IMAGE_7X7, ones, strides=(2, 2)))
    assert F.conv_output_length(7, 3, strides=2) == 3


@pytest.mark.parametrize("padding", [1, "same"])
def test_padding_one_keeps_6x6_image_at_6x6(padding):
    # seed 000, "Output size": n + 2p - f + 1 = 6 + 2 - 3 + 1 = 6, "same" padding.
    # seed 003 prints the padded size as (n + 2p + f - 1), which would give 10; the correct rule is
    # n + 2p - f + 1.
    out = conv2d_single(IMAGE_6X6, VERTICAL_EDGE, padding=padding)
    assert out.shape == (6, 6)
    np.testing.assert_array_equal(out, reference_correlate2d(IMAGE_6X6, VERTICAL_EDGE, pad=1))


@pytest.mark.parametrize(("n", "f"), [(6, 3), (7, 3), (32, 5), (28, 5)])
def test_same_padding_p_equals_f_minus_1_over_2_preserves_size(n, f):
    # seed 000 / seed 003, "Same: n + 2p - f + 1 = n, so p = (f - 1) / 2".
    assert F.conv_output_length(n, f, padding=(f - 1) // 2) == n
    assert F.conv_output_length(n, f, padding="same") == n


def test_zero_padded_4x6_input_keeps_4x6_and_stride_2_gives_2x3():
    # seed 004, "Zero padding" (4x6 -> padded 6x8 -> 4x6) and "Stride" with S = 2:
    # floor((4 - 3 + 2) / 2 + 1) = floor(2.5) = 2 and floor((6 - 3 + 2) / 2 + 1) = floor(3.5) = 3.
    # The slide leaves the values to a figure; corner by hand: 4*1 + 5*2 + 7*6 + 8*0 = 56.
    same = conv2d_single(IMAGE_4X6, KERNEL_0_TO_8, padding=1)
    np.testing.assert_array_equal(same, reference_correlate2d(IMAGE_4X6, KERNEL_0_TO_8, pad=1))
    strided = conv2d_single(IMAGE_4X6, KERNEL_0_TO_8, padding=1, strides=2)
    assert strided.shape == (2, 3)
    assert strided[0, 0] == 56
    np.testing.assert_array_equal(strided, reference_correlate2d(IMAGE_4X6, KERNEL_0_TO_8, (2, 2), pad=1))
    np.testing.assert_array_equal(strided, same[::2, ::2])
    assert F.conv_output_length(4, 3, strides=2, padding=1) == 2
    assert F.conv_output_length(6, 3, strides=2, padding=1) == 3


def test_5x9_input_with_stride_2_down_and_3_across():
    # seed 000, "Stride (contd.)": a 5 by 9 image, stride 3 horizontally and 2 vertically; "new image is 1/3
    # size horizontally and 1/2 size vertically". The filter is only in a missing figure; we use a 3x3 one
    # centred on each visited pixel (one ring of padding, as in "Centre the 3x3 filter over it"): centres at
    # rows 0, 2, 4 and columns 0, 3, 6, so 3x3 out (9 / 3 = 3 across, ceil(5 / 2) = 3 down).
    image = np.arange(45, dtype=float).reshape(5, 9)
    kernel = np.arange(1, 10, dtype=float).reshape(3, 3)
    centred = conv2d_single(image, kernel, strides=(2, 3), padding=1)
    assert centred.shape == (3, 3)
    np.testing.assert_array_equal(centred, reference_correlate2d(image, kernel, strides=(2, 3), pad=1))
    # Without padding: floor((5 - 3) / 2) + 1 = 2 rows, floor((9 - 3) / 3) + 1 = 3 columns.
    valid = conv2d_single(image, kernel, strides=(2, 3))
    assert valid.shape == (2, 3)
    np.testing.assert_array_equal(valid, reference_correlate2d(image, kernel, strides=(2, 3)))
    assert conv2d_single(image, kernel, strides=(2, 3), padding="same").shape == (3, 3)
    assert F.conv_output_length(5, 3, strides=2, padding=1) == 3
    assert F.conv_output_length(9, 3, strides=3, padding=1) == 3


# --------------------------------------------------------------------------------------------------
# True convolution (flipped kernel) versus cross-correlation
# --------------------------------------------------------------------------------------------------


def test_1d_flip_and_filter_true_convolution_gives_2_3_4():
    # seed 004, "1D Convolution": w = [0.1, 0.2, 0.3, 0.4], g = [1, ..., 6], s[i] = sum_a w[i - a] g[a].
    # s[3] = 0.4*1 + 0.3*2 + 0.2*3 + 0.1*4 = 2, as printed.
    # slide prints s[4] = 4; the correct sum is 0.4*2 + 0.3*3 + 0.2*4 + 0.1*5 = 0.8 + 0.9 + 0.8 + 0.5 = 3.
    # slide prints s[5] = 5; the correct sum is 0.4*3 + 0.3*4 + 0.2*5 + 0.1*6 = 1.2 + 1.2 + 1.0 + 0.6 = 4.
    w = np.array([0.1, 0.2, 0.3, 0.4])
    g = np.array([1.0, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(F.convolve(g, w).numpy(), [2.0, 3.0, 4.0], rtol=0, atol=1e-12)
    # Full mode, s[0..8]; the slide's s[3], s[4], s[5] are the fully overlapping middle entries.
    # s[0] = 0.1*1, s[1] = 0.2*1 + 0.1*2, s[2] = 0.3*1 + 0.2*2 + 0.1*3, s[6] = 0.4*4 + 0.3*5 + 0.2*6,
    # s[7] = 0.4*5 + 0.3*6, s[8] = 0.4*6.
    full = [0.1, 0.4, 1.0, 2.0, 3.0, 4.0, 4.3, 3.8, 2.4]
    np.testing.assert_allclose(F.convolve(g, w, mode="full").numpy(), full, rtol=0, atol=1e-12)


def test_1d_cross_correlation_skips_the_flip():
    # seed 004, "Most machine learning libraries just implement a moving window cross-correlation":
    # without the flip, 0.1*1 + 0.2*2 + 0.3*3 + 0.4*4 = 3, then 4, then 5. A DL-style conv1d needs the
    # flipped kernel to reproduce the true convolution 2, 3, 4.
    w = np.array([0.1, 0.2, 0.3, 0.4])
    g = np.array([1.0, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(F.correlate(g, w).numpy(), [3.0, 4.0, 5.0], rtol=0, atol=1e-12)
    conv1d = F.conv1d(g[None, :, None], w[::-1, None, None].copy()).numpy()[0, :, 0]
    np.testing.assert_allclose(conv1d, [2.0, 3.0, 4.0], rtol=0, atol=1e-12)


def test_sobel_true_convolution_on_6x6_patch_gives_slide_edge_map():
    # seed 001, I_o(i, j) = sum_{p,q} w_{p,q} I_in(i - p, j - q): true convolution, so the Sobel kernel is
    # flipped to [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] and a bright-to-dark ramp gives negative values.
    # First entry by hand: (0.6 - 0.8) + 2*(0.58 - 0.81) + (0.58 - 0.81) = -0.2 - 0.46 - 0.23 = -0.89.
    # The slide's map seems to come from the unrounded image: computed from the printed two-decimal patch,
    # ten entries differ by 0.01-0.02. Slide vs correct: [0,1] -1.09 vs -1.10, [0,2] -0.71 vs -0.70,
    # [1,2] -0.91 vs -0.90, [1,3] -0.2 vs -0.21, [2,1] -1.2 vs -1.19, [2,2] -1.11 vs -1.09,
    # [2,3] -0.44 vs -0.46, [3,0] -0.87 vs -0.86, [3,1] -1.21 vs -1.19, [3,3] -0.63 vs -0.65.
    # e.g. [0,1]: (0.5 - 0.74) + 2*(0.45 - 0.73) + (0.43 - 0.73) = -0.24 - 0.56 - 0.30 = -1.10.
    expected = np.array(
        [
            [-0.89, -1.10, -0.70, 0.02],
            [-0.92, -1.18, -0.90, -0.21],
            [-0.90, -1.19, -1.09, -0.46],
            [-0.86, -1.19, -1.26, -0.65],
        ]
    )
    out = F.convolve(SOBEL_PATCH, SOBEL).numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(expected, reference_correlate2d(SOBEL_PATCH, SOBEL[::-1, ::-1]), atol=1e-12)


def test_sobel_cross_correlation_is_sign_flip_of_true_convolution():
    # seed 001 / seed 004: DL layers cross-correlate. Flipping the Sobel kernel in both axes negates it,
    # so the cross-correlation map is exactly the negative of the true-convolution map.
    correlated = F.correlate(SOBEL_PATCH, SOBEL).numpy()
    convolved = F.convolve(SOBEL_PATCH, SOBEL).numpy()
    np.testing.assert_allclose(correlated, -convolved, rtol=0, atol=1e-12)
    np.testing.assert_allclose(correlated, reference_correlate2d(SOBEL_PATCH, SOBEL), atol=1e-12)
    np.testing.assert_allclose(conv2d_single(SOBEL_PATCH, SOBEL), correlated, rtol=0, atol=1e-12)
    assert correlated[0, 0] == pytest.approx(0.89)


def test_true_convolution_equals_correlation_with_kernel_flipped_both_ways():
    # seed 003: "in some math textbooks the convolution operation means flipping the kernel horizontally
    # then vertically then taking the element-wise product". The kernel 0..8 is not symmetric, so the
    # flip matters.
    flipped = KERNEL_0_TO_8[::-1, ::-1]
    expected = reference_correlate2d(IMAGE_6X6, flipped)
    np.testing.assert_array_equal(F.convolve(IMAGE_6X6, KERNEL_0_TO_8).numpy(), expected)
    assert not np.array_equal(expected, reference_correlate2d(IMAGE_6X6, KERNEL_0_TO_8))


def test_true_convolution_is_associative():
    # seed 003: "(A * B) * C = A * (B * C), associativity" (holds for true, full-mode convolution).
    a = IMAGE_6X6
    b = KERNEL_0_TO_8
    c = np.array([[1.0, -2.0], [3.0, 0.5]])
    left = F.convolve(F.convolve(a, b, mode="full").numpy(), c, mode="full").numpy()
    right = F.convolve(a, F.convolve(b, c, mode="full").numpy(), mode="full").numpy()
    assert left.shape == (9, 9)
    np.testing.assert_allclose(left, right, rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# Multi-channel and multi-filter convolution
# --------------------------------------------------------------------------------------------------

# seed 004, "What would happen in case of colored images?". The OCR of the stacked 3D drawing is garbled;
# the unstacked per-channel matrices and kernels that follow it are clean and used verbatim.
RGB_CHANNELS = np.stack(
    [
        [[-2, -1, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]],
        [[-3, -2, -1, 0], [1, 2, 3, 4], [5, 6, 7, 8]],
        [[-6, -2, 3, 0], [1, 2, 3, 4], [5, 4, 2, 8]],
    ],
    axis=-1,
).astype(float)
RGB_KERNEL = np.stack(
    [
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]],
        [[0, -4, 0], [3, 0, 5], [2, -1, 8]],
        [[-1, 1, 2], [3, 2, 0], [6, 0, 1]],
    ],
    axis=-1,
).astype(float)


def test_rgb_3x3x3_filter_adds_per_channel_sums_into_one_map():
    # seed 004. Left window, channel by channel:
    #   (-2)(0) + (-1)(1) + 0*2 + 2*3 + 3*4 + 4*5 + 6*6 + 7*7 + 8*8 = -1 + 38 + 149 = 186
    #   (slide prints 188 for this sum, and hence 323 for the total),
    #   0 + (-2)(-4) + 0 + 1*3 + 0 + 3*5 + 5*2 + 6*(-1) + 7*8 = 86,
    #   (-6)(-1) + (-2)(1) + 3*2 + 1*3 + 2*2 + 0 + 5*6 + 0 + 2*1 = 49; total 186 + 86 + 49 = 321.
    # Right window (as printed): 2 + 50 + 170 = 222, 4 + 6 + 20 + 12 - 7 + 64 = 99,
    # 2 + 3 + 6 + 6 + 24 + 8 = 49; total 370. No bias is shown on the slide.
    out = F.conv2d(RGB_CHANNELS[None], RGB_KERNEL[..., None]).numpy()
    assert out.shape == (1, 1, 2, 1)
    np.testing.assert_array_equal(out[0, 0, :, 0], [321, 370])


def test_rgb_example_per_channel_sums_via_grouped_convolution():
    # seed 004: the three per-channel sums before they are added: [186, 86, 49] and [222, 99, 49].
    # With groups=3 each output channel sees only its own input channel.
    per_channel = F.conv2d(RGB_CHANNELS[None], RGB_KERNEL[:, :, None, :], groups=3).numpy()
    np.testing.assert_array_equal(per_channel[0, 0], [[186, 86, 49], [222, 99, 49]])


def test_6x6x3_input_with_one_3x3x3_filter_gives_single_4x4_map():
    # seed 000 "Convolutions Over 3D Vol" / seed 003 "CONVOLUTIONS OVER VOLUME": 6x6x3 * 3x3x3 -> 4x4,
    # each output the sum of 27 products (9 per channel).
    rng = np.random.default_rng(0)
    image = rng.integers(-5, 6, size=(6, 6, 3)).astype(float)
    kernel = rng.integers(-3, 4, size=(3, 3, 3)).astype(float)
    out = F.conv2d(image[None], kernel[..., None]).numpy()
    assert out.shape == (1, 4, 4, 1)
    expected = sum(reference_correlate2d(image[:, :, c], kernel[:, :, c]) for c in range(3))
    np.testing.assert_array_equal(out[0, :, :, 0], expected)


def test_four_filters_on_6_channel_input_give_4_output_channels():
    # seed 000, "CASE 4": input 6 channels deep, 4 filters of 3x3x6 -> 4 output channels, one per filter.
    rng = np.random.default_rng(1)
    image = rng.integers(-5, 6, size=(6, 6, 6)).astype(float)
    kernels = rng.integers(-3, 4, size=(3, 3, 6, 4)).astype(float)
    out = F.conv2d(image[None], kernels).numpy()
    assert out.shape == (1, 4, 4, 4)
    for k in range(4):
        expected = sum(reference_correlate2d(image[:, :, c], kernels[:, :, c, k]) for c in range(6))
        np.testing.assert_array_equal(out[0, :, :, k], expected)


def test_depthwise_then_pointwise_convolution_on_6x6x3_gives_4x4x5():
    # seed 003, "MOBILENET": depthwise 6x6x3 * 3x3 (one per channel) -> 4x4x3, then pointwise 1x1x3 with
    # 5 filters -> 4x4x5. Multiplications: depthwise 4*4*3 outputs x 9 = 432 (OCR "43^2"), pointwise
    # 4*4*5 x 3 = 240 (slide prints 290), total 672 vs 4*4*5 x 27 = 2160 for a normal convolution.
    # The slide's ratio 1/n_c + 1/f^3 should be 1/n_c' + 1/f^2 = 1/5 + 1/9 = 672/2160.
    rng = np.random.default_rng(2)
    image = rng.integers(-5, 6, size=(6, 6, 3)).astype(float)
    depth_kernel = rng.integers(-3, 4, size=(3, 3, 1, 3)).astype(float)
    point_kernel = rng.integers(-3, 4, size=(1, 1, 3, 5)).astype(float)
    depthwise = F.conv2d(image[None], depth_kernel, groups=3).numpy()
    assert depthwise.shape == (1, 4, 4, 3)
    for c in range(3):
        expected = reference_correlate2d(image[:, :, c], depth_kernel[:, :, 0, c])
        np.testing.assert_array_equal(depthwise[0, :, :, c], expected)
    pointwise = F.conv2d(depthwise, point_kernel).numpy()
    assert pointwise.shape == (1, 4, 4, 5)
    np.testing.assert_array_equal(pointwise[0], depthwise[0] @ point_kernel[0, 0])
    assert depthwise.size * 9 + pointwise.size * 3 == 432 + 240 == 672
    assert pointwise.size * 27 == 2160


def test_1x1_convolution_shrinks_28x28x192_to_28x28x16():
    # seed 003, "1x1 convolutions" / bottleneck: 28x28x192 -> 1x1 conv -> 28x28x16. Each output pixel is the
    # 192-vector at that pixel times the 192x16 weight matrix.
    rng = np.random.default_rng(3)
    image = rng.standard_normal((1, 28, 28, 192))
    kernel = rng.standard_normal((1, 1, 192, 16))
    out = F.conv2d(image, kernel).numpy()
    assert out.shape == (1, 28, 28, 16)
    np.testing.assert_allclose(out[0, 5, 7], image[0, 5, 7] @ kernel[0, 0], rtol=1e-10)


# --------------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------------


def test_max_pool_2x2_stride_2_on_4x4_gives_9_2_6_3():
    # seed 000, "Max pooling": max(1, 3, 2, 9) = 9, max(2, 1, 1, 1) = 2, max(1, 3, 5, 6) = 6,
    # max(2, 3, 1, 2) = 3.
    # seed 003 prints the pooled size as floor((N - f + 1) / s), which gives floor(3 / 2) = 1 here; the
    # correct rule floor((N - f) / s) + 1 gives 2.
    image = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)
    expected = np.array([[9, 2], [6, 3]], dtype=float)
    np.testing.assert_array_equal(pool2d_single(F.max_pool2d, image, pool_size=2, strides=2), expected)
    np.testing.assert_array_equal(pool2d_single(F.max_pool2d, image, pool_size=2), expected)


def test_avg_pool_2x2_stride_2_on_4x4_gives_3_75_1_25_4_2():
    # seed 000, "Average pooling". Its third row reads 1 4 2 3 (the max-pooling slide has 1 3 2 3); the
    # printed 4 confirms it: (1 + 4 + 5 + 6) / 4 = 4. Others: (1+3+2+9)/4 = 3.75, (2+1+1+1)/4 = 1.25,
    # (2+3+1+2)/4 = 2.
    image = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 4, 2, 3], [5, 6, 1, 2]], dtype=float)
    expected = np.array([[3.75, 1.25], [4.0, 2.0]])
    np.testing.assert_array_equal(pool2d_single(F.avg_pool2d, image, pool_size=2, strides=2), expected)


def test_max_pool_2x2_stride_2_on_4x6_gives_6_8_9_9_9_9():
    # seed 004, "Pooling": max(1, 2, 6, 0) = 6, max(3, 4, 7, 8) = 8, max(4, 5, 9, 0) = 9,
    # max(4, 1, 9, 4) = 9, max(7, 2, 9, 1) = 9, max(9, 4, 4, 2) = 9.
    expected = np.array([[6, 8, 9], [9, 9, 9]], dtype=float)
    np.testing.assert_array_equal(pool2d_single(F.max_pool2d, IMAGE_4X6, pool_size=2, strides=2), expected)


def test_max_pool_2x2_stride_2_on_7x7_gives_3x3_dropping_last_row_and_column():
    # seed 001, "2D Pooling": the slide fills 6 8 2 / 7 ...; by hand the rest is
    # max(8, 1, 1, 3) = 8, max(5, 7, 5, 8) = 8, max(5, 2, 8, 2) = 8, max(4, 4, 3, 7) = 7, max(5, 8, 3, 8) = 8.
    # Row 6 and column 6 fall outside every window (floor((7 - 2) / 2) + 1 = 3).
    expected = np.array([[6, 8, 2], [7, 8, 8], [8, 7, 8]], dtype=float)
    np.testing.assert_array_equal(pool2d_single(F.max_pool2d, IMAGE_7X7, pool_size=2, strides=2), expected)


def test_pooling_acts_on_each_channel_separately():
    # seed 001: "Pooling is done each channel separately." Stack the 7x7 image with its negative.
    stacked = np.stack([IMAGE_7X7, -IMAGE_7X7], axis=-1)[None]
    out = F.max_pool2d(stacked, pool_size=2, strides=2).numpy()
    np.testing.assert_array_equal(out[0, :, :, 0], [[6, 8, 2], [7, 8, 8], [8, 7, 8]])
    # max of the negatives = -min: min(1, 6, 1, 6) = 1, min(2, 8, 2, 8) = 2, min(1, 2, 1, 2) = 1, ...
    np.testing.assert_array_equal(out[0, :, :, 1], [[-1, -2, -1], [0, -1, -5], [-2, -3, -3]])


# --------------------------------------------------------------------------------------------------
# Transposed convolution and fractional striding
# --------------------------------------------------------------------------------------------------


def test_transposed_convolution_of_3x3_input_with_3x3_filter_gives_5x5():
    # seed 000, "Transposed convolution": input 3x3, filter 3x3, output 5x5. With all ones, each output
    # counts the overlapping filter placements: the outer product of [1, 2, 3, 2, 1] with itself.
    counts = np.array([1, 2, 3, 2, 1], dtype=float)
    ones = F.conv_transpose2d(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1))).numpy()
    np.testing.assert_array_equal(ones[0, :, :, 0], np.outer(counts, counts))
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    out = F.conv_transpose2d(image[None, :, :, None], KERNEL_0_TO_8[:, :, None, None]).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, reference_transpose2d(image, KERNEL_0_TO_8))
    assert F.conv_transpose_output_length(3, 3) == 5


def test_transposed_convolution_equals_padding_two_rings_and_convolving():
    # seed 000: "Soln: Pad image with 2 rings of zeros" and convolve (true convolution: flipped kernel).
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    transposed = F.conv_transpose2d(image[None, :, :, None], KERNEL_0_TO_8[:, :, None, None]).numpy()
    padded_conv = conv2d_single(image, KERNEL_0_TO_8[::-1, ::-1], padding=2)
    np.testing.assert_array_equal(transposed[0, :, :, 0], padded_conv)
    np.testing.assert_array_equal(padded_conv, reference_correlate2d(image, KERNEL_0_TO_8[::-1, ::-1], pad=2))


def test_more_rings_of_zero_padding_only_add_rings_of_zeros():
    # seed 000: "We can make output even larger (with more rings of zeros), but that'll produce only rings of
    # zeros in output". Three rings: 3 + 6 - 3 + 1 = 7, the 5x5 two-ring result framed by zeros.
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    three_rings = conv2d_single(image, KERNEL_0_TO_8, padding=3)
    assert three_rings.shape == (7, 7)
    np.testing.assert_array_equal(three_rings[1:-1, 1:-1], conv2d_single(image, KERNEL_0_TO_8, padding=2))
    np.testing.assert_array_equal(three_rings, np.pad(three_rings[1:-1, 1:-1], 1))


@pytest.mark.parametrize(("stride", "size"), [(2, 7), (3, 9)])
def test_fractional_striding_spreads_3x3_input_to_7x7_and_9x9(stride, size):
    # seed 000, "Dilated Convolution": "spread out input images by inserting padding both around and between
    # input elements", Input 3x3 => Output 7x7, Input 3x3 => Output 9x9. (The slide calls it dilated; it is
    # the fractionally-strided / transposed convolution.) With a 3x3 filter: one zero between elements
    # (stride 2) gives 5x5, two rings around give 9x9, convolving gives 7x7; two zeros between (stride 3)
    # give 7x7 -> 11x11 -> 9x9. Keras rule: (3 - 1) * s + 3.
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    spread = np.zeros((2 * stride + 1, 2 * stride + 1))
    spread[::stride, ::stride] = image
    expected = reference_correlate2d(spread, KERNEL_0_TO_8[::-1, ::-1], pad=2)
    assert expected.shape == (size, size)
    out = F.conv_transpose2d(image[None, :, :, None], KERNEL_0_TO_8[:, :, None, None], strides=stride).numpy()
    np.testing.assert_array_equal(out[0, :, :, 0], expected)
    np.testing.assert_array_equal(expected, reference_transpose2d(image, KERNEL_0_TO_8, stride))
    assert F.conv_transpose_output_length(3, 3, strides=stride) == size


# --------------------------------------------------------------------------------------------------
# Layer shape arithmetic from the architecture examples
# --------------------------------------------------------------------------------------------------


def test_alexnet_first_layer_maps_227x227x3_to_55x55x96():
    # seed 002, "Understanding the input/output dimensions" and seed 004, "Example for determining sizes":
    # 11x11x3 filters, K = 96, P = 0, S = 4: floor((227 - 11) / 4 + 1) = floor(216 / 4 + 1) = 55.
    # (seed 002's OCR prints (W_I F + 2P) / S + 1; the minus sign is lost: (W_I - F + 2P) / S + 1.)
    assert F.conv_output_length(227, 11, strides=4) == 55
    rng = np.random.default_rng(4)
    image = rng.standard_normal((1, 227, 227, 3))
    kernel = rng.standard_normal((11, 11, 3, 96))
    out = F.conv2d(image, kernel, strides=4).numpy()
    assert out.shape == (1, 55, 55, 96)
    # The last window starts at 54 * 4 = 216 and ends exactly on the last pixel, 216 + 10 = 226.
    last = np.einsum("hwc,hwck->k", image[0, 216:227, 216:227], kernel)
    np.testing.assert_allclose(out[0, 54, 54], last, rtol=1e-10)
    first = np.einsum("hwc,hwck->k", image[0, :11, :11], kernel)
    np.testing.assert_allclose(out[0, 0, 0], first, rtol=1e-10)


def test_series_600x600x1_to_300x300x8_to_100x100x4():
    # seed 000, "Creating a series of convolutions": 8 filters 5x5, two rings of zeros, stride 2:
    # floor((600 + 4 - 5) / 2) + 1 = 299 + 1 = 300. Then 4 filters 3x3x8, one ring, stride 3:
    # floor((300 + 2 - 3) / 3) + 1 = 99 + 1 = 100.
    assert F.conv_output_length(600, 5, strides=2, padding=2) == 300
    assert F.conv_output_length(300, 3, strides=3, padding=1) == 100
    rng = np.random.default_rng(5)
    image = rng.standard_normal((1, 600, 600, 1))
    kernel1 = rng.standard_normal((5, 5, 1, 8))
    kernel2 = rng.standard_normal((3, 3, 8, 4))
    first = F.conv2d(image, kernel1, strides=2, padding=2).numpy()
    assert first.shape == (1, 300, 300, 8)
    # Top-left output: the 5x5 window centred on pixel (0, 0), so only the kernel's lower-right 3x3 meets
    # the image.
    corner = np.einsum("hw,hwk->k", image[0, :3, :3, 0], kernel1[2:, 2:, 0])
    np.testing.assert_allclose(first[0, 0, 0], corner, rtol=1e-10)
    second = F.conv2d(first, kernel2, strides=3, padding=1).numpy()
    assert second.shape == (1, 100, 100, 4)
    # Output (1, 1) is the 3x3 window of `first` starting at row/column 3 - 1 = 2.
    window = np.einsum("hwc,hwck->k", first[0, 2:5, 2:5], kernel2)
    np.testing.assert_allclose(second[0, 1, 1], window, rtol=1e-10)


def test_mnist_convnet_shapes_28_to_26_to_24_to_12_and_9216_features():
    # seed 000, "Image Classifier from Keras": 28x28x1 -> 32 filters 3x3 -> 26x26x32 -> 64 filters 3x3x32
    # -> 24x24x64 -> 2x2 max pool -> 12x12x64 -> flatten 12 * 12 * 64 = 9216.
    rng = np.random.default_rng(6)
    x = F.conv2d(rng.standard_normal((1, 28, 28, 1)), rng.standard_normal((3, 3, 1, 32)))
    assert x.shape == (1, 26, 26, 32)
    x = F.conv2d(x, rng.standard_normal((3, 3, 32, 64)))
    assert x.shape == (1, 24, 24, 64)
    x = F.max_pool2d(x, pool_size=2)
    assert x.shape == (1, 12, 12, 64)
    assert x.numpy().size == 9216


def test_lenet5_shapes_32_to_28_to_14_to_10_to_5():
    # seed 002 "Our First CNN", seed 003 LeNet-5 table, seed 004 "LeNet": 5x5 conv (6) -> 2x2/2 pool ->
    # 5x5 conv (16) -> 2x2/2 pool: floor((32 - 5) / 1 + 1) = 28, floor((28 - 2) / 2 + 1) = 14,
    # floor((14 - 5) / 1 + 1) = 10, floor((10 - 2) / 2 + 1) = 5; 5 * 5 * 16 = 400 features.
    # seed 002 prints pooling layer 2 with stride 1 and a 14x14 output; it is stride 2 and 5x5x16.
    # seed 003's table (RGB input) prints CONV1 as (8, 20, 6) with size 4707; it is (28, 28, 6), 4704.
    for channels in (1, 3):
        rng = np.random.default_rng(7)
        x = F.conv2d(rng.standard_normal((1, 32, 32, channels)), rng.standard_normal((5, 5, channels, 6)))
        assert x.shape == (1, 28, 28, 6)
        assert x.numpy().size == 4704
        x = F.avg_pool2d(x, pool_size=2, strides=2)
        assert x.shape == (1, 14, 14, 6)
        x = F.conv2d(x, rng.standard_normal((5, 5, 6, 16)))
        assert x.shape == (1, 10, 10, 16)
        x = F.max_pool2d(x, pool_size=2, strides=2)
        assert x.shape == (1, 5, 5, 16)
        assert x.numpy().size == 400


def test_simple_convnet_example_17x17x20_then_7x7x40_gives_1960_features():
    # seed 003, "Simple Convolutional Net example": f = 5, s = 2, p = 0, 20 filters -> 17x17x20, later
    # flattened to 1960. The OCR lost the figure; the input 39x39x3 -> (3x3, 10 filters) 37x37x10 and the
    # last layer (5x5, s = 2, 40 filters) come from the lecture it follows, and agree with 17 and 1960:
    # floor((37 - 5) / 2) + 1 = 17, floor((17 - 5) / 2) + 1 = 7, 7 * 7 * 40 = 1960.
    assert F.conv_output_length(39, 3) == 37
    assert F.conv_output_length(37, 5, strides=2) == 17
    assert F.conv_output_length(17, 5, strides=2) == 7
    rng = np.random.default_rng(8)
    x = F.conv2d(rng.standard_normal((1, 39, 39, 3)), rng.standard_normal((3, 3, 3, 10)))
    x = F.conv2d(x, rng.standard_normal((5, 5, 10, 20)), strides=2)
    assert x.shape == (1, 17, 17, 20)
    x = F.conv2d(x, rng.standard_normal((5, 5, 20, 40)), strides=2)
    assert x.shape == (1, 7, 7, 40)
    assert x.numpy().size == 1960
