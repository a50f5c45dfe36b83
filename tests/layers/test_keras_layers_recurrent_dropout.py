"""RNN dropout and recurrent_dropout with Keras' semantics: masks drawn once per call and fixed across the time
steps, inactive in inference (where the layer equals Keras' with the same weights), and with recurrent_dropout
one input mask and one state mask per gate (an LSTM written out in NumPy with those masks is the oracle)."""

import numpy as np
import pytest
from scipy.special import expit

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L
from striate.core.tensor import Tensor
from striate.layers.noise import RandomSource, dropout_mask

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def sequences(shape=(3, 5, 4), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_dropout_is_inactive_in_inference_and_matches_keras(name):
    options = {"dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True}
    ours, theirs = getattr(L, name)(6, **options), getattr(KL, name)(6, **options)
    x = sequences()
    theirs.build((None, 5, 4))
    ours.ensure_built((None, 5, 4))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), to_numpy(theirs(x, training=False)), rtol=1e-5, atol=1e-5)
    assert not np.allclose(ours(x, training=True).numpy(), ours(x).numpy())


def identity_rnn(**options):
    """A linear SimpleRNN with identity kernels and no bias: h_t = x_t * m + (h_{t-1} * r) for masks m, r."""
    layer = L.SimpleRNN(8, activation=None, use_bias=False, return_sequences=True, **options)
    layer.ensure_built((None, 6, 8))
    layer.set_weights([np.eye(8, dtype=np.float32), np.eye(8, dtype=np.float32)])
    return layer


def test_the_input_mask_is_the_same_at_every_step():
    layer = identity_rnn(dropout=0.5, seed=1)
    layer.set_weights([np.eye(8, dtype=np.float32), np.zeros((8, 8), np.float32)])  # no recurrence: h_t = x_t * m
    x = np.ones((20, 6, 8), np.float32)
    h = layer(x, training=True).numpy()
    np.testing.assert_array_equal(h, np.broadcast_to(h[:, :1], h.shape))
    assert set(np.unique(h)) == {0.0, 2.0}


def test_the_recurrent_mask_is_the_same_at_every_step():
    # x_0 = 1, later x_t = 0: h_t = r^t elementwise, 0 or 2^t, only if one mask r serves all steps
    layer = identity_rnn(recurrent_dropout=0.5, seed=2)
    x = np.zeros((20, 6, 8), np.float32)
    x[:, 0] = 1.0
    h = layer(x, training=True).numpy()
    kept = h[:, 1] > 0
    for t in range(1, 6):
        np.testing.assert_array_equal(h[:, t], np.where(kept, 2.0**t, 0.0))
    assert 0.3 < kept.mean() < 0.7


def reference_lstm(x, kernel, recurrent_kernel, bias, input_masks, state_masks):
    """Keras' LSTMCell (implementation 1) written out: gate g reads x * input_masks[g] and h * state_masks[g]."""
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h, c, outputs = np.zeros((n, units)), np.zeros((n, units)), []
    block = [slice(g * units, (g + 1) * units) for g in range(4)]
    for t in range(steps):
        pre = [(x[:, t] * input_masks[g]) @ kernel[:, block[g]] + bias[block[g]]
               + (h * state_masks[g]) @ recurrent_kernel[:, block[g]] for g in range(4)]
        i, f, o = expit(pre[0]), expit(pre[1]), expit(pre[3])
        c = f * c + i * np.tanh(pre[2])
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def test_lstm_with_both_dropouts_draws_one_mask_per_gate_and_keeps_them_across_steps():
    x = sequences((4, 5, 3))
    layer = L.LSTM(6, dropout=0.3, recurrent_dropout=0.4, seed=7, return_sequences=True)
    layer.ensure_built((None, 5, 3))
    output = layer(x, training=True).numpy()
    rng = RandomSource(7).generator()  # the same draws, in the layer's order: 4 input masks, then 4 state masks
    input_masks = [dropout_mask(rng, (4, 1, 3), 0.3, np.float32).numpy()[:, 0] for _ in range(4)]
    state_masks = [dropout_mask(rng, (4, 6), 0.4, np.float32).numpy() for _ in range(4)]
    kernel, recurrent_kernel, bias = layer.get_weights()
    expected = reference_lstm(x.astype(np.float64), kernel, recurrent_kernel, bias, input_masks, state_masks)
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


def test_gru_trains_with_recurrent_dropout_and_its_gradients_flow():
    layer = L.GRU(5, dropout=0.2, recurrent_dropout=0.2, seed=3)
    x = Tensor(sequences((2, 4, 3)), requires_grad=True)
    layer(x, training=True).sum().backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad))
    assert all(w.grad is not None for w in layer.trainable_weights)


def test_dropout_rates_are_checked_and_kept_in_the_config():
    with pytest.raises(ValueError, match="recurrent_dropout must satisfy"):
        L.LSTM(4, recurrent_dropout=1.0)
    config = L.GRU(4, dropout=0.1, recurrent_dropout=0.2, seed=5).get_config()
    assert (config["dropout"], config["recurrent_dropout"], config["seed"]) == (0.1, 0.2, 5)
    assert L.GRU(**config).get_config() == config
