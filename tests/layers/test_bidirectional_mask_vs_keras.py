"""Bidirectional with a mask and return_sequences gives zeros at the masked steps, in both directions, as
Keras 3 (which forces zero_output_for_mask=True on both recurrent layers); the final states are unchanged.
The masks come from Embedding(mask_zero=True) and from Masking. Keras 3 is the oracle."""

import numpy as np
import pytest

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS

TOKENS = np.array([[0, 0, 3, 5, 2, 7],    # padded before ("pre", pad_sequences' default)
                   [4, 1, 6, 0, 0, 0],    # padded after
                   [2, 2, 2, 2, 2, 2]])   # no padding


def randomized(keras_model, seed):
    rng = np.random.default_rng(seed)
    keras_model.set_weights([(0.5 * rng.standard_normal(tuple(v.shape))).astype(np.float32)
                             for v in keras_model.weights])
    return keras_model.get_weights()


@pytest.mark.parametrize("recurrent", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_embedding_mask_zeroes_masked_steps_like_keras(recurrent, merge_mode):
    inputs = striate.Input((6,))
    embedded = L.Embedding(8, 4, mask_zero=True)(inputs)
    model = striate.Model(inputs, L.Bidirectional(getattr(L, recurrent)(3, return_sequences=True),
                                                  merge_mode=merge_mode)(embedded))
    k_inputs = keras.Input((6,), dtype="int32")
    k_embedded = KL.Embedding(8, 4, mask_zero=True)(k_inputs)
    keras_model = keras.Model(k_inputs, KL.Bidirectional(getattr(KL, recurrent)(3, return_sequences=True),
                                                          merge_mode=merge_mode)(k_embedded))
    model.set_weights(randomized(keras_model, seed=0))

    output = model.predict(TOKENS)

    np.testing.assert_allclose(output, to_numpy(keras_model(TOKENS)), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(output[TOKENS == 0], 0.0)
    assert np.all(np.abs(output[TOKENS != 0]).sum(axis=-1) > 0)


def test_masking_layer_with_return_state_matches_keras():
    # float inputs, padded steps all zeros; the states reach the last real step in each direction
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 2)).astype(np.float32)
    x[0, :2] = 0.0
    x[1, 3:] = 0.0
    layer = L.Bidirectional(L.LSTM(3, return_sequences=True, return_state=True))
    k_layer = KL.Bidirectional(KL.LSTM(3, return_sequences=True, return_state=True))
    k_inputs = keras.Input((5, 2))
    keras_model = keras.Model(k_inputs, k_layer(KL.Masking()(k_inputs)))
    layer.ensure_built((None, 5, 2))
    layer.set_weights(randomized(keras_model, seed=2))

    ours = [t.numpy() for t in layer(L.Masking()(x))]
    theirs = to_numpy(keras_model(x))

    assert len(ours) == len(theirs) == 5  # output, forward h and c, backward h and c
    for mine, keras_value in zip(ours, theirs):
        np.testing.assert_allclose(mine, keras_value, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours[0][0, :2], 0.0)
    np.testing.assert_array_equal(ours[0][1, 3:], 0.0)
