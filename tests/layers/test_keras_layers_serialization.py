"""Every layer issue 16 adds goes through striate's architecture JSON: model.to_json() -> model_from_json
rebuilds the same layers with the same configs, and with the weights copied the rebuilt model predicts the
same."""

import json

import numpy as np

import striate
from striate import layers as L
from striate.models.architecture import model_from_json


def rebuilt(model):
    twin = model_from_json(model.to_json())
    twin.set_weights(model.get_weights())
    return twin


def assert_same_layers(model, twin):
    assert [type(layer) for layer in model.layers] == [type(layer) for layer in twin.layers]
    for layer, copy in zip(model.layers, twin.layers):
        assert json.dumps(layer.get_config(), sort_keys=True) == json.dumps(copy.get_config(), sort_keys=True)


def test_an_image_model_of_the_new_layers_survives_to_json():
    model = striate.Sequential([
        striate.Input((12, 12, 3)),
        L.Rescaling(1 / 255), L.Resizing(10, 10), L.CenterCrop(8, 8), L.Normalization(mean=0.5, variance=0.1),
        L.RandomFlip(seed=1), L.RandomRotation(0.1), L.RandomTranslation(0.1, 0.1), L.RandomZoom(0.1),
        L.RandomContrast(0.2), L.RandomCrop(8, 8),
        L.ZeroPadding2D(1, data_format="channels_last"), L.Conv2D(4, 3, data_format="channels_last"),
        L.GroupNormalization(2), L.PReLU(shared_axes=[1, 2]), L.SpatialDropout2D(0.1, seed=3), L.GaussianNoise(0.1),
        L.Cropping2D(1), L.UpSampling2D(2, interpolation="bilinear"), L.SeparableConv2D(4, 3), L.ReLU(6.0),
        L.DepthwiseConv2D(3, depth_multiplier=2), L.LeakyReLU(), L.MaxPooling2D(data_format="channels_last"),
        L.BatchNormalization(moving_variance_initializer="ones"), L.ELU(), L.GaussianDropout(0.1),
        L.GlobalAveragePooling2D(keepdims=True), L.Reshape((-1,)), L.LayerNormalization(), L.RepeatVector(3),
        L.Permute((2, 1)), L.Conv1D(2, 2, padding="causal"), L.ZeroPadding1D(1), L.Cropping1D(1),
        L.UpSampling1D(2), L.DepthwiseConv1D(2), L.SeparableConv1D(3, 2), L.Conv1DTranspose(2, 2),
        L.GlobalMaxPooling1D(), L.Dropout(0.2, noise_shape=(None, 1), seed=2), L.Identity(), L.Softmax(),
    ])
    twin = rebuilt(model)
    assert_same_layers(model, twin)
    x = np.random.default_rng(0).uniform(0, 255, (2, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(twin.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_a_volume_model_of_the_new_layers_survives_to_json():
    model = striate.Sequential([
        striate.Input((4, 4, 4, 2)),
        L.ZeroPadding3D(1), L.Cropping3D(1), L.UpSampling3D((1, 2, 2)), L.Conv3DTranspose(2, 2, strides=2),
        L.SpatialDropout3D(0.2), L.GlobalMaxPooling3D(), L.Dense(3),
    ])
    twin = rebuilt(model)
    assert_same_layers(model, twin)
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(twin.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_a_functional_model_of_the_merge_layers_survives_to_json():
    a, b = striate.Input((5,)), striate.Input((5,))
    merged = [L.multiply([a, b]), L.subtract([a, b]), L.average([a, b]), L.maximum([a, b]), L.minimum([a, b]),
              L.dot([a, b], axes=1, normalize=True)]
    model = striate.Model([a, b], L.Dense(2, activation="gelu")(L.concatenate(merged)))
    twin = rebuilt(model)
    assert_same_layers(model, twin)
    x = [np.random.default_rng(s).normal(size=(3, 5)).astype(np.float32) for s in (2, 3)]
    np.testing.assert_allclose(twin.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_an_adapted_normalization_keeps_its_statistics_as_weights():
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(4).normal(3, 2, (50, 4)).astype(np.float32))
    model = striate.Sequential([striate.Input((4,)), norm, L.Dense(1)])
    twin = rebuilt(model)
    x = np.random.default_rng(5).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(twin.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
