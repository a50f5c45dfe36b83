"""A frozen BatchNormalization (trainable=False, on the layer or on a model holding it) runs in inference mode
even when called with training=True or inside fit, as Keras 3: it normalizes with the moving statistics and
leaves them unchanged (what fine-tuning a pretrained network relies on). Keras 3 is the oracle."""

import numpy as np
import pytest

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def random_batch_norm_weights(channels, rng):
    """gamma, beta, moving_mean, moving_variance far from their initial values, so each matters."""
    return [rng.uniform(0.5, 2.0, channels).astype(np.float32), rng.normal(0, 1, channels).astype(np.float32),
            rng.normal(0, 1, channels).astype(np.float32), rng.uniform(0.5, 2.0, channels).astype(np.float32)]


@pytest.mark.parametrize("trainable", [True, False])
def test_batch_norm_called_in_training_matches_keras(trainable):
    rng = np.random.default_rng(0)
    x = rng.normal(3, 2, (16, 4, 4, 3)).astype(np.float32)
    weights = random_batch_norm_weights(3, rng)
    theirs = KL.BatchNormalization()
    theirs.build((None, 4, 4, 3))
    theirs.set_weights(weights)
    theirs.trainable = trainable
    ours = L.BatchNormalization(trainable=trainable)
    ours.ensure_built((None, 4, 4, 3))
    ours.set_weights(weights)

    output = ours(x, training=True).numpy()

    np.testing.assert_allclose(output, to_numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-5)
    for mine, keras_value in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_value, rtol=1e-6, atol=1e-6)
    if not trainable:  # inference mode, written out: gamma (x - moving_mean) / sqrt(moving_variance + eps) + beta
        gamma, beta, mean, variance = weights
        np.testing.assert_allclose(output, gamma * (x - mean) / np.sqrt(variance + 1e-3) + beta, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(ours.get_weights()[2:], weights[2:])


def test_fit_with_a_frozen_base_model_matches_keras():
    # fine-tuning: a frozen base (conv + batch norm) under a trainable head, trained two epochs with SGD
    rng = np.random.default_rng(1)
    x = rng.normal(1, 2, (32, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, 32)

    inputs = striate.Input((6, 6, 2))
    base = striate.Model(inputs, L.Activation("relu")(L.BatchNormalization()(L.Conv2D(4, 3)(inputs))))
    model = striate.Sequential([base, L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax")])

    k_inputs = keras.Input((6, 6, 2))
    k_base = keras.Model(k_inputs, KL.Activation("relu")(KL.BatchNormalization()(KL.Conv2D(4, 3)(k_inputs))))
    keras_model = keras.Sequential([keras.Input((6, 6, 2)), k_base, KL.GlobalAveragePooling2D(),
                                    KL.Dense(3, activation="softmax")])
    start = keras_model.get_weights()
    start[2:6] = random_batch_norm_weights(4, rng)
    keras_model.set_weights(start)
    model.set_weights(start)

    base.trainable = False
    k_base.trainable = False
    assert not any(layer.trainable for layer in base.layers)
    assert len(model.trainable_weights) == 2  # the head's kernel and bias

    model.compile(striate.optim.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    keras_model.compile(keras.optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    keras_model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)

    after = keras_model.get_weights()
    for index, array in enumerate(start[:6]):  # the frozen base, its moving statistics included
        np.testing.assert_array_equal(after[index], array)
    for mine, theirs in zip(model.get_weights(), after):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x), to_numpy(keras_model(x, training=False)), rtol=1e-5, atol=1e-6)
