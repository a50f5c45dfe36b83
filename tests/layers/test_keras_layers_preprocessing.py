"""Preprocessing layers (Rescaling, Resizing, CenterCrop, Normalization) against Keras 3 (outputs and gradients);
the random augmentations (RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomCrop, RandomContrast):
the identity in inference, Keras' own output where a degenerate factor range fixes the transformation, and a
deterministic property of each random draw."""

import numpy as np
import pytest
import torch
from keras_layer_check import check_against_keras

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L
from striate.core.tensor import Tensor

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def images(shape=(2, 6, 8, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


@pytest.mark.parametrize("make, shape", [
    (lambda K: K.Rescaling(1 / 255), (2, 4, 4, 3)),
    (lambda K: K.Rescaling(2.0, offset=-1.0), (2, 4, 4, 3)),
    (lambda K: K.Resizing(4, 5), (2, 6, 8, 3)),
    (lambda K: K.Resizing(9, 13), (2, 6, 8, 3)),
    (lambda K: K.Resizing(5, 3, interpolation="nearest"), (2, 6, 8, 3)),
    (lambda K: K.Resizing(12, 7, interpolation="nearest"), (2, 6, 8, 3)),
    (lambda K: K.Resizing(4, 4, crop_to_aspect_ratio=True), (2, 6, 8, 3)),
    (lambda K: K.Resizing(5, 5, pad_to_aspect_ratio=True, fill_value=0.5), (2, 6, 9, 3)),
    (lambda K: K.CenterCrop(4, 5), (2, 6, 8, 3)),
    (lambda K: K.CenterCrop(3, 3), (2, 6, 7, 3)),
    (lambda K: K.CenterCrop(8, 8), (2, 6, 7, 3)),
    (lambda K: K.Normalization(mean=[0.5, 0.2, 0.1], variance=[0.04, 1.0, 4.0]), (2, 4, 4, 3)),
    (lambda K: K.Normalization(mean=0.5, variance=2.0, invert=True), (2, 4, 4, 3)),
], ids=lambda value: None if callable(value) else str(value))
def test_preprocessing_layer_matches_keras(make, shape):
    ours, theirs = make(L), make(KL)
    check_against_keras(ours, theirs, images(shape), weights=None)


@pytest.mark.parametrize("axis", [-1, (1, 2), None])
def test_normalization_adapt_matches_keras(axis):
    data = images((10, 3, 4, 2)) * 5 + 2
    ours, theirs = L.Normalization(axis=axis), KL.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-5, atol=1e-5)
    x = images((2, 3, 4, 2), seed=1)
    np.testing.assert_allclose(ours(x).numpy(), to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)
    standardized = ours(data).numpy()
    reduced = tuple(a for a in range(4) if a not in ours._kept_axes((None, 3, 4, 2)))
    np.testing.assert_allclose(standardized.mean(axis=reduced), 0, atol=1e-5)
    np.testing.assert_allclose(standardized.std(axis=reduced), 1, atol=1e-4)


def test_normalization_needs_both_mean_and_variance():
    with pytest.raises(ValueError, match="both mean and variance"):
        L.Normalization(mean=0.0)


@pytest.mark.parametrize("layer, shape", [
    (L.RandomFlip(), (2, 5, 6, 3)), (L.RandomRotation(0.2), (2, 5, 6, 3)),
    (L.RandomTranslation(0.2, 0.3), (2, 5, 6, 3)), (L.RandomZoom(0.3), (2, 5, 6, 3)),
    (L.RandomContrast(0.4), (2, 5, 6, 3)), (L.RandomCrop(3, 4), (2, 5, 6, 3)),
])
def test_random_layers_are_the_identity_in_inference(layer, shape):
    x = images(shape)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


@pytest.mark.parametrize("make", [
    lambda K: K.RandomRotation((0.25, 0.25), fill_mode="constant"),
    lambda K: K.RandomRotation((0.1, 0.1)),
    lambda K: K.RandomRotation((-0.3, -0.3), fill_mode="wrap", interpolation="nearest"),
    lambda K: K.RandomTranslation((0.2, 0.2), (-0.25, -0.25)),
    lambda K: K.RandomTranslation((-0.4, -0.4), (0.1, 0.1), fill_mode="nearest"),
    lambda K: K.RandomTranslation((0.3, 0.3), (0.0, 0.0), fill_mode="constant", fill_value=0.5),
    lambda K: K.RandomZoom((0.3, 0.3)),
    lambda K: K.RandomZoom((-0.4, -0.4), (0.2, 0.2), fill_mode="constant"),
], ids=lambda value: None)
def test_a_fixed_affine_augmentation_matches_keras(make):
    # a factor range (a, a) leaves nothing to chance: the transformation is Keras' own
    x = images((2, 7, 7, 2))
    ours, theirs = make(L), make(KL)
    mine = ours(Tensor(x), training=True).numpy()
    np.testing.assert_allclose(mine, to_numpy(theirs(torch.tensor(x), training=True)), rtol=1e-5, atol=1e-5)


def test_random_flip_gives_each_image_or_its_mirror_and_both_occur():
    x = images((64, 4, 5, 1))
    y = L.RandomFlip("horizontal", seed=0)(x, training=True).numpy()
    same = np.all(y == x, axis=(1, 2, 3))
    mirrored = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 16 < mirrored.sum() < 48
    both = L.RandomFlip(seed=0)(x, training=True).numpy()
    candidates = [x, x[:, ::-1], x[:, :, ::-1], x[:, ::-1, ::-1]]
    assert all(any(np.array_equal(both[i], c[i]) for c in candidates) for i in range(len(x)))


def test_random_flip_gradient_is_the_mirrored_upstream():
    x = Tensor(images((16, 3, 4, 1)), requires_grad=True)
    y = L.RandomFlip("vertical", seed=2)(x, training=True)
    upstream = images((16, 3, 4, 1), seed=1)
    y.backward(upstream)
    flipped = ~np.all(y.numpy() == x.numpy(), axis=(1, 2, 3))
    expected = np.where(flipped[:, None, None, None], upstream[:, ::-1], upstream)
    np.testing.assert_array_equal(x.grad, expected)


def test_random_crop_takes_a_window_of_the_image_in_training():
    x = images((3, 9, 10, 2))
    y = L.RandomCrop(4, 5, seed=3)(x, training=True).numpy()
    windows = [(top, left) for top in range(6) for left in range(6)
               if np.array_equal(y, x[:, top : top + 4, left : left + 5])]
    assert len(windows) == 1
    small = images((2, 3, 4, 2))  # not larger than the window: centre-cropped to 4:5 and resized, as Keras
    np.testing.assert_allclose(L.RandomCrop(4, 5)(small, training=True).numpy(),
                               to_numpy(KL.RandomCrop(4, 5)(small, training=True)), rtol=1e-5, atol=1e-5)


def test_random_contrast_scales_each_image_about_its_channel_means():
    x = images((50, 4, 4, 3))
    y = L.RandomContrast((0.3, 0.6), value_range=(-10, 10), seed=4)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    factors = (y - mean) / (x - mean)
    per_image = factors.reshape(50, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1] * np.ones_like(per_image), rtol=1e-3)
    assert per_image.min() >= 0.7 - 1e-4 and per_image.max() <= 1.6 + 1e-4
    clipped = L.RandomContrast(0.9, seed=4)(x * 255, training=True).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 255


def test_augmentations_are_active_inside_fit_and_repeatable_with_set_random_seed():
    x = images((8, 6, 6, 1))
    outputs = []
    for _ in range(2):
        striate.utils.set_random_seed(5)
        layer = L.RandomRotation(0.2)
        outputs.append(layer(x, training=True).numpy())
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.allclose(outputs[0], x)


def test_preprocessing_and_augmentation_configs_rebuild_the_layer():
    for layer in (L.Rescaling(0.5, 0.1), L.Resizing(3, 4, crop_to_aspect_ratio=True), L.CenterCrop(2, 3),
                  L.Normalization(mean=[1.0, 2.0], variance=[3.0, 4.0]), L.RandomFlip("vertical", seed=1),
                  L.RandomRotation(0.1, fill_mode="wrap"), L.RandomTranslation(0.1, (0.0, 0.2)),
                  L.RandomZoom(0.2, (-0.1, 0.1)), L.RandomCrop(3, 3, seed=2), L.RandomContrast((0.2, 0.4))):
        config = layer.get_config()
        twin = type(layer)(**{**config, "name": config["name"] + "_twin"})
        assert {k: v for k, v in twin.get_config().items() if k != "name"} == \
               {k: v for k, v in config.items() if k != "name"}
