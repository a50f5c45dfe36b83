"""LayerNormalization, GroupNormalization and BatchNormalization's axis and initializers against Keras 3 (outputs
and gradients for the same weights); the noise layers (GaussianNoise, GaussianDropout, SpatialDropout1D/2D/3D)
and Dropout's noise_shape and seed by their training statistics and their inference identity."""

import numpy as np
import pytest
from keras_layer_check import check_against_keras

from keras_oracle import IGNORE_KERAS_WARNINGS, keras
from striate import layers as L
from striate.core.random import set_random_seed

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def inputs(shape, seed=0, mean=1.0, scale=2.0):
    return np.random.default_rng(seed).normal(mean, scale, shape).astype(np.float32)


@pytest.mark.parametrize("make, shape", [
    (lambda K: K.LayerNormalization(), (3, 5, 4)),
    (lambda K: K.LayerNormalization(axis=[1, 2]), (3, 5, 4)),
    (lambda K: K.LayerNormalization(epsilon=1e-5, center=False), (3, 5, 4)),
    (lambda K: K.GroupNormalization(groups=2), (2, 4, 3, 6)),
    (lambda K: K.GroupNormalization(groups=-1, scale=False), (2, 5, 4)),
    (lambda K: K.GroupNormalization(groups=1), (2, 3, 3, 4)),
], ids=lambda value: None if callable(value) else str(value))
def test_sample_normalization_matches_keras(make, shape):
    ours, theirs = make(L), make(KL)
    check_against_keras(ours, theirs, inputs(shape))
    assert ours.count_params() == theirs.count_params()


def test_layer_normalization_over_a_middle_axis_written_out():
    # (Keras' torch backend cannot normalize over axis 1 of a rank-3 input alone; the formula is the oracle)
    x = inputs((3, 5, 4))
    layer = L.LayerNormalization(axis=1)
    layer.ensure_built((None, 5, 4))
    gamma, beta = inputs((5,), seed=1), inputs((5,), seed=2)
    layer.set_weights([gamma, beta])
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma[:, None] + beta[:, None]
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_group_normalization_written_out_for_two_groups():
    x = inputs((2, 3, 4))
    y = L.GroupNormalization(groups=2, epsilon=0.0)(x).numpy()
    for group in (slice(0, 2), slice(2, 4)):
        part = x[..., group]
        mean, var = part.mean(axis=(1, 2), keepdims=True), part.var(axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(y[..., group], (part - mean) / np.sqrt(var), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("training", [False, True])
def test_batch_normalization_initializers_and_axis_match_keras(training):
    options = {"axis": -1, "gamma_initializer": "random_uniform", "beta_initializer": "random_normal",
               "moving_mean_initializer": "ones", "moving_variance_initializer": "random_uniform"}
    rng = np.random.default_rng(5)
    weights = [rng.uniform(0.5, 2, 2), rng.normal(size=2), rng.normal(size=2), rng.uniform(0.5, 2, 2)]
    check_against_keras(L.BatchNormalization(**options), KL.BatchNormalization(**options), inputs((4, 3, 3, 2)),
                        training=training, weights=[w.astype(np.float32) for w in weights])
    ours = L.BatchNormalization(moving_mean_initializer="ones", gamma_initializer="zeros")
    ours.ensure_built((None, 3))
    np.testing.assert_array_equal(ours.moving_mean.numpy(), np.ones(3))
    np.testing.assert_array_equal(ours.gamma.numpy(), np.zeros(3))


def test_batch_normalization_over_another_axis_is_refused_naming_the_axis():
    layer = L.BatchNormalization(axis=1)
    with pytest.raises(ValueError, match="axis must be -1 .*received axis=1"):
        layer(np.zeros((2, 3, 4), np.float32))
    L.BatchNormalization(axis=2)(np.zeros((2, 3, 4), np.float32))  # the last axis by its positive index


@pytest.mark.parametrize("layer, shape", [
    (L.GaussianNoise(0.5), (2, 3, 4)), (L.GaussianDropout(0.3), (2, 3, 4)), (L.SpatialDropout1D(0.5), (2, 3, 4)),
    (L.SpatialDropout2D(0.5), (2, 3, 3, 4)), (L.SpatialDropout3D(0.5), (2, 2, 2, 3, 4)),
    (L.Dropout(0.5, noise_shape=(None, 1, 4)), (2, 3, 4)),
])
def test_noise_layers_are_the_identity_in_inference(layer, shape):
    x = inputs(shape)
    np.testing.assert_array_equal(layer(x).numpy(), x)


def test_gaussian_noise_adds_noise_of_the_given_deviation():
    x = np.full((200, 50, 10), 3.0, np.float32)
    noise = L.GaussianNoise(0.5, seed=1)(x, training=True).numpy() - x
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01


def test_gaussian_dropout_multiplies_by_noise_of_mean_one_and_dropouts_variance():
    x = np.full((200, 50, 10), 2.0, np.float32)
    factor = L.GaussianDropout(0.2, seed=1)(x, training=True).numpy() / x
    assert abs(factor.mean() - 1) < 0.01
    assert abs(factor.std() - np.sqrt(0.2 / 0.8)) < 0.01


@pytest.mark.parametrize("layer, shape", [
    (L.SpatialDropout1D(0.4, seed=3), (300, 6, 8)),
    (L.SpatialDropout2D(0.4, seed=3), (300, 3, 2, 8)),
    (L.SpatialDropout3D(0.4, seed=3), (300, 2, 2, 2, 8)),
    (L.Dropout(0.4, noise_shape=(None, 1, 8), seed=3), (300, 6, 8)),
])
def test_spatial_dropout_drops_whole_channels_at_the_rate(layer, shape):
    x = np.ones(shape, np.float32)
    y = layer(x, training=True).numpy()
    per_channel = y.reshape(shape[0], -1, shape[-1])
    assert np.all(per_channel == per_channel[:, :1, :])  # one keep/drop per (sample, channel)
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.6)}
    assert abs((per_channel[:, 0, :] == 0).mean() - 0.4) < 0.04


def test_a_seed_makes_the_noise_repeatable_and_set_random_seed_the_shared_one():
    x = np.ones((4, 6, 3), np.float32)
    first = [L.Dropout(0.5, seed=7)(x, training=True).numpy() for _ in range(2)]
    layer = L.Dropout(0.5, seed=7)
    np.testing.assert_array_equal(layer(x, training=True).numpy(), first[0])
    assert not np.array_equal(layer(x, training=True).numpy(), first[0])  # each call draws a new mask
    runs = []
    for _ in range(2):
        set_random_seed(11)
        runs.append(L.GaussianNoise(1.0)(x, training=True).numpy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_noise_layer_configs_rebuild_the_layer():
    for layer in (L.GaussianNoise(0.1, seed=2), L.GaussianDropout(0.3), L.SpatialDropout2D(0.2, seed=1),
                  L.SpatialDropout1D(0.2), L.Dropout(0.3, noise_shape=(None, 1, 5), seed=4),
                  L.LayerNormalization(axis=[1, 2]), L.GroupNormalization(4),
                  L.BatchNormalization(moving_variance_initializer="zeros")):
        config = layer.get_config()
        twin = type(layer)(**{**config, "name": config["name"] + "_twin"})
        assert {k: v for k, v in twin.get_config().items() if k != "name"} == \
               {k: v for k, v in config.items() if k != "name"}
