"""Layer shape table: the arithmetic of compute_output_shape equals the shape of a real forward pass,
and parameter counts equal the textbook formulas."""

import numpy as np
import pytest

from striate import layers as L

CASES = [
    # (layer, input shape without batch, expected output shape without batch, expected parameter count)
    (lambda: L.Conv2D(32, 3), (28, 28, 1), (26, 26, 32), 3 * 3 * 1 * 32 + 32),
    (lambda: L.Conv2D(8, 5, strides=2, padding=2), (60, 60, 1), (30, 30, 8), 5 * 5 * 8 + 8),
    (lambda: L.Conv2D(4, 4, strides=(2, 3), padding="same"), (9, 10, 2), (5, 4, 4), 4 * 4 * 2 * 4 + 4),
    (lambda: L.Conv2D(6, 3, groups=3, use_bias=False), (8, 8, 6), (6, 6, 6), 3 * 3 * 2 * 6),
    (lambda: L.Conv2D(2, 3, dilation_rate=2), (9, 9, 1), (5, 5, 2), 3 * 3 * 2 + 2),
    (lambda: L.Conv1D(5, 3, padding="same"), (10, 4), (10, 5), 3 * 4 * 5 + 5),
    (lambda: L.Conv3D(2, 3), (5, 6, 7, 1), (3, 4, 5, 2), 27 * 2 + 2),
    (lambda: L.Conv2DTranspose(3, 3), (3, 3, 2), (5, 5, 3), 3 * 3 * 3 * 2 + 3),
    (lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"), (4, 4, 2), (8, 8, 3), 3 * 3 * 3 * 2 + 3),
    (lambda: L.Conv2DTranspose(4, 3, groups=2), (3, 3, 2), (5, 5, 4), 3 * 3 * 2 * 2 + 4),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2), (6, 6, 3), (4, 4, 6), 3 * 3 * 3 * 2 + 6),
    (lambda: L.SeparableConv2D(5, 3, use_bias=False), (6, 6, 3), (4, 4, 5), 3 * 3 * 3 + 3 * 5),
    (lambda: L.MaxPooling2D(2), (7, 7, 3), (3, 3, 3), 0),
    (lambda: L.MaxPooling2D(3, strides=2, padding="same"), (7, 7, 3), (4, 4, 3), 0),
    (lambda: L.AveragePooling1D(2), (9, 2), (4, 2), 0),
    (lambda: L.MaxPooling3D(2), (4, 4, 4, 1), (2, 2, 2, 1), 0),
    (lambda: L.GlobalAveragePooling2D(), (5, 5, 7), (7,), 0),
    (lambda: L.GlobalMaxPooling2D(), (5, 5, 7), (7,), 0),
    (lambda: L.Flatten(), (12, 12, 64), (9216,), 0),
    (lambda: L.Dense(128), (9216,), (128,), 9216 * 128 + 128),
    (lambda: L.Dropout(0.5), (10,), (10,), 0),
    (lambda: L.Activation("softmax"), (10,), (10,), 0),
    (lambda: L.ZeroPadding2D(((1, 2), (0, 3))), (4, 4, 1), (7, 7, 1), 0),
    (lambda: L.BatchNormalization(), (4, 4, 3), (4, 4, 3), 4 * 3),
    (lambda: L.LocalResponseNormalization(), (4, 4, 8), (4, 4, 8), 0),
]


@pytest.mark.parametrize(("make_layer", "input_shape", "output_shape", "params"), CASES)
def test_output_shape_arithmetic_matches_a_forward_pass(make_layer, input_shape, output_shape, params):
    layer = make_layer()
    y = layer(np.random.default_rng(0).standard_normal((2, *input_shape)).astype(np.float32))
    assert y.shape == (2, *output_shape)
    assert layer.compute_output_shape((None, *input_shape)) == (None, *output_shape)
    assert layer.count_params() == params


def test_batch_norm_moving_statistics_are_non_trainable():
    layer = L.BatchNormalization()
    layer(np.ones((2, 3), np.float32))
    assert [w.name.split("/")[1] for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name.split("/")[1] for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_set_weights_refuses_a_wrong_shape():
    layer = L.Dense(3)
    layer(np.ones((1, 4), np.float32))
    with pytest.raises(ValueError, match=r"kernel has shape \(4, 3\); received \(3, 4\)"):
        layer.set_weights([np.zeros((3, 4)), np.zeros(3)])


def test_get_and_set_weights_round_trip():
    layer = L.Conv2D(2, 3)
    x = np.random.default_rng(1).standard_normal((1, 5, 5, 1)).astype(np.float32)
    before = layer(x).numpy()
    other = L.Conv2D(2, 3)
    other(x)
    other.set_weights(layer.get_weights())
    np.testing.assert_array_equal(other(x).numpy(), before)


def test_small_random_initializer_stays_in_its_range():
    layer = L.Dense(50, kernel_initializer=L.RandomUniform(-0.01, 0.01))
    layer(np.ones((1, 40), np.float32))
    assert np.abs(layer.kernel.data).max() <= 0.01
