"""The vectorized direct convolution (blocks of output pixels x output-channel vectors in SIMD registers) computes
what the direct loop computes: every block size, the edge columns and corners beside the padding, both dtypes."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, assert_padded_equals_direct, generated_cases, tiny_chunks  # noqa: F401

from striate.algorithms import direct, vectorized

# float64: vectors of 8 values, so 8 and 24 output channels take one vector per block, 16 and 48 two, and 1, 3, 6
# and 20 fill their last vector only partly (masked stores and loads); widths up to 24 outputs give runs of 8 with a
# last block moved back, and runs of 4, 2 and 1
CASES = generated_cases(16, seed=21, ranks=(2,), kernel_sizes=(1, 2, 3, 5), groups=(1,), per_group_in=(1, 3, 8),
                        per_group_out=(1, 3, 6, 8, 16, 20, 24, 48), extra=(0, 24), batch=(1, 3))


def _paddings(seed, rank=2):
    """Two paddings, a (before, after) pair per axis, of up to 4 cells, so some exceed the kernel's reach."""
    rng = np.random.default_rng(seed)
    return [tuple((int(rng.integers(0, 5)), int(rng.integers(0, 5))) for _ in range(rank)) for _ in range(2)]


CASES_1D = generated_cases(6, seed=22, ranks=(1,), kernel_sizes=(1, 3, 5), groups=(1,), per_group_in=(2, 8),
                           per_group_out=(5, 8, 16), extra=(0, 24))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES + CASES_1D)
def test_vectorized_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(vectorized, x, kernel, strides, dilation, groups)


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:10] + CASES_1D[:3])
def test_vectorized_with_its_own_zero_padding_equals_direct_on_the_padded_input(x, kernel, strides, dilation,
                                                                                groups):
    """Padding within and beyond the kernel's reach: the edge columns run down the column, the corners alone, and
    outputs whose whole window is padding are zeros (a 1-D layer: as 2-D of height 1)."""
    for padding in _paddings(seed=x.size, rank=x.ndim - 2):
        assert_padded_equals_direct(vectorized, x, kernel, strides, dilation, groups, padding)


@pytest.mark.parametrize("padding", [((1, 1), (1, 1)), ((0, 2), (3, 0))])
def test_vectorized_input_gradient_of_16_channels_is_the_full_convolution_and_equals_direct(padding):
    """Stride 1 and 16 input channels: dx by the same loop over dy with the flipped, transposed kernel."""
    rng = np.random.default_rng(4)
    x, kernel = rng.standard_normal((2, 7, 19, 16)), rng.standard_normal((3, 3, 16, 8))
    assert_padded_equals_direct(vectorized, x, kernel, (1, 1), (1, 1), 1, padding)


@pytest.mark.parametrize(("kernel_shape", "strides", "padding"), [
    ((3, 3), (2, 2), ((1, 1), (1, 1))),  # ResNet's downsampling layers: phases of 2x2, 2x1, 1x2 and 1x1 cells
    ((1, 1), (2, 2), ((0, 0), (0, 0))),  # a kernel smaller than the stride: three phases get no cell (zeros)
    ((2, 3), (3, 2), ((0, 1), (2, 0))),
    ((5, 4), (2, 3), ((4, 3), (0, 2))),  # padding as far as the kernel reaches
    ((3, 2), (3, 3), ((5, 0), (1, 4))),  # padding beyond the reach: some phases read padding only
    ((3,), (2,), ((2, 1),)),  # 1-D
])
def test_vectorized_strided_input_gradient_phase_by_phase_equals_direct(kernel_shape, strides, padding):
    """Stride > 1: dx phase by phase (the cells a with a + before = r mod s), each phase a stride-1 loop over dy
    with the kernel cells r, r + s, ..., written to every s-th cell of dx."""
    rng = np.random.default_rng(sum(kernel_shape) + sum(strides))
    spatial = (11, 9)[-len(kernel_shape):]
    x, kernel = rng.standard_normal((2, *spatial, 6)), rng.standard_normal((*kernel_shape, 6, 20))
    assert_padded_equals_direct(vectorized, x, kernel, strides, (1,) * len(strides), 1, padding)


@pytest.mark.parametrize(("kernel_shape", "channels_in", "channels_out", "strides", "dilation"), [
    ((5, 5), 1, 6, (1, 1), (1, 1)),  # LeNet's first layer: blocks of 3 and then 2 whole kernel rows
    ((3, 3), 1, 16, (1, 2), (2, 1)),  # the whole kernel in one block, its rows 2 apart
    ((3, 3), 3, 16, (2, 2), (1, 1)),  # one kernel row per block, as a first layer on colour images
    ((3, 7), 3, 20, (1, 2), (2, 1)),  # 5 of 7 cells of a row per block, then the last 2
    ((5, 5), 6, 16, (1, 1), (2, 2)),  # LeNet's second layer: 2 cells per block, then the last 1
    ((2, 3), 8, 48, (2, 1), (1, 1)),  # float64: 48 channels are 3 vectors, so one per block
    ((4, 1), 2, 32, (1, 1), (1, 1)),  # float64: 32 channels in blocks of 2 vectors
])
def test_vectorized_kernel_gradient_of_few_channels_in_blocks_of_kernel_cells_equals_direct(
        kernel_shape, channels_in, channels_out, strides, dilation):
    """Up to 8 input channels: each block sums several kernel cells (rows x columns x channels) of dy's row, on x
    padded beforehand; the kernel's last rows and columns in smaller blocks."""
    rng = np.random.default_rng(channels_in * channels_out)
    x = rng.standard_normal((2, 13, 17, channels_in))
    kernel = rng.standard_normal((*kernel_shape, channels_in, channels_out))
    assert_padded_equals_direct(vectorized, x, kernel, strides, dilation, 1, ((2, 1), (0, 3)))


@pytest.mark.parametrize(("width", "channels_out", "strides", "dilation", "dtype"), [
    (28, 6, (1, 1), (1, 1), np.float32),  # LeNet's first layer: rows of 28 pixels in two vectors of 16
    (37, 1, (2, 1), (1, 2), np.float64),  # one channel: 4 vectors per block (of 8 float64), the last one partly
    (9, 3, (1, 1), (2, 1), np.float32),  # a row shorter than one vector: masked loads and scatters only
    (40, 3, (1, 2), (1, 1), np.float32),  # stride 2 along the width: the channel lanes' loop instead, but the
                                          # input gradient's phases (stride 1) take pixels, every 2nd of dx
])
def test_vectorized_with_few_filters_and_pixels_in_the_lanes_equals_direct(width, channels_out, strides, dilation,
                                                                          dtype):
    """Few output channels: blocks of neighbouring output pixels in the vector lanes, on x laid out channels-first,
    each pixel's channels scattered into y; and the input gradients of layers with few input channels, whose
    stride-1 phases are such convolutions (writing every s-th cell of dx)."""
    rng = np.random.default_rng(width)
    x = rng.standard_normal((2, 11, width, 4)).astype(dtype)
    kernel = rng.standard_normal((3, 5, 4, channels_out)).astype(dtype)
    padding = ((2, 1), (1, 3))
    padded = np.pad(x.astype(np.float64), ((0, 0), *padding, (0, 0)))
    expected = direct.conv_forward(padded, kernel.astype(np.float64), strides, dilation, 1)
    y = vectorized.conv_forward(x, kernel, strides, dilation, 1, padding=padding)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    # the input gradient of a layer from `channels_out` channels to 4: dx has few channels
    layer_x, layer_kernel = y, kernel.transpose(0, 1, 3, 2).copy()
    grad_output = rng.standard_normal(direct.conv_forward(np.pad(layer_x, ((0, 0), *padding, (0, 0))), layer_kernel,
                                                          strides, dilation, 1).shape).astype(dtype)
    expected = direct.conv_input_gradient(grad_output.astype(np.float64), layer_kernel.astype(np.float64),
                                          np.pad(layer_x, ((0, 0), *padding, (0, 0))).shape, strides, dilation, 1)
    inside = (slice(None), slice(2, 2 + layer_x.shape[1]), slice(1, 1 + layer_x.shape[2]))
    got = vectorized.conv_input_gradient(grad_output, layer_kernel, layer_x.shape, strides, dilation, 1,
                                         padding=padding)
    np.testing.assert_allclose(got, expected[inside], rtol=1e-4, atol=1e-4)


def test_vectorized_with_pixels_in_the_lanes_computes_in_the_wider_dtype_of_x_and_kernel():
    """float64 x, float32 kernel of 6 filters (pixels in the lanes): the kernel is widened, as NumPy would."""
    rng = np.random.default_rng(5)
    x, kernel = rng.standard_normal((2, 9, 20, 3)), rng.standard_normal((3, 3, 3, 6)).astype(np.float32)
    y = vectorized.conv_forward(x, kernel, (1, 1), (1, 1), 1, padding=((1, 1), (1, 1)))
    expected = direct.conv_forward(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), kernel.astype(np.float64), (1, 1),
                                   (1, 1), 1)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("channels_in", "channels_out", "stride"), [(3, 16, 1), (16, 16, 1), (16, 32, 2),
                                                                     (32, 48, 1), (1, 6, 1), (6, 20, 1)])
def test_vectorized_float32_layers_equal_direct_in_float64(channels_in, channels_out, stride):
    """float32: vectors of 16 values, one (16, 48 channels) or two (32) per block, as ResNet-20's layers, and
    LeNet's 6 or 20 filling their last vector partly."""
    rng = np.random.default_rng(channels_in + channels_out)
    x = rng.standard_normal((2, 12, 20, channels_in), dtype=np.float32)
    kernel = rng.standard_normal((3, 3, channels_in, channels_out), dtype=np.float32)
    y = vectorized.conv_forward(x, kernel, (stride, stride), (1, 1), 1, padding=((1, 1), (1, 1)))
    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = direct.conv_forward(padded, kernel.astype(np.float64), (stride, stride), (1, 1), 1)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("min_pixels", [0, 10**9])  # every kernel laid out in blocks; none
@pytest.mark.parametrize(("channels_in", "channels_out"), [(5, 48), (24, 20), (40, 3)])
def test_vectorized_kernel_in_blocks_of_filters_or_side_by_side_equals_direct(monkeypatch, min_pixels, channels_in,
                                                                              channels_out):
    """float64: 48 filters are three blocks of two vectors, 20 three blocks of one (the last partly filled); 40
    input channels make the input gradient's flipped kernel five blocks. Forward with bias and relu, both gradients,
    strides 1 and 2, in either layout of the kernel."""
    monkeypatch.setattr(vectorized, "BLOCKED_KERNEL_MIN_PIXELS", min_pixels)
    rng = np.random.default_rng(channels_in * channels_out)
    x = rng.standard_normal((2, 9, 11, channels_in))
    kernel = rng.standard_normal((3, 3, channels_in, channels_out))
    for strides in ((1, 1), (2, 2)):
        assert_padded_equals_direct(vectorized, x, kernel, strides, (1, 1), 1, ((1, 1), (1, 1)))
    bias = rng.standard_normal(channels_out)
    y = vectorized.conv_forward(x, kernel, (1, 1), (1, 1), 1, padding=((1, 1), (1, 1)), bias=bias, relu=True)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.maximum(direct.conv_forward(padded, kernel, (1, 1), (1, 1), 1) + bias, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:4])
def test_vectorized_in_one_image_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_padded_equals_direct(vectorized, x, kernel, strides, dilation, groups, ((1, 2), (2, 1)))


# groups of a input and b output channels; float64's vectors of 8 take b = 1, 2 and 4 several groups per vector
# (lane groups), b = 8 and 16 one or two vectors per group, and the input gradient the same with a and b swapped
GROUPED_CASES = generated_cases(14, seed=23, ranks=(2, 2, 1), kernel_sizes=(1, 2, 3), groups=(2, 3, 5),
                                per_group_in=(2, 4, 8, 16), per_group_out=(1, 2, 4, 8, 16), extra=(0, 12),
                                batch=(1, 3))


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), GROUPED_CASES)
def test_vectorized_grouped_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(vectorized, x, kernel, strides, dilation, groups)
    assert_padded_equals_direct(vectorized, x, kernel, strides, dilation, groups, _paddings(x.size, x.ndim - 2)[0])


@pytest.mark.parametrize(("groups", "group_in", "group_out"), [
    (32, 4, 4),  # ResNeXt's 32 groups of 4: four groups per vector of 16 float32
    (3, 2, 8),  # two groups per vector; 24 output channels: the last vector half full (masked loads and stores)
    (4, 16, 16),  # one vector per group
    (2, 8, 32),  # two vectors per group; the input gradient's groups of 8 filters share vectors
])
def test_vectorized_grouped_float32_layers_equal_direct_in_float64(groups, group_in, group_out):
    """float32's vectors of 16: groups of 4 or 8 output channels share a vector, 16 and 32 fill one or two; forward
    with bias and relu, both gradients, against direct's float64 sums."""
    rng = np.random.default_rng(groups * group_in + group_out)
    x = rng.standard_normal((2, 7, 12, groups * group_in), dtype=np.float32)
    kernel = rng.standard_normal((3, 3, group_in, groups * group_out), dtype=np.float32)
    bias = rng.standard_normal(groups * group_out, dtype=np.float32)
    padding = ((1, 1), (1, 1))
    padded = np.pad(x, ((0, 0), *padding, (0, 0))).astype(np.float64)
    wide_kernel = kernel.astype(np.float64)
    expected = np.maximum(direct.conv_forward(padded, wide_kernel, (1, 1), (1, 1), groups) + bias, 0)
    y = vectorized.conv_forward(x, kernel, (1, 1), (1, 1), groups, padding, bias, True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    grad_output = rng.standard_normal(y.shape, dtype=np.float32)
    expected = direct.conv_input_gradient(grad_output.astype(np.float64), wide_kernel, padded.shape, (1, 1), (1, 1),
                                          groups)[:, 1:-1, 1:-1]
    got = vectorized.conv_input_gradient(grad_output, kernel, x.shape, (1, 1), (1, 1), groups, padding)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    expected = direct.conv_kernel_gradient(padded, grad_output.astype(np.float64), kernel.shape, (1, 1), (1, 1), groups)
    got = vectorized.conv_kernel_gradient(x, grad_output, kernel.shape, (1, 1), (1, 1), groups, padding)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), GROUPED_CASES[:3])
def test_vectorized_grouped_in_one_image_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_padded_equals_direct(vectorized, x, kernel, strides, dilation, groups, ((1, 2), (2, 1))[2 - (x.ndim - 2):])


def test_vectorized_refuses_depthwise_and_groups_whose_channels_do_not_suit_its_vectors():
    with pytest.raises(ValueError, match=r"vectorized needs a 1-D or 2-D kernel, and groups=1 or groups of at least "
                                         r"two input channels whose input and output channel counts divide 16 or are "
                                         r"multiples of it; received a kernel of shape \(3, 3, 1, 16\) with groups=2"):
        vectorized.conv_forward(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 1, 16)), (1, 1), (1, 1), 2)
    with pytest.raises(ValueError, match=r"received a kernel of shape \(3, 3, 3, 8\) with groups=2"):
        vectorized.conv_kernel_gradient(np.zeros((1, 5, 5, 6)), np.zeros((1, 3, 3, 8)), (3, 3, 3, 8), (1, 1), (1, 1),
                                        2)
    with pytest.raises(ValueError, match=r"received a kernel of shape \(3, 3, 4, 24\) with groups=2"):
        vectorized.conv_forward(np.zeros((1, 5, 5, 8)), np.zeros((3, 3, 4, 24)), (1, 1), (1, 1), 2)


def test_vectorized_refuses_other_ranks_and_other_dtypes():
    with pytest.raises(ValueError, match=r"received a kernel of shape \(3, 3, 3, 2, 16\)"):
        vectorized.conv_forward(np.zeros((1, 5, 5, 5, 2)), np.zeros((3, 3, 3, 2, 16)), (1, 1, 1), (1, 1, 1), 1)
    with pytest.raises(ValueError, match=r"received a kernel of shape \(3, 3, 1, 16\) with groups=2"):
        vectorized.conv_input_gradient(np.zeros((1, 3, 3, 16)), np.zeros((3, 3, 1, 16)), (1, 5, 5, 2), (1, 1),
                                       (1, 1), 2)
    with pytest.raises(ValueError, match="vectorized needs float32 or float64 data; received int64"):
        vectorized.conv_forward(np.zeros((1, 5, 5, 2), np.int64), np.zeros((3, 3, 2, 16), np.int64), (1, 1), (1, 1),
                                1)


@pytest.mark.parametrize(("x_shape", "kernel_shape", "strides", "dtype"), [
    ((2, 9, 11, 5), (3, 3, 5, 20), (1, 1), np.float32),  # channels in the lanes, the last vector partly
    ((2, 9, 11, 5), (3, 3, 5, 32), (2, 2), np.float64),  # two vectors per block, strided
    ((2, 12, 30, 3), (3, 3, 3, 6), (1, 1), np.float32),  # few filters: pixels in the lanes
    ((2, 30, 7), (3, 7, 12), (1,), np.float64),  # 1-D
])
@pytest.mark.parametrize("relu", [False, True])
def test_vectorized_adds_the_bias_and_relu_as_it_stores_each_output(x_shape, kernel_shape, strides, dtype, relu):
    """y = max(conv + bias, 0) (relu) or conv + bias, from the loops' stores, equal to direct's convolution with
    the bias and NumPy's fmax (a NaN in x gives 0 after relu, NaN without) applied after."""
    rng = np.random.default_rng(len(x_shape) + kernel_shape[-1])
    x = rng.standard_normal(x_shape).astype(dtype)
    x[(0,) * (len(x_shape) - 1)] = np.nan  # one input pixel NaN: every output that sees it is NaN before relu
    kernel, bias = rng.standard_normal(kernel_shape).astype(dtype), rng.standard_normal(kernel_shape[-1]).astype(dtype)
    rank = len(strides)
    padding = ((1, 1),) * rank
    expected = direct.conv_forward(np.pad(x, ((0, 0), *padding, (0, 0))), kernel, strides, (1,) * rank, 1) + bias
    expected = np.fmax(expected, 0) if relu else expected
    y = vectorized.conv_forward(x, kernel, strides, (1,) * rank, 1, padding, bias, relu)
    assert y.dtype == dtype and np.isnan(y).any() == (not relu)
    np.testing.assert_allclose(y, expected, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x_shape", "kernel_shape"), [((3, 9, 11, 5), (3, 3, 5, 20)), ((3, 12, 30, 3), (3, 3, 3, 6))])
def test_vectorized_adds_the_bias_and_relu_in_one_image_chunks_on_two_threads(x_shape, kernel_shape):
    """Each chunk's loop adds the bias and relu to its own images: the values of direct, bias, then fmax."""
    rng = np.random.default_rng(kernel_shape[-1])
    x, kernel = rng.standard_normal(x_shape), rng.standard_normal(kernel_shape)
    bias = rng.standard_normal(kernel_shape[-1])
    expected = np.fmax(direct.conv_forward(x, kernel, (1, 1), (1, 1), 1) + bias, 0)
    y = vectorized.conv_forward(x, kernel, (1, 1), (1, 1), 1, None, bias, True)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("strides", "dilation", "padding"), [
    ((1, 1), (1, 1), ((1, 1), (1, 1))),
    ((2, 1), (2, 1), ((3, 0), (1, 2))),  # a kernel row's outputs start and end inside a band, not at its edges
])
def test_vectorized_kernel_gradient_in_bands_of_output_rows_equals_direct(strides, dilation, padding):
    """Rows of x and dy larger than GRADIENT_BAND_BYTES allows at once: each kernel cell sums band after band,
    each band's output rows that see x in one block (float64: bands of 20 rows, and of 12 at stride 2)."""
    rng = np.random.default_rng(5)
    x, kernel = rng.standard_normal((2, 70, 40, 24)), rng.standard_normal((3, 3, 24, 16))
    padded = np.pad(x, ((0, 0), *padding, (0, 0)))
    grad_output = rng.standard_normal(direct.conv_forward(padded, kernel, strides, dilation, 1).shape)
    np.testing.assert_allclose(
        vectorized.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, 1, padding=padding),
        direct.conv_kernel_gradient(padded, grad_output, kernel.shape, strides, dilation, 1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("channels_in", "channels_out", "width", "padding", "dtype"), [
    (16, 16, 9, ((1, 1), (1, 1)), np.float32),  # one vector of dy, 16 input channels in one block
    (13, 32, 6, ((0, 2), (2, 0)), np.float32),  # two vectors: blocks of 8, 4 and 1 input channels
    (9, 20, 2, ((1, 0), (3, 3)), np.float64),  # 20 of 24 lanes, rows of 2 input columns, padding past the reach
    (14, 5, 12, ((0, 0), (0, 0)), np.float64),  # no padding; a partial vector of 5 lanes
])
def test_vectorized_kernel_gradient_of_3x3_kernels_equals_direct(channels_in, channels_out, width, padding, dtype):
    """The common 3x3 case across channel blocks, partial vectors of dy and paddings within and past the kernel's
    reach, in float32 against direct's float64 sums."""
    rng = np.random.default_rng(channels_in + width)
    x = rng.standard_normal((2, 7, width, channels_in)).astype(dtype)
    kernel = rng.standard_normal((3, 3, channels_in, channels_out)).astype(dtype)
    padded = np.pad(x, ((0, 0), *padding, (0, 0)))
    grad_output = rng.standard_normal(direct.conv_forward(padded, kernel, (1, 1), (1, 1), 1).shape).astype(dtype)
    np.testing.assert_allclose(
        vectorized.conv_kernel_gradient(x, grad_output, kernel.shape, (1, 1), (1, 1), 1, padding=padding),
        direct.conv_kernel_gradient(padded.astype(np.float64), grad_output.astype(np.float64), kernel.shape, (1, 1),
                                    (1, 1), 1),
        rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-4 if dtype == np.float32 else 1e-10)


def test_vectorized_kernel_gradient_leaves_out_the_x_columns_no_output_of_a_kernel_column_reads():
    """Without padding, kernel column 0 never reads x's last two columns: an inf there reaches only the kernel
    column that reads it (no block may multiply it by a zero standing in for a missing dy)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 5, 8, 16))
    x[0, 2, -1, 3] = np.inf
    kernel = rng.standard_normal((3, 3, 16, 16))
    grad_output = rng.standard_normal(direct.conv_forward(x, kernel, (1, 1), (1, 1), 1).shape)
    got = vectorized.conv_kernel_gradient(x, grad_output, kernel.shape, (1, 1), (1, 1), 1)
    expected = direct.conv_kernel_gradient(x, grad_output, kernel.shape, (1, 1), (1, 1), 1)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
    assert np.isfinite(got[:, :2]).all() and not np.isfinite(got[:, 2, 3]).all()
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-10, atol=1e-10)
