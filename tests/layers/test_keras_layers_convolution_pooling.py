"""Conv1D(padding="causal"), Conv1DTranspose, Conv3DTranspose, DepthwiseConv1D, SeparableConv1D, the global
poolings 1D/2D/3D with keepdims, and data_format on conv and pooling layers, against Keras 3: the same outputs
and gradients for the same weights."""

import numpy as np
import pytest
from keras_layer_check import check_against_keras

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("make, shape", [
    (lambda K: K.Conv1D(3, 3, padding="causal"), (2, 7, 2)),
    (lambda K: K.Conv1D(2, 2, padding="causal", dilation_rate=3, activation="relu"), (2, 9, 3)),
    (lambda K: K.Conv1D(2, 3, padding="same", data_format="channels_last"), (2, 6, 2)),
    (lambda K: K.Conv1DTranspose(3, 3, strides=2), (2, 5, 2)),
    (lambda K: K.Conv1DTranspose(2, 4, strides=2, padding="same"), (2, 5, 3)),
    (lambda K: K.Conv3DTranspose(2, 2, strides=2), (1, 2, 3, 2, 2)),
    (lambda K: K.Conv3DTranspose(2, (3, 2, 2), padding="same"), (1, 3, 3, 2, 2)),
    (lambda K: K.DepthwiseConv1D(3, depth_multiplier=2), (2, 7, 3)),
    (lambda K: K.DepthwiseConv1D(3, strides=2, padding="same", dilation_rate=1), (2, 8, 2)),
    (lambda K: K.SeparableConv1D(4, 3, depth_multiplier=2, padding="same"), (2, 7, 3)),
    (lambda K: K.SeparableConv1D(2, 2, dilation_rate=2, activation="tanh"), (2, 7, 3)),
    (lambda K: K.SeparableConv2D(3, 3, padding="same", depth_multiplier=2), (1, 5, 5, 2)),
    (lambda K: K.DepthwiseConv2D(3, data_format="channels_last"), (1, 5, 5, 2)),
    (lambda K: K.MaxPooling2D(2, data_format="channels_last"), (1, 4, 4, 2)),
], ids=lambda value: None if callable(value) else str(value))
def test_convolution_layer_matches_keras(make, shape):
    ours, theirs = make(L), make(KL)
    check_against_keras(ours, theirs, inputs(shape))
    assert ours.count_params() == theirs.count_params()


def test_causal_convolution_never_sees_a_later_step():
    layer = L.Conv1D(1, 3, padding="causal", dilation_rate=2)
    x = inputs((1, 10, 1))
    later_changed = x.copy()
    later_changed[0, 6:] += 5.0
    before, after = layer(x).numpy(), layer(later_changed).numpy()
    assert before.shape == (1, 10, 1)
    np.testing.assert_array_equal(before[0, :6], after[0, :6])
    assert not np.allclose(before[0, 6:], after[0, 6:])


@pytest.mark.parametrize("name, shape", [
    ("GlobalAveragePooling1D", (2, 5, 3)), ("GlobalMaxPooling1D", (2, 5, 3)),
    ("GlobalAveragePooling2D", (2, 4, 3, 3)), ("GlobalMaxPooling2D", (2, 4, 3, 3)),
    ("GlobalAveragePooling3D", (2, 2, 3, 2, 3)), ("GlobalMaxPooling3D", (2, 2, 3, 2, 3)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras(name, shape, keepdims):
    check_against_keras(getattr(L, name)(keepdims=keepdims), getattr(KL, name)(keepdims=keepdims), inputs(shape))


@pytest.mark.parametrize("make", [
    lambda: L.Conv2D(2, 3, data_format="channels_first"),
    lambda: L.Conv1DTranspose(2, 3, data_format="channels_first"),
    lambda: L.DepthwiseConv1D(3, data_format="channels_first"),
    lambda: L.SeparableConv2D(2, 3, data_format="channels_first"),
    lambda: L.MaxPooling2D(data_format="channels_first"),
    lambda: L.GlobalAveragePooling2D(data_format="channels_first"),
    lambda: L.ZeroPadding2D(data_format="channels_first"),
])
def test_channels_first_is_refused_with_one_message(make):
    with pytest.raises(ValueError, match="channels-last only.*received data_format='channels_first'"):
        make()


def test_causal_padding_is_refused_for_2d_convolutions():
    with pytest.raises(ValueError, match="causal.*1-D"):
        L.Conv2D(2, 3, padding="causal")


def test_configs_rebuild_the_new_convolution_layers():
    for layer in (L.Conv1D(2, 3, padding="causal"), L.Conv1DTranspose(2, 3, strides=2),
                  L.Conv3DTranspose(2, 2, output_padding=1, strides=2), L.DepthwiseConv1D(3, depth_multiplier=2),
                  L.SeparableConv1D(4, 3), L.GlobalMaxPooling3D(keepdims=True)):
        config = layer.get_config()
        twin = type(layer)(**{**config, "name": config["name"] + "_twin"})
        assert {k: v for k, v in twin.get_config().items() if k != "name"} == \
               {k: v for k, v in config.items() if k != "name"}


@pytest.mark.parametrize("make", [
    lambda K: K.Conv2D(3, 3, padding="same", activation="relu"),
    lambda K: K.Conv2DTranspose(2, 3, strides=2),
    lambda K: K.MaxPooling2D(2),
    lambda K: K.AveragePooling2D(2),
    lambda K: K.BatchNormalization(),
])
def test_float16_inputs_are_computed_in_float32_as_keras_casts_them(make):
    x = inputs((2, 6, 6, 3), seed=4).astype(np.float16)
    theirs, ours = make(KL), make(L)
    theirs.build((None, 6, 6, 3))
    ours.ensure_built((None, 6, 6, 3))
    weights = [np.random.default_rng(5).uniform(-1, 1, w.shape).astype(np.float32) for w in theirs.get_weights()]
    if isinstance(theirs, KL.BatchNormalization):  # a positive moving variance
        weights[-1] = np.abs(weights[-1]) + 0.5
    theirs.set_weights(weights)
    ours.set_weights(weights)
    expected = to_numpy(theirs(x))
    got = ours(x).numpy()
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
