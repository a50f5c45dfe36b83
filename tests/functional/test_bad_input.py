"""Bad input gets a clear error naming the op, what it received and the arithmetic that failed."""

import re

import numpy as np
import pytest

import striate.functional as F
from striate import Tensor


def raises(error, *message_parts):
    """pytest.raises whose message must contain every part, in order."""
    return pytest.raises(error, match=".*".join(re.escape(part) for part in message_parts))


def test_kernel_larger_than_input_shows_the_output_size_formula():
    with raises(ValueError, "conv2d: a 5x5 kernel does not fit a 3x3 input with padding 0: "
                            "floor((3 + 0 - 5) / 1) + 1 = -1"):
        F.conv2d(np.ones((1, 3, 3, 1)), np.ones((5, 5, 1, 1)))


def test_dilated_kernel_that_does_not_fit_names_its_span():
    with raises(ValueError, "conv2d: a 3x3 kernel with dilation_rate (4, 4) (spanning 9x9 cells)",
                "floor((8 + 0 - 9) / 1) + 1 = 0"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), dilation_rate=4)


def test_channel_mismatch_names_both_counts_and_the_layout():
    with raises(ValueError, "conv2d: the input has 3 channels", "(N, H, W, C)", "expects C_in = 1"):
        F.conv2d(np.ones((1, 28, 28, 3)), np.ones((3, 3, 1, 8)))


def test_channels_first_input_gets_an_nchw_hint():
    with raises(ValueError, "did you pass NCHW? striate is channels-last"):
        F.conv2d(np.ones((2, 1, 28, 28)), np.ones((3, 3, 1, 8)))


def test_kernel_of_the_wrong_rank():
    with raises(ValueError, "conv2d: the kernel must have rank 4 (kh, kw, C_in // groups, C_out); "
                            "received shape (3, 3, 1)"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1)))


def test_input_of_the_wrong_rank():
    with raises(ValueError, "conv3d: expects an input of rank 5 (N, D, H, W, C)", "received shape (8, 8, 1)"):
        F.conv3d(np.ones((8, 8, 1)), np.ones((3, 3, 3, 1, 1)))


@pytest.mark.parametrize("strides", [0, -1, (1, 0)])
def test_zero_or_negative_stride(strides):
    with raises(ValueError, f"conv2d: strides must be positive; received {strides!r}"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), strides=strides)


@pytest.mark.parametrize("strides", [(1.0, 1.0), True])
def test_a_stride_equal_to_a_valid_one_is_still_refused_after_a_valid_call(strides):
    """The checked geometry of a call is kept for the next with equal arguments; 1.0 and True equal 1 but are
    not ints, so they must not find the valid call's."""
    F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), strides=(1, 1) if isinstance(strides, tuple) else 1)
    with raises(ValueError, f"conv2d: strides must be an int or 2 ints (one per spatial axis); received {strides!r}"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), strides=strides)


def test_a_pool_size_equal_to_a_valid_one_is_still_refused_after_a_valid_call():
    F.max_pool2d(np.ones((1, 8, 8, 1)), 2)
    with raises(ValueError, "max_pool2d: pool_size must be an int or 2 ints (one per spatial axis); received 2.0"):
        F.max_pool2d(np.ones((1, 8, 8, 1)), 2.0)


def test_stride_per_axis_of_the_wrong_length():
    with raises(ValueError, "conv2d: strides must be an int or 2 ints (one per spatial axis); received (1, 2, 3)"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), strides=(1, 2, 3))


def test_groups_that_do_not_divide_the_channels():
    with raises(ValueError, "conv2d: groups=4 must divide both the input channels C_in=4 and the filters C_out=6"):
        F.conv2d(np.ones((1, 8, 8, 4)), np.ones((3, 3, 1, 6)), groups=4)


def test_group_norm_gamma_of_the_wrong_size():
    with raises(ValueError, "group_norm: gamma must have 8 values, one per normalized feature; received shape (4,)"):
        F.group_norm(np.ones((2, 4, 4, 8)), 2, np.ones(4))


def test_unknown_padding_word():
    with raises(ValueError, "conv2d: unknown padding 'sam'; expected 'valid', 'same', 'full'"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), padding="sam")


def test_unknown_padding_mode():
    with raises(ValueError, "conv2d: unknown padding_mode 'mirror'"):
        F.conv2d(np.ones((1, 8, 8, 1)), np.ones((3, 3, 1, 1)), padding=1, padding_mode="mirror")


def test_reflect_padding_as_wide_as_the_input():
    with raises(ValueError, "conv1d: reflect padding mirrors without the edge cell", "axis 1 has 3 cells"):
        F.conv1d(np.ones((1, 3, 1)), np.ones((3, 1, 1)), padding=3, padding_mode="reflect")


def test_non_numeric_input():
    with raises(TypeError, "conv2d: input must be numeric; received an array of dtype <U1"):
        F.conv2d(np.full((1, 4, 4, 1), "a"), np.ones((3, 3, 1, 1)))


def test_non_numeric_tensor_data():
    with raises(TypeError, "Tensor: data must be numeric"):
        Tensor(np.array(["not", "numbers"]))


def test_nan_in_the_data_is_not_an_error():
    y = F.conv2d(np.full((1, 4, 4, 1), np.nan), np.ones((3, 3, 1, 1)))
    assert np.isnan(y.numpy()).all()


def test_pool_window_larger_than_input():
    with raises(ValueError, "max_pool2d: a 2x2 pool window does not fit a 1x1 input with padding 0: "
                            "floor((1 + 0 - 2) / 2) + 1 = 0"):
        F.max_pool2d(np.ones((1, 1, 1, 1)), 2)


def test_pooling_refuses_explicit_padding():
    with raises(ValueError, "avg_pool2d: padding must be 'valid' or 'same' (as Keras); received 1"):
        F.avg_pool2d(np.ones((1, 4, 4, 1)), 2, padding=1)


def test_output_padding_not_smaller_than_stride():
    with raises(ValueError, "conv_transpose2d: output_padding must be an int with 0 <= output_padding < stride (2)"):
        F.conv_transpose2d(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), strides=2, output_padding=2)


def test_transposed_convolution_that_no_convolution_matches():
    with raises(ValueError, "conv_transpose2d: padding 'same' with output_padding 0 makes an output of 4 cells",
                "not the input's 3"):
        F.conv_transpose2d(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), strides=2, padding="same", output_padding=0)


def test_conv_output_length_shows_the_formula():
    with raises(ValueError, "floor((3 + 0 - 5) / 1) + 1 = -1"):
        F.conv_output_length(3, 5)


def test_label_out_of_range():
    with raises(ValueError, "cross_entropy: labels must lie in [0, 3) for 3 classes"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))


def test_bias_of_the_wrong_shape():
    with raises(ValueError, "conv2d: bias must have shape (2,), one per filter; received (3,)"):
        F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 2)), bias=np.ones(3))


def test_dropout_rate_out_of_range():
    with raises(ValueError, "dropout: rate must satisfy 0 <= rate < 1; received rate=1.0"):
        F.dropout(np.ones(3), 1.0)


def test_backward_of_a_non_scalar_needs_an_upstream_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    with raises(RuntimeError, "backward: a Tensor of shape (3,) needs an upstream gradient"):
        (x * 2).backward()


def test_concat_of_mismatched_shapes():
    with raises(ValueError, "concat: shapes must match except on the axis; received [(2, 3), (2, 4)]"):
        F.concat([np.ones((2, 3)), np.ones((2, 4))], axis=0)
