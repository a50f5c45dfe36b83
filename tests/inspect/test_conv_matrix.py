"""conv_matrix, connectivity and compare_dense against torch, striate's conv ops, and the lectures by hand.

Padding forms are resolved to (before, after) pairs here, independently of striate (TensorFlow's SAME via
oracle.tf_same_padding); torch pads with torch.nn.functional.pad and convolves with padding 0.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate.functional as F
from oracle import channels_first, channels_last, tf_same_padding, torch_conv_weight, torch_pad_argument
from striate.inspect.conv_matrix import compare_dense, connectivity, conv_matrix
from striate.layers import Conv1D, Conv2D, Dense, DepthwiseConv2D

STRIATE_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
STRIATE_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}
TORCH_CONV_TRANSPOSE = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}


def per_axis(value, rank):
    return tuple(value) if isinstance(value, tuple | list) else (value,) * rank


def pads_of(padding, spatial, kernel_size, strides, dilation):
    """Any padding argument -> one (before, after) pair per axis, written out from the definitions."""
    rank = len(spatial)
    if padding == "valid":
        return [(0, 0)] * rank
    if padding == "same":
        return [tf_same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel_size, strides, dilation)]
    if padding == "full":
        return [((k - 1) * d, (k - 1) * d) for k, d in zip(kernel_size, dilation)]
    if isinstance(padding, int):
        return [(padding, padding)] * rank
    if rank == 1 and len(padding) == 2 and all(isinstance(p, int) for p in padding):
        return [tuple(padding)]
    return [tuple(p) if isinstance(p, tuple | list) else (p, p) for p in padding]


# spatial, C_in, kernel_size, C_out, strides, padding, dilation, groups
CASES = [
    ((9,), 2, (3,), 3, 2, "valid", 1, 1),
    ((10,), 2, (4,), 2, 3, "same", 2, 2),          # even kernel, stride and dilation: asymmetric "same"
    ((8,), 1, (3,), 2, 1, (2, 1), 1, 1),            # a single (before, after) pair
    ((7, 8), 4, (3, 2), 6, (2, 1), "same", (1, 2), 2),
    ((6, 6), 2, (4, 4), 3, 1, "same", 1, 1),        # even kernel: the odd padding cell goes after
    ((7, 5), 3, (3, 3), 4, 2, 1, 1, 1),             # int padding
    ((6, 7), 2, (3, 2), 2, 1, (1, 0), 1, 1),        # one int per axis
    ((5, 6), 2, (2, 3), 2, (1, 2), ((0, 2), (1, 0)), 1, 1),   # one pair per axis
    ((4, 5), 1, (3, 2), 2, 1, "full", (2, 1), 1),
    ((6, 6), 3, (3, 3), 6, 1, "valid", 2, 3),       # depthwise, depth multiplier 2
    ((5, 6, 4), 2, (2, 3, 2), 3, (1, 2, 1), "same", (2, 1, 1), 1),
    ((6, 5, 5), 4, (3, 2, 2), 4, 2, "valid", 1, 2),
    ((4, 4, 5), 1, (2, 2, 3), 2, 1, ((1, 0), 1, (0, 2)), 1, 1),
]
IDS = [f"{len(c[0])}d-{c[0]}-k{c[2]}-s{c[4]}-p{c[5]}-d{c[6]}-g{c[7]}".replace(" ", "") for c in CASES]


def make_case(case, seed=0):
    spatial, c_in, kernel_size, c_out, strides, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*spatial, c_in))
    kernel = rng.standard_normal((*kernel_size, c_in // groups, c_out))
    rank = len(spatial)
    strides, dilation = per_axis(strides, rank), per_axis(dilation, rank)
    pads = pads_of(padding, spatial, kernel_size, strides, dilation)
    return x, kernel, strides, padding, dilation, groups, pads


def torch_conv(x, kernel, strides, pads, dilation, groups):
    """torch's conv of one channels-last example, padded explicitly; returns (x tensor, channels-last output)."""
    rank = x.ndim - 1
    xt = torch.tensor(x[None], requires_grad=True)
    padded = TF.pad(channels_first(xt), torch_pad_argument(pads))
    y = TORCH_CONV[rank](padded, torch_conv_weight(torch.tensor(kernel)), stride=strides, dilation=dilation,
                         groups=groups)
    return xt, channels_last(y)[0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matrix_times_x_equals_striate_and_torch_conv(case):
    x, kernel, strides, padding, dilation, groups, pads = make_case(case)
    rank = x.ndim - 1
    matrix = conv_matrix(x.shape, kernel, strides, padding, dilation, groups)
    expected_striate = STRIATE_CONV[rank](x[None], kernel, None, strides, padding, dilation, groups).numpy()[0]
    _, expected_torch = torch_conv(x, kernel, strides, pads, dilation, groups)
    assert matrix.shape == (expected_torch.numel(), x.size)
    np.testing.assert_allclose(matrix @ x.ravel(), expected_torch.detach().numpy().ravel(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(matrix @ x.ravel(), expected_striate.ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_transpose_equals_input_gradient_and_conv_transpose(case):
    x, kernel, strides, padding, dilation, groups, pads = make_case(case)
    rank = x.ndim - 1
    matrix = conv_matrix(x.shape, kernel, strides, padding, dilation, groups)
    xt, out = torch_conv(x, kernel, strides, pads, dilation, groups)
    upstream = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (gradient,) = torch.autograd.grad(out, xt, torch.tensor(upstream))
    adjoint = matrix.T @ upstream.ravel()
    np.testing.assert_allclose(adjoint, gradient.numpy().ravel(), rtol=1e-12, atol=1e-12)

    # striate's conv_transpose: the same kernel, explicit pairs, output_padding = cells the stride never reached
    kernel_size = kernel.shape[:rank]
    extra = tuple((n + a + b - ((k - 1) * d + 1)) % s
                  for n, (a, b), k, s, d in zip(x.shape[:-1], pads, kernel_size, strides, dilation))
    transposed = STRIATE_CONV_TRANSPOSE[rank](upstream[None], kernel, None, strides, tuple(pads), extra, dilation,
                                              groups).numpy()[0]
    np.testing.assert_allclose(adjoint, transposed.ravel(), rtol=1e-12, atol=1e-12)

    if all(a == b for a, b in pads):   # torch's conv_transpose pads symmetrically only
        torch_transposed = TORCH_CONV_TRANSPOSE[rank](
            channels_first(torch.tensor(upstream[None])), torch_conv_weight(torch.tensor(kernel)), stride=strides,
            padding=[a for a, _ in pads], output_padding=extra, groups=groups, dilation=dilation)
        np.testing.assert_allclose(adjoint, channels_last(torch_transposed)[0].numpy().ravel(), rtol=1e-12,
                                   atol=1e-12)


def test_lecture_4x4_input_2x2_kernel_matrix_by_hand():
    # pixels 0..15 row by row; output (i, j) = a x[i, j] + b x[i, j+1] + c x[i+1, j] + d x[i+1, j+1]
    a, b, c, d = 1.0, 2.0, 3.0, 4.0
    matrix = conv_matrix((4, 4, 1), np.array([[a, b], [c, d]]).reshape(2, 2, 1, 1)).toarray()
    expected = np.zeros((9, 16))
    for i in range(3):
        for j in range(3):
            expected[3 * i + j, [4 * i + j, 4 * i + j + 1, 4 * i + j + 4, 4 * i + j + 5]] = [a, b, c, d]
    np.testing.assert_array_equal(matrix, expected)


def test_rows_and_columns_are_raveled_channels_last():
    # 1-D, 3 cells x 2 channels, kernel of 1 cell: output (w, o) = sum_c x[w, c] * kernel[0, c, o]
    kernel = np.array([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])        # (1, C_in=2, C_out=3)
    matrix = conv_matrix((3, 2), kernel).toarray()
    assert matrix.shape == (9, 6)
    row = np.ravel_multi_index((1, 2), (3, 3))                     # output cell 1, filter 2
    expected_row = np.zeros(6)
    expected_row[[np.ravel_multi_index((1, 0), (3, 2)), np.ravel_multi_index((1, 1), (3, 2))]] = [3.0, 6.0]
    np.testing.assert_array_equal(matrix[row], expected_row)


def test_padding_cells_have_no_entries_and_zero_weights_keep_theirs():
    # 'same' 3x3 on 4x4: corners see 4 cells, edges 6, the 4 inner outputs 9 -> 4*4 + 8*6 + 4*9 = 100
    kernel = np.ones((3, 3, 1, 1))
    kernel[1, 1] = 0.0
    matrix = conv_matrix((4, 4, 1), kernel, padding="same")
    assert matrix.nnz == 100
    assert matrix.dtype == np.float64
    assert conv_matrix((4, 4, 1), kernel.astype(np.float32)).dtype == np.float32


def test_lenet_and_wide_layers_build_quickly_and_match_the_conv():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 32, 16)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    start = time.perf_counter()
    matrix = conv_matrix(x.shape, kernel, padding="same")
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"32x32x16 -> 32 took {elapsed:.2f} s (a loop per entry?)"
    expected = F.conv2d(x[None].astype(np.float64), kernel.astype(np.float64), padding="same").numpy()[0]
    np.testing.assert_allclose(matrix @ x.ravel(), expected.ravel(), rtol=1e-4, atol=1e-3)
    assert conv_matrix((28, 28, 1), np.ones((3, 3, 1, 32))).nnz == 26 * 26 * 32 * 9


# ---- connectivity -----------------------------------------------------------------------------------------
def test_lecture_h11_is_fed_by_pixels_1_2_5_6():
    # 4x4 input, pixels numbered 1..16 row by row, 2x2 kernel, stride 1, valid
    h11 = connectivity((4, 4, 1), 2, output_position=(0, 0))
    assert h11.numbers == [1, 2, 5, 6]
    assert h11.connected == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert h11.kernel_cells == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert h11.grid_shape == (4, 4)
    assert "[1, 2, 5, 6]" in str(h11)
    # the notes' h12 = pixels 3, 4, 7, 8 is the next window of a stride-2 kernel (with stride 1 it is 2, 3, 6, 7)
    assert connectivity((4, 4, 1), 2, strides=2, output_position=(0, 1)).numbers == [3, 4, 7, 8]
    assert connectivity((4, 4, 1), 2, output_position=(0, 1)).numbers == [2, 3, 6, 7]


def test_input_pixel_reaches_the_outputs_whose_windows_cover_it():
    # pixel 6 (position (1, 1)) of the 4x4 input lies in the windows of outputs h11, h12, h21, h22 of the 3x3 output
    reach = connectivity((4, 4, 1), (2, 2), input_position=(1, 1))
    assert reach.connected == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert reach.kernel_cells == ((1, 1), (1, 0), (0, 1), (0, 0))
    assert reach.numbers == [1, 2, 4, 5]
    assert reach.grid_shape == (3, 3)
    # the corner pixel 1 feeds only h11
    assert connectivity((4, 4, 1), 2, input_position=(0, 0)).connected == ((0, 0),)


def test_same_padding_corner_reads_only_the_cells_inside():
    corner = connectivity((4, 4, 1), 3, padding="same", output_position=(0, 0))
    assert corner.connected == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert corner.kernel_cells == ((1, 1), (1, 2), (2, 1), (2, 2))


CONNECTIVITY_CASES = [
    ((9, 1), 3, 2, "same", 2, (3,), (4,)),
    ((7, 8, 1), (3, 2), (2, 1), "same", (1, 2), (2, 3), (3, 5)),
    ((6, 7, 1), 4, 1, "full", 1, (0, 6), (5, 0)),
    ((5, 6, 4, 1), (2, 3, 2), (1, 2, 1), ((1, 0), 1, (0, 2)), (2, 1, 1), (1, 2, 3), (2, 3, 1)),
]


@pytest.mark.parametrize("case", CONNECTIVITY_CASES, ids=[str(c[0]) for c in CONNECTIVITY_CASES])
def test_connectivity_matches_torch_gradient_and_one_hot_response(case):
    input_shape, kernel_size, strides, padding, dilation, output_position, input_position = case
    rank = len(input_shape) - 1
    kernel_size, strides, dilation = (per_axis(v, rank) for v in (kernel_size, strides, dilation))
    pads = pads_of(padding, input_shape[:-1], kernel_size, strides, dilation)
    ones = np.ones((*kernel_size, 1, 1))
    # receptive field: the input cells with a nonzero gradient of one output
    xt, out = torch_conv(np.ones(input_shape), ones, strides, pads, dilation, 1)
    (gradient,) = torch.autograd.grad(out[(*output_position, 0)], xt)
    fed_by = connectivity(input_shape, kernel_size, strides, padding, dilation, output_position=output_position)
    assert list(fed_by.connected) == [tuple(p) for p in np.argwhere(gradient.numpy()[0, ..., 0] != 0).tolist()]
    # reach: the outputs a one-hot input changes
    one_hot = np.zeros(input_shape)
    one_hot[(*input_position, 0)] = 1.0
    _, response = torch_conv(one_hot, ones, strides, pads, dilation, 1)
    reaches = connectivity(input_shape, kernel_size, strides, padding, dilation, input_position=input_position)
    assert list(reaches.connected) == [tuple(p) for p in np.argwhere(response.detach().numpy()[..., 0] != 0).tolist()]
    assert reaches.grid_shape == tuple(out.shape[:-1])


def test_connectivity_refuses_two_positions_or_one_outside():
    with pytest.raises(ValueError, match=r"connectivity: give exactly one of output_position and input_position"):
        connectivity((4, 4, 1), 2, output_position=(0, 0), input_position=(0, 0))
    with pytest.raises(ValueError, match=r"connectivity: output_position must be 2 int\(s\) inside .*\(3, 3\)"):
        connectivity((4, 4, 1), 2, output_position=(3, 0))


# ---- compare_dense ----------------------------------------------------------------------------------------
def test_lenet_first_layer_against_dense_as_the_notes_count():
    # notes: 32x32 x 28x28x6 = 4,816,896 Dense weights against 6 x 5x5x1 = 150 conv weights
    comparison = compare_dense((32, 32, 1), Conv2D(6, 5))
    assert comparison.output_shape == (28, 28, 6)
    assert comparison.dense_weights == 4_816_896
    assert comparison.conv_weights == 150
    assert (comparison.conv_biases, comparison.conv_params) == (6, 156)
    assert (comparison.dense_biases, comparison.dense_params) == (4704, 4_821_600)
    assert comparison.ratio == pytest.approx(4_821_600 / 156)
    table = str(comparison)
    assert "4,816,896" in table and "4,821,600" in table and "156" in table and "30,907.7x" in table


def test_one_feature_map_is_the_notes_1024_by_784():
    comparison = compare_dense((32, 32, 1), Conv2D(1, 5))
    assert comparison.dense_weights == 1024 * 784
    assert comparison.conv_weights == 25


def test_lenet_second_layer_and_a_colour_input():
    assert compare_dense((14, 14, 6), Conv2D(16, 5)).conv_weights == 2400    # notes: 5 x 5 x 6 x 16
    colour = compare_dense((32, 32, 3), Conv2D(6, 5))
    assert colour.conv_params == 5 * 5 * 3 * 6 + 6 == 456
    assert colour.dense_params == 32 * 32 * 3 * 28 * 28 * 6 + 28 * 28 * 6


def test_one_dimensional_notes_example_six_weights_two_biases_against_thirty_each():
    # notes: two 1-D conv layers of 5 units, kernel 3 -> 6 weights and 2 biases, against (25 + 5) + (25 + 5)
    comparison = compare_dense((5, 1), Conv1D(1, 3, padding="same"))
    assert (comparison.conv_weights, comparison.conv_biases) == (3, 1)
    assert comparison.dense_params == 25 + 5


def test_dense_count_equals_a_built_dense_layer():
    comparison = compare_dense((9, 9, 2), Conv2D(4, 3, strides=2, padding="same", use_bias=False))
    dense = Dense(comparison.output_shape[0] * comparison.output_shape[1] * 4)
    dense.ensure_built((None, 9 * 9 * 2))
    assert comparison.dense_params == dense.count_params()
    assert comparison.conv_params == 3 * 3 * 2 * 4 and comparison.conv_biases == 0


def test_unbuilt_layer_stays_unbuilt_and_built_layer_counts_its_weights():
    layer = DepthwiseConv2D(3, depth_multiplier=2)
    comparison = compare_dense((8, 8, 3), layer)
    assert not layer.built
    assert (comparison.conv_weights, comparison.conv_biases) == (3 * 3 * 3 * 2, 6)
    layer.ensure_built((None, 8, 8, 3))
    assert compare_dense((8, 8, 3), layer) == comparison
    with pytest.raises(ValueError, match=r"compare_dense: layer .* was built for input \(None, 8, 8, 3\); "
                                         r"received input_shape \(9, 9, 3\)"):
        compare_dense((9, 9, 3), layer)


# ---- bad input --------------------------------------------------------------------------------------------
def test_kernel_channels_not_matching_the_input_are_refused_before_any_work():
    # a huge input: building anything first would take minutes and gigabytes
    with pytest.raises(ValueError, match=r"conv_matrix: input_shape \(100000, 100000, 3\) \(\*spatial, C_in\) has "
                                         r"C_in = 3 but the kernel \(3, 3, 2, 4\) .* expects C_in = 2 x groups 1 = 2"):
        conv_matrix((100000, 100000, 3), np.ones((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"conv_matrix: groups=3 must divide both the input channels C_in=4"):
        conv_matrix((5, 5, 4), np.ones((3, 3, 2, 4)), groups=3)


def test_kernel_that_does_not_fit_is_refused_with_the_formula():
    with pytest.raises(ValueError, match=r"conv_matrix: a 5x5 kernel does not fit a 3x3 input with padding 0: "
                                         r"floor\(\(3 \+ 0 - 5\) / 1\) \+ 1 = -1"):
        conv_matrix((3, 3, 1), np.ones((5, 5, 1, 1)))


def test_input_shape_with_a_batch_axis_is_refused():
    with pytest.raises(ValueError, match=r"conv_matrix: input_shape must be 3 positive ints \(\*spatial, C_in\), "
                                         r"no batch axis, for a kernel of shape \(3, 3, 1, 2\); received "
                                         r"\(1, 8, 8, 1\)"):
        conv_matrix((1, 8, 8, 1), np.ones((3, 3, 1, 2)))
