"""algorithm="auto" never picks an algorithm that fails a case: every AUTO_TABLE row is exercised and equals direct."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases

import striate.functional as F
from striate.algorithms import AUTO_TABLE, PASSES, Case, algorithm_module, auto, choose

GENERAL = generated_cases(24, seed=21, kernel_sizes=(1, 2, 3), groups=(1, 2, 4), per_group_in=(1, 2))
WINOGRAD_ROW = generated_cases(2, seed=22, ranks=(2,), kernel_sizes=(3,), strides=(1,), dilations=(1,),
                               groups=(1,), per_group_in=(16,), per_group_out=(16,), batch=(1, 2), extra=(0, 4))
FFT_ROW = generated_cases(2, seed=23, ranks=(2,), kernel_sizes=(9,), strides=(1,), dilations=(1,), groups=(1,),
                          batch=(1, 2), extra=(0, 4))
LENET_ROWS = generated_cases(4, seed=24, ranks=(2,), kernel_sizes=(5,), groups=(1,), per_group_in=(1, 6),
                             batch=(1, 3), extra=(0, 6))
WIDE_FEW_CHANNELS_ROW = generated_cases(1, seed=25, ranks=(2,), kernel_sizes=(5,), strides=(1,), dilations=(1,),
                                        groups=(1,), batch=(1, 2), extra=(36, 37))
ALL_CASES = GENERAL + WINOGRAD_ROW + FFT_ROW + LENET_ROWS + WIDE_FEW_CHANNELS_ROW


def case_of(x, kernel, strides, dilation, groups):
    return Case(x.shape, kernel.shape, tuple(strides), tuple(dilation), groups)


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), ALL_CASES)
def test_auto_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(auto, x, kernel, strides, dilation, groups)


def test_every_row_of_the_table_is_the_first_match_of_some_generated_case():
    def first_row(case):
        return next(row[0] for row in AUTO_TABLE if row[1](case))

    assert {first_row(case_of(*case.values)) for case in ALL_CASES} == {row[0] for row in AUTO_TABLE}


def test_the_table_names_winograd_for_vgg_and_pointwise_for_mobilenet_1x1():
    vgg = Case((32, 58, 58, 64), (3, 3, 64, 64), (1, 1), (1, 1), 1)
    mobilenet_pointwise = Case((32, 56, 56, 128), (1, 1, 128, 128), (1, 1), (1, 1), 1)
    mobilenet_depthwise = Case((32, 58, 58, 128), (3, 3, 1, 128), (1, 1), (1, 1), 128)
    assert choose(vgg) == "winograd"
    assert choose(mobilenet_pointwise) == "pointwise"
    assert choose(mobilenet_depthwise, "kernel gradient") == "depthwise"


def test_the_table_names_toeplitz_for_lenet():
    lenet_conv1 = Case((128, 32, 32, 1), (5, 5, 1, 6), (1, 1), (1, 1), 1)
    lenet_conv2 = Case((128, 14, 14, 6), (5, 5, 6, 16), (1, 1), (1, 1), 1)
    assert [choose(lenet_conv1, which) for which in PASSES] == ["toeplitz"] * 3
    assert [choose(lenet_conv2, which) for which in PASSES] == ["toeplitz"] * 3


def test_a_forced_algorithm_that_cannot_serve_the_layer_says_so():
    x, kernel = np.zeros((1, 8, 8, 2), np.float32), np.zeros((5, 5, 2, 3), np.float32)
    with pytest.raises(ValueError, match=r"winograd needs a 2-D 3x3 kernel, stride 1 and dilation 1; received "
                                         r"kernel_size=\(5, 5\)"):
        F.conv2d(x, kernel, algorithm="winograd")
    with pytest.raises(ValueError, match="pointwise needs a 1x1 kernel"):
        F.conv2d(x, kernel, algorithm="pointwise")
    with pytest.raises(ValueError, match=r"unknown algorithm 'fastest'; expected 'auto' or one of "
                                         r"\['depth_slices', 'depth_stack', 'depthwise'"):
        algorithm_module("fastest")


def test_the_table_names_toeplitz_for_a_first_layer_on_grey_images_except_its_input_gradient():
    mnist_cnn_conv1 = Case((128, 28, 28, 1), (3, 3, 1, 32), (1, 1), (1, 1), 1)
    assert [choose(mnist_cnn_conv1, which) for which in PASSES] == ["toeplitz", "im2col", "toeplitz"]
    alexnet_conv1 = Case((8, 227, 227, 3), (11, 11, 3, 96), (4, 4), (1, 1), 1)  # three channels: im2col
    assert [choose(alexnet_conv1, which) for which in PASSES] == ["im2col"] * 3
