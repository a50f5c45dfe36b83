"""Reshape, Permute, RepeatVector, UpSampling1D/2D/3D, Cropping1D/2D/3D, ZeroPadding1D/2D/3D, Identity and Lambda
against Keras 3: the same outputs, output shapes and input gradients."""

import numpy as np
import pytest
from keras_layer_check import check_against_keras

from keras_oracle import IGNORE_KERAS_WARNINGS, keras
from striate import layers as L
from striate import ops

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("make, shape", [
    (lambda K: K.Reshape((6, 4)), (2, 3, 8)),
    (lambda K: K.Reshape((-1, 2)), (2, 3, 4)),
    (lambda K: K.Permute((2, 1)), (2, 3, 4)),
    (lambda K: K.Permute((3, 1, 2)), (2, 3, 4, 5)),
    (lambda K: K.RepeatVector(3), (2, 5)),
    (lambda K: K.UpSampling1D(3), (2, 4, 3)),
    (lambda K: K.UpSampling2D((2, 3)), (2, 3, 4, 2)),
    (lambda K: K.UpSampling2D(2, interpolation="bilinear"), (2, 3, 5, 2)),
    (lambda K: K.UpSampling3D((1, 2, 2)), (2, 2, 3, 3, 2)),
    (lambda K: K.Cropping1D((1, 2)), (2, 6, 3)),
    (lambda K: K.Cropping2D(((1, 0), (2, 1))), (2, 5, 6, 2)),
    (lambda K: K.Cropping2D(1), (2, 5, 6, 2)),
    (lambda K: K.Cropping3D(((1, 0), (0, 1), (1, 1))), (2, 4, 4, 5, 2)),
    (lambda K: K.ZeroPadding1D((2, 1)), (2, 4, 3)),
    (lambda K: K.ZeroPadding2D(((1, 0), (2, 3))), (2, 3, 4, 2)),
    (lambda K: K.ZeroPadding3D(1), (2, 2, 3, 3, 2)),
    (lambda K: K.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), (2, 2, 3, 3, 2)),
    (lambda K: K.Identity(), (2, 3)),
], ids=lambda value: None if callable(value) else str(value))
def test_reshaping_layer_matches_keras(make, shape):
    ours, theirs = make(L), make(KL)
    check_against_keras(ours, theirs, inputs(shape))
    assert ours.count_params() == 0


def test_upsampling2d_nearest_repeats_each_pixel_written_out():
    x = np.arange(4.0, dtype=np.float32).reshape(1, 2, 2, 1)
    y = L.UpSampling2D((2, 3))(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, np.kron(x[0, :, :, 0], np.ones((2, 3))))


def test_lambda_matches_keras_and_infers_its_output_shape():
    x = inputs((2, 3, 4))
    ours = L.Lambda(lambda t: ops.tanh(t) * 2.0)
    theirs = KL.Lambda(lambda t: keras.ops.tanh(t) * 2.0)
    check_against_keras(ours, theirs, x)
    summed = L.Lambda(lambda t, axis: t.sum(axis=axis), arguments={"axis": 1})
    assert summed.compute_output_shape((None, 3, 4)) == (None, 4)
    assert L.Lambda(lambda t: t, output_shape=(7,)).compute_output_shape((None, 7)) == (None, 7)


def test_lambda_config_cannot_be_rebuilt_from_a_file():
    config = L.Lambda(np.negative).get_config()
    assert config["function"] == "numpy.negative"
    with pytest.raises(ValueError, match="does not load code from files"):
        L.Lambda(**config)


@pytest.mark.parametrize("layer, shape, message", [
    (lambda: L.Reshape((5,)), (None, 2, 3), "6 values per sample"),
    (lambda: L.Cropping1D((2, 2)), (None, 4, 1), "removes all"),
    (lambda: L.Permute((1, 2)), (None, 2, 3, 4), "permute 2 axes"),
    (lambda: L.RepeatVector(2), (None, 2, 3), r"\(batch, features\)"),
])
def test_impossible_shapes_are_refused_with_the_arithmetic(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer().compute_output_shape(shape)


@pytest.mark.parametrize("make", [
    lambda: L.UpSampling2D(data_format="channels_first"),
    lambda: L.Cropping2D(data_format="channels_first"),
    lambda: L.ZeroPadding3D(data_format="channels_first"),
])
def test_channels_first_is_refused_with_one_message(make):
    with pytest.raises(ValueError, match="channels-last only"):
        make()
