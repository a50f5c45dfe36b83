"""explain_algorithms() and multiply_count(): the case a layer becomes, which algorithms serve it, and the forward
multiply count of each algorithm, every expected number worked out by hand in a comment."""

import math
from fractions import Fraction

import pytest

from striate import layers as L
from striate.algorithms import ALGORITHMS, PASSES, Case, choose, fft, multiply_count, toeplitz, winograd
from striate.inspect.explain_algorithms import convolution_case, explain_algorithms

ONE = (1, 1)
LENET_CONV1 = Case((128, 32, 32, 1), (5, 5, 1, 6), ONE, ONE, 1)
LENET_CONV2 = Case((128, 14, 14, 6), (5, 5, 6, 16), ONE, ONE, 1)


# ---- multiply_count: outputs x kernel cells x C_in per group ----------------------------------------------------
@pytest.mark.parametrize("name", ["direct", "im2col"])
@pytest.mark.parametrize("case, expected", [
    # out 3x3: 1*3*3*4 = 36 outputs, each 3*3 cells * 2 channels = 18 multiplies: 648
    (Case((1, 5, 5, 2), (3, 3, 2, 4), ONE, ONE, 1), 648),
    # stride 2: out (7 - 3) // 2 + 1 = 3 per axis: 1*3*3*2 = 18 outputs * 9 cells * 1 channel = 162
    (Case((1, 7, 7, 1), (3, 3, 1, 2), (2, 2), ONE, 1), 162),
    # dilation 2: the kernel spans 2*(3 - 1) + 1 = 5 cells, out 7 - 5 + 1 = 3 per axis: 9 outputs * 9 cells = 81
    (Case((1, 7, 7, 1), (3, 3, 1, 1), ONE, (2, 2), 1), 81),
    # 2 groups of 2 input channels: out 2x2, 1*2*2*6 = 24 outputs * 9 cells * 2 channels per group = 432
    (Case((1, 4, 4, 4), (3, 3, 2, 6), ONE, ONE, 2), 432),
    # 1-D: out 8 - 3 + 1 = 6, 2*6*5 = 60 outputs * 3 cells * 4 channels = 720
    (Case((2, 8, 4), (3, 4, 5), (1,), (1,), 1), 720),
])
def test_direct_and_im2col_multiply_every_kernel_cell_by_every_input_channel_of_its_group(name, case, expected):
    assert multiply_count(name, case) == expected


def test_pointwise_multiplies_one_cell_by_every_input_channel():
    # stride 2 on 4: out (4 - 1) // 2 + 1 = 2 per axis; 2*2*2*3 = 24 outputs * 1 cell * 8 channels = 192
    assert multiply_count("pointwise", Case((2, 4, 4, 8), (1, 1, 8, 3), (2, 2), ONE, 1)) == 192


def test_depthwise_multiplies_one_input_channel_per_output():
    # 3 channels, multiplier 2: out 3x3, 1*3*3*6 = 54 outputs * 9 cells * 1 channel = 486
    assert multiply_count("depthwise", Case((1, 5, 5, 3), (3, 3, 1, 6), ONE, ONE, 3)) == 486


# ---- winograd: (m + 2)^2 multiplies per m x m output tile, per C_in x C_out -------------------------------------
def test_winograd_default_is_f4x4_3x3():
    assert winograd.DEFAULT_TILE == 4  # the counts below assume m = 4, tiles of a = 6 x 6 transformed cells


@pytest.mark.parametrize("case, expected", [
    # out 8x8: 2*2 = 4 tiles * 36 cells * 2 * 3 channels = 864 (direct: 8*8*3 * 9*2 = 3456, four times as many)
    (Case((1, 10, 10, 2), (3, 3, 2, 3), ONE, ONE, 1), 864),
    # out 5x5: ceil(5/4) = 2 tiles per axis, the cut tiles cost whole ones: 4 * 36 * 2 * 3 = 864
    (Case((1, 7, 7, 2), (3, 3, 2, 3), ONE, ONE, 1), 864),
    # two images, out 4x9: 1 * 3 tiles per image, 2*3 = 6 tiles * 36 * 2 * 3 = 1296
    (Case((2, 6, 11, 2), (3, 3, 2, 3), ONE, ONE, 1), 1296),
    # 2 groups of 2 channels, 4 filters: out 4x4, 1 tile * 36 * 2 (per group) * 4 = 288
    (Case((1, 6, 6, 4), (3, 3, 2, 4), ONE, ONE, 2), 288),
])
def test_winograd_multiplies_36_transformed_cells_per_4x4_output_tile(case, expected):
    assert multiply_count("winograd", case) == expected


def test_winograd_saves_four_times_the_multiplies_on_whole_tiles():
    case = Case((1, 10, 10, 2), (3, 3, 2, 3), ONE, ONE, 1)  # 9 multiplies per output against 36/16 = 2.25
    assert Fraction(multiply_count("direct", case), multiply_count("winograd", case)) == 4


# ---- fft: 4 real multiplies per complex one, per rfft frequency, per C_in x C_out --------------------------------
def test_fft_lengths_are_the_next_products_of_2_3_and_5():
    # 8 = 2^3; 11 -> 12 = 2^2 * 3; 13 -> 14 = 2 * 7 is not, 15 = 3 * 5 is
    assert fft._lengths((8, 11, 13)) == (8, 12, 15)


@pytest.mark.parametrize("case, expected", [
    # lengths (8, 8): 8 * (8 // 2 + 1) = 40 frequencies; 4 * 40 * 1 image * 2 * 3 channels = 960
    (Case((1, 8, 8, 2), (3, 3, 2, 3), ONE, ONE, 1), 960),
    # lengths (12, 15): 12 * (15 // 2 + 1) = 96 frequencies; 4 * 96 * 1 * 1 * 1 = 384
    (Case((1, 11, 13, 1), (3, 3, 1, 1), ONE, ONE, 1), 384),
    # the kernel size does not count, the stride neither (every stride-1 output is computed): as the first case
    (Case((1, 8, 8, 2), (7, 7, 2, 3), (2, 2), ONE, 1), 960),
    # 2 groups of 2 channels, 4 filters, 2 images: 40 frequencies; 4 * 40 * 2 * 2 * 4 = 2560
    (Case((2, 8, 8, 4), (3, 3, 2, 4), ONE, ONE, 2), 2560),
])
def test_fft_multiplies_four_real_numbers_per_complex_product_per_frequency(case, expected):
    assert multiply_count("fft", case) == expected


# ---- separable: a column pass over every input column, then a row pass ------------------------------------------
@pytest.mark.parametrize("case, expected", [
    # out 4x4. columns: 1 image * 4 output rows * 6 input columns * 2 * 4 channels * 3 cells = 576;
    # rows: 1*4*4*4 = 64 outputs * 2 channels * 3 cells = 384; 576 + 384 = 960
    (Case((1, 6, 6, 2), (3, 3, 2, 4), ONE, ONE, 1), 960),
    # stride 2: out 3x3. columns: 1 * 3 * 7 input columns * 1 * 2 * 3 = 126; rows: 1*3*3*2 = 18 * 1 * 3 = 54; 180
    (Case((1, 7, 7, 1), (3, 3, 1, 2), (2, 2), ONE, 1), 180),
])
def test_separable_multiplies_a_column_pass_and_a_row_pass(case, expected):
    assert multiply_count("separable", case) == expected


# ---- toeplitz: each output reads a tile's window of V input columns, the band's zeros included -----------------
@pytest.mark.parametrize("out_width, channels_out, expected", [
    (28, 6, 7),   # divisors of 28: 1, 2, 4, 7; 4*6 = 24 < 32, 7*6 = 42 >= 32
    (10, 16, 2),  # 1*16 = 16 < 32, 2*16 = 32
    (4, 4, 4),    # 4*4 = 16 < 32 for every divisor: the whole row
    (8, 4, 8),    # 4*4 = 16, 8*4 = 32
])
def test_toeplitz_tile_is_the_narrowest_divisor_of_the_row_with_32_product_columns(out_width, channels_out,
                                                                                   expected):
    assert toeplitz.tile_width(out_width, channels_out) == expected


@pytest.mark.parametrize("case, expected", [
    # LeNet conv1: out 28x28, B = 7, V = (7 - 1)*1 + (5 - 1)*1 + 1 = 11; 128*28*28*6 outputs * 5 rows * 11 * 1
    (LENET_CONV1, 128 * 28 * 28 * 6 * 5 * 11 * 1),
    # LeNet conv2: out 10x10, B = 2, V = 1 + 4 + 1 = 6; 128*10*10*16 outputs * 5 rows * 6 * 6 channels
    (LENET_CONV2, 128 * 10 * 10 * 16 * 5 * 6 * 6),
    # stride 2: out 4x4, B = 4 (whole row), V = 3*2 + 2*1 + 1 = 9 (all 9 columns); 1*4*4*4 = 64 * 3 * 9 * 1 = 1728
    (Case((1, 9, 9, 1), (3, 3, 1, 4), (2, 2), ONE, 1), 1728),
    # dilation 2: out 4x4, B = 4 (4*8 = 32), V = 3*1 + 2*2 + 1 = 8; 1*4*4*8 = 128 * 3 * 8 * 1 = 3072
    (Case((1, 8, 8, 1), (3, 3, 1, 8), ONE, (2, 2), 1), 3072),
])
def test_toeplitz_multiplies_count_the_band_zeros_of_one_tile(case, expected):
    assert multiply_count("toeplitz", case) == expected


def test_toeplitz_on_lenet_conv1_multiplies_v_over_k_w_times_what_im2col_does():
    # the module's docstring: "2.2 times im2col's multiplies" = V / k_w = 11 / 5
    assert Fraction(multiply_count("toeplitz", LENET_CONV1), multiply_count("im2col", LENET_CONV1)) == Fraction(11, 5)


# ---- the case a layer becomes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("arguments, input_shape, expected", [
    # "same" 3x3, stride 1: 8 + 1 + 1 = 10 per axis
    ({"filters": 4, "kernel_size": 3, "padding": "same"}, (2, 8, 8, 16),
     Case((2, 10, 10, 16), (3, 3, 16, 4), ONE, ONE, 1)),
    # "same" with an even kernel: total 4 - 1 = 3, one before and two after: 8 + 3 = 11
    ({"filters": 2, "kernel_size": 4, "padding": "same"}, (1, 8, 8, 3),
     Case((1, 11, 11, 3), (4, 4, 3, 2), ONE, ONE, 1)),
    # "valid": nothing added; groups 2 of 6 channels: 3 per group
    ({"filters": 4, "kernel_size": (3, 1), "groups": 2}, (1, 5, 5, 6), Case((1, 5, 5, 6), (3, 1, 3, 4), ONE, ONE, 2)),
    # "full" 3x3 with dilation 2: spans 5 cells, 4 zeros each side: 5 + 8 = 13
    ({"filters": 1, "kernel_size": 3, "padding": "full", "dilation_rate": 2}, (1, 5, 5, 1),
     Case((1, 13, 13, 1), (3, 3, 1, 1), ONE, (2, 2), 1)),
    # an int: 2 each side of a 1-D input: 7 + 4 = 11
    ({"filters": 3, "kernel_size": 5, "padding": 2, "strides": 2}, (1, 7, 2),
     Case((1, 11, 2), (5, 2, 3), (2,), (1,), 1)),
])
def test_the_case_is_the_padded_input_and_the_kernel_of_the_arguments(arguments, input_shape, expected):
    assert convolution_case(arguments, input_shape) == expected


def test_a_conv2d_layer_with_stride_2_and_same_padding_becomes_its_padded_case():
    # same, stride 2 on 7: out ceil(7/2) = 4, total (4 - 1)*2 + 3 - 7 = 2, one each side: 9
    explanation = explain_algorithms(L.Conv2D(4, 3, strides=2, padding="same"), (1, 7, 7, 2), repeats=1)
    assert explanation.case == Case((1, 9, 9, 2), (3, 3, 2, 4), (2, 2), ONE, 1)


def test_a_depthwise_layer_becomes_one_group_per_channel_with_multiplier_filters():
    # 3 channels, multiplier 2: groups 3, kernel (3, 3, 1, 3*2); same 3x3: 6 + 2 = 8
    explanation = explain_algorithms(L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (2, 6, 6, 3),
                                     repeats=1)
    assert explanation.case == Case((2, 8, 8, 3), (3, 3, 1, 6), ONE, ONE, 3)
    assert explanation.auto == dict.fromkeys(PASSES, "depthwise")
    depthwise = next(row for row in explanation.rows if row.name == "depthwise")
    assert depthwise.refusal is None and depthwise.max_error < 1e-4
    assert depthwise.multiplies == 3888  # out 6x6: 2*6*6*6 = 432 outputs * 9 cells * 1 channel
    refused = {row.name for row in explanation.rows if row.refusal}
    # 3x3; a random kernel is not rank 1; groups 3 (toeplitz, vectorized)
    assert refused == {"depth_slices", "depth_stack", "pointwise", "separable", "toeplitz", "vectorized"}


# ---- explain_algorithms on a tiny layer -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def same_3x3():
    return explain_algorithms({"filters": 4, "kernel_size": 3, "padding": "same"}, (2, 8, 8, 16), repeats=1)


def test_the_explanation_names_the_padded_case_and_what_auto_picks(same_3x3):
    assert same_3x3.case == Case((2, 10, 10, 16), (3, 3, 16, 4), ONE, ONE, 1)  # same 3x3: 8 + 2 = 10
    # 4 filters < 16: not winograd's row; 3x3: none of the 1x1, depthwise, 5x5 or 9x9 rows; im2col everywhere
    assert same_3x3.auto == dict.fromkeys(PASSES, "im2col")
    assert same_3x3.auto == {which: choose(same_3x3.case, which) for which in PASSES}


def test_every_algorithm_has_one_row_in_the_table_order(same_3x3):
    assert [row.name for row in same_3x3.rows] == list(ALGORITHMS)


def test_the_algorithms_that_serve_match_float64_direct_and_report_times(same_3x3):
    serving = [row for row in same_3x3.rows if row.refusal is None]
    assert {row.name for row in serving} == {"direct", "im2col", "winograd", "fft", "toeplitz", "vectorized"}
    for row in serving:
        assert row.max_error < 1e-4, row
        if row.name == "direct":  # the reference loop is not timed
            assert math.isnan(row.forward_ms) and math.isnan(row.backward_ms)
        else:
            assert row.forward_ms > 0 and row.backward_ms > 0, row


def test_the_rows_carry_the_multiply_counts_worked_out_by_hand(same_3x3):
    # out 8x8: 2*8*8*4 = 512 outputs
    assert {row.name: row.multiplies for row in same_3x3.rows if row.refusal is None} == {
        "direct": 512 * 9 * 16,             # 73,728
        "im2col": 512 * 9 * 16,
        "winograd": 2 * 2 * 2 * 36 * 16 * 4,  # 2 images * 2x2 tiles * 36 cells * 16 * 4 = 18,432
        "fft": 4 * 10 * 6 * 2 * 16 * 4,     # lengths (10, 10): 10 * 6 frequencies; 30,720
        "toeplitz": 512 * 3 * 10 * 16,      # B = 8 (8*4 = 32), V = 7 + 2 + 1 = 10; 245,760
        "vectorized": 512 * 9 * 16,         # the definition (its zero filters up to a whole vector not counted)
    }


def test_the_algorithms_that_cannot_serve_say_why_naming_themselves(same_3x3):
    refusals = {row.name: row.refusal for row in same_3x3.rows if row.refusal}
    assert set(refusals) == {"separable", "pointwise", "depthwise", "per_group", "depth_slices", "depth_stack"}
    assert refusals["pointwise"] == "pointwise needs a 1x1 kernel (one cell per axis); received kernel_size=(3, 3)"
    assert refusals["depthwise"].startswith("depthwise needs one input channel per group (groups == C_in); received")
    assert refusals["separable"].startswith("separable needs a rank-1 kernel")
    assert refusals["per_group"] == "per_group needs groups > 1 (an ungrouped convolution is one group already); " \
        "received groups=1"
    assert refusals["depth_slices"].startswith("depth_slices needs a 3-D kernel")
    assert refusals["depth_stack"].startswith("depth_stack needs a 3-D kernel")
    for name in refusals:
        row = next(row for row in same_3x3.rows if row.name == name)
        assert row.forward_ms is row.backward_ms is row.multiplies is row.max_error is None


def test_winograd_refuses_a_5x5_kernel_and_auto_picks_toeplitz_for_a_thin_narrow_layer():
    explanation = explain_algorithms({"filters": 2, "kernel_size": 5}, (1, 6, 6, 1), repeats=1)
    # 5x5, 1 input channel, padded width 6 <= 8 * 5: the toeplitz row of AUTO_TABLE
    assert explanation.auto == dict.fromkeys(PASSES, "toeplitz")
    rows = {row.name: row for row in explanation.rows}
    assert rows["winograd"].refusal.startswith("winograd needs a 2-D 3x3 kernel, stride 1 and dilation 1; received "
                                               "kernel_size=(5, 5)")
    # out 2x2: 1*2*2*2 = 8 outputs; B = 2 (whole row), V = 1 + 4 + 1 = 6: 8 * 5 * 6 * 1 = 240; im2col 8 * 25 = 200
    assert (rows["toeplitz"].multiplies, rows["im2col"].multiplies) == (240, 200)
    assert rows["toeplitz"].max_error < 1e-4


def test_the_printed_table_has_a_line_per_algorithm_and_the_refusals(same_3x3):
    lines = str(same_3x3).splitlines()
    assert lines[0] == ("convolution of padded input (2, 10, 10, 16) with kernel (3, 3, 16, 4), strides (1, 1), "
                        "dilation (1, 1), groups 1")
    assert lines[1] == "auto picks: forward im2col, input gradient im2col, kernel gradient im2col"
    assert lines[2].split() == ["algorithm", "forward", "ms", "backward", "ms", "multiplies", "max", "rel", "error"]
    assert [line.split()[0] for line in lines[3:]] == list(ALGORITHMS)
    by_name = {line.split()[0]: line for line in lines[3:]}
    for name in ("separable", "pointwise", "depthwise"):
        assert by_name[name].startswith(f"{name:<10} cannot serve: {name} needs")
    assert "73,728" in by_name["im2col"] and "18,432" in by_name["winograd"]
    assert by_name["direct"].split()[1:3] == ["nan", "nan"]


# ---- arguments that make no convolution -------------------------------------------------------------------------
@pytest.mark.parametrize("arguments, message", [
    ({"filters": 2, "kernel_size": 3, "padding": "bogus"},
     "explain_algorithms: unknown padding 'bogus'; expected 'valid', 'same', 'full', an int, one int per spatial "
     "axis, or one (before, after) pair per spatial axis"),
    ({"filters": 2, "kernel_size": (3, 3, 3)},
     "explain_algorithms: kernel_size must be an int or 2 ints (one per spatial axis); received (3, 3, 3)"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, "explain_algorithms: strides must be positive; received 0"),
])
def test_malformed_arguments_are_refused_naming_the_argument_and_what_was_received(arguments, message):
    with pytest.raises(ValueError) as caught:
        explain_algorithms(arguments, (1, 6, 6, 1), repeats=1)
    assert str(caught.value) == message


def test_a_kernel_larger_than_the_input_is_refused_with_the_output_size_formula():
    # what conv2d says for the same layer: floor((3 + 0 - 5) / 1) + 1 = -1
    with pytest.raises(ValueError, match=r"a 5x5 kernel does not fit a 3x3 input with padding 0: "
                                         r"floor\(\(3 \+ 0 - 5\) / 1\) \+ 1 = -1"):
        explain_algorithms({"filters": 2, "kernel_size": 5, "padding": "valid"}, (1, 3, 3, 1), repeats=1)


def test_groups_that_do_not_divide_the_channels_are_refused_before_any_algorithm_runs():
    with pytest.raises(ValueError, match=r"explain_algorithms: groups=3 must divide both the input channels C_in=4 "
                                         r"and the filters C_out=4"):
        explain_algorithms({"filters": 4, "kernel_size": 3, "groups": 3}, (1, 6, 6, 4), repeats=1)


def test_a_fault_inside_an_algorithm_is_raised_not_shown_as_a_refusal(monkeypatch):
    """Only "<name> needs ..." is a refusal; any other ValueError is a bug, and explain_algorithms lets it out."""
    from striate.algorithms import im2col

    def broken(*arguments, **options):
        raise ValueError("cannot reshape array of size 36 into shape (9,1,3,1)")

    monkeypatch.setattr(im2col, "conv_forward", broken)
    with pytest.raises(ValueError, match="cannot reshape array"):
        explain_algorithms({"filters": 2, "kernel_size": 3}, (1, 6, 6, 1), repeats=1)
