"""cell_arithmetic: one output value written out (window, kernel, products, sum, bias, activation) equals the value
the layer itself computes, for convolutions with padding, stride, dilation and groups, depthwise convolutions and
max / average pooling; and a worked example by hand."""

import numpy as np
import pytest

from striate import layers as L
from striate.explore.cell import cell_arithmetic

RNG = np.random.default_rng(0)


def built(layer, input_shape):
    """The layer built for inputs (H, W, C), with random weights and a non-zero bias."""
    layer.ensure_built((None, *input_shape))
    layer.set_weights([RNG.standard_normal(w.shape).astype(np.float32) for w in layer.weights])
    return layer


def assert_every_cell_matches(layer, x):
    """Every output value's written-out arithmetic equals the layer's own output (float32 rounding)."""
    output = layer(x[None]).numpy()[0]
    for row, column, channel in np.ndindex(*output.shape):
        cell = cell_arithmetic(layer, x, row, column, channel)
        assert cell.value == pytest.approx(output[row, column, channel], rel=1e-5, abs=1e-5)
        if cell.products is not None:  # the parts add up to the value
            assert cell.total == pytest.approx(cell.products.sum())
            assert cell.z == pytest.approx(cell.total + (cell.bias or 0.0))


def test_worked_example_by_hand():
    layer = L.Conv2D(1, 2, activation="relu")
    layer.ensure_built((None, 3, 3, 1))
    layer.set_weights([np.array([[0, 1], [2, 0]], np.float32).reshape(2, 2, 1, 1), np.array([0.5], np.float32)])
    image = np.arange(1, 10, dtype=np.float32).reshape(3, 3, 1)      # 1 2 3 / 4 5 6 / 7 8 9
    cell = cell_arithmetic(layer, image, 0, 1, 0)
    np.testing.assert_array_equal(cell.window[..., 0], [[2, 3], [5, 6]])
    np.testing.assert_array_equal(cell.products[..., 0], [[0, 3], [10, 0]])
    assert (cell.total, cell.bias, cell.z, cell.value) == (13, 0.5, 13.5, 13.5)
    assert cell.origin == (0, 1) and cell.inside.all() and cell.activation == "relu"


@pytest.mark.parametrize("options", [
    {"padding": "same", "activation": "relu"},
    {"padding": "same", "strides": 2, "activation": "tanh"},
    {"padding": "valid", "dilation_rate": 2, "activation": "sigmoid"},
    {"padding": "same", "strides": 2, "dilation_rate": 2},
    {"padding": 1, "groups": 2, "activation": "elu"},
    {"padding": "full", "use_bias": False},
])
def test_convolution_cells_equal_the_layer_output(options):
    layer = built(L.Conv2D(4, 3, **options), (7, 6, 4))
    assert_every_cell_matches(layer, RNG.standard_normal((7, 6, 4)).astype(np.float32))


def test_even_kernel_same_padding_puts_the_odd_cell_after():
    # TensorFlow's "same": total padding 2 - 1 = 1 on a 4-wide input with a 2x2 kernel, all of it after
    layer = built(L.Conv2D(2, 2, padding="same"), (4, 4, 1))
    x = RNG.standard_normal((4, 4, 1)).astype(np.float32)
    cell = cell_arithmetic(layer, x, 3, 3, 1)
    assert cell.padding == ((0, 1), (0, 1))
    np.testing.assert_array_equal(cell.inside, [[True, False], [False, False]])
    np.testing.assert_array_equal(cell.window[..., 0], [[x[3, 3, 0], 0], [0, 0]])
    assert_every_cell_matches(layer, x)


def test_stride_and_padding_place_the_window_as_the_formula_says():
    # 5x5 input, 3x3 kernel, stride 2, "same": 3 outputs, total padding (3 - 1) 2 + 3 - 5 = 2, one each side
    layer = built(L.Conv2D(1, 3, strides=2, padding="same"), (5, 5, 2))
    x = RNG.standard_normal((5, 5, 2)).astype(np.float32)
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    cell = cell_arithmetic(layer, x, 2, 1, 0)
    assert cell.origin == (3, 1)        # (2 * 2 - 1, 1 * 2 - 1)
    np.testing.assert_array_equal(cell.window, padded[4:7, 2:5])
    np.testing.assert_array_equal(cell.inside[2], [False, False, False])   # the bottom row is padding


def test_dilated_window_reads_every_second_cell():
    layer = built(L.Conv2D(1, 3, dilation_rate=2), (7, 7, 1))
    x = RNG.standard_normal((7, 7, 1)).astype(np.float32)
    cell = cell_arithmetic(layer, x, 1, 2, 0)
    np.testing.assert_array_equal(cell.window, x[1:6:2, 2:7:2])
    np.testing.assert_array_equal(cell.cells[0, :, 1], [2, 4, 6])


def test_grouped_convolution_reads_only_its_group():
    layer = built(L.Conv2D(6, 3, groups=3, padding="same"), (5, 5, 6))
    cell = cell_arithmetic(layer, RNG.standard_normal((5, 5, 6)).astype(np.float32), 2, 2, 5)
    assert cell.input_channels == [4, 5]     # output 5 is in group 5 // 2 = 2: input channels 4 and 5
    np.testing.assert_array_equal(cell.kernel, layer.kernel.numpy()[:, :, :, 5])


def test_depthwise_cells_equal_the_layer_output():
    layer = built(L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu"), (6, 6, 3))
    x = RNG.standard_normal((6, 6, 3)).astype(np.float32)
    assert_every_cell_matches(layer, x)
    assert cell_arithmetic(layer, x, 0, 0, 5).input_channels == [2]   # output 5 = input 2, copy 1


@pytest.mark.parametrize("layer", [L.MaxPooling2D(2), L.MaxPooling2D(3, strides=2, padding="same"),
                                   L.AveragePooling2D(2), L.AveragePooling2D(3, strides=2, padding="same")])
def test_pooling_cells_equal_the_layer_output(layer):
    x = RNG.standard_normal((7, 7, 2)).astype(np.float32) - 3     # negative: a padding zero must never win
    layer.ensure_built((None, 7, 7, 2))
    assert_every_cell_matches(layer, x)


def test_average_pooling_divides_by_the_cells_inside_the_input():
    layer = L.AveragePooling2D(2, padding="same")
    layer.ensure_built((None, 3, 3, 1))
    x = np.arange(9, dtype=np.float32).reshape(3, 3, 1)
    cell = cell_arithmetic(layer, x, 1, 1, 0)          # the corner window holds x[2, 2] = 8 and three padding cells
    assert cell.inside.sum() == 1 and cell.value == 8


@pytest.mark.parametrize("make, message", [
    (lambda: L.Dense(3), "is a Dense"),
    (lambda: L.Conv2DTranspose(2, 3), "is a Conv2DTranspose"),
    (lambda: L.SeparableConv2D(2, 3), "is a SeparableConv2D"),
    (lambda: L.Conv2D(2, 3, activation="softmax"), "softmax"),
])
def test_other_layers_are_refused(make, message):
    layer = make()
    layer.ensure_built((None, 5, 5, 2))
    with pytest.raises(ValueError, match=message):
        cell_arithmetic(layer, np.zeros((5, 5, 2)), 0, 0, 0)


def test_cells_outside_the_output_and_wrong_inputs_are_refused():
    layer = built(L.Conv2D(2, 3), (5, 5, 1))
    with pytest.raises(ValueError, match="outputs 3x3x2 .*received row=3"):
        cell_arithmetic(layer, np.zeros((5, 5, 1)), 3, 0, 0)
    with pytest.raises(ValueError, match=r"takes \(H, W, 1\) inputs; received layer_input of shape \(5, 5, 2\)"):
        cell_arithmetic(layer, np.zeros((5, 5, 2)), 0, 0, 0)
