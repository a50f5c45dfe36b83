"""Sequence layers: shape table, parameter counts, Keras weight layouts, wrappers, pad_sequences, bad input."""

import numpy as np
import pytest

import striate
from oracle import check_finite_differences
from striate import layers as L

CASES = [
    # (layer, input shape without batch, expected output shape without batch, expected parameter count)
    (lambda: L.SimpleRNN(6), (7, 4), (6,), 4 * 6 + 6 * 6 + 6),
    (lambda: L.SimpleRNN(6, return_sequences=True), (7, 4), (7, 6), 4 * 6 + 6 * 6 + 6),
    (lambda: L.LSTM(5), (7, 4), (5,), 4 * (4 * 5 + 5 * 5 + 5)),
    (lambda: L.LSTM(5, return_sequences=True, go_backwards=True), (7, 4), (7, 5), 4 * (4 * 5 + 5 * 5 + 5)),
    (lambda: L.GRU(5), (7, 4), (5,), 3 * (4 * 5 + 5 * 5 + 2 * 5)),
    (lambda: L.GRU(5, reset_after=False), (7, 4), (5,), 3 * (4 * 5 + 5 * 5 + 5)),
    (lambda: L.Bidirectional(L.LSTM(5)), (7, 4), (10,), 8 * (4 * 5 + 5 * 5 + 5)),
    (lambda: L.Bidirectional(L.GRU(5, return_sequences=True), merge_mode="sum"), (7, 4), (7, 5),
     6 * (4 * 5 + 5 * 5 + 2 * 5)),
    (lambda: L.TimeDistributed(L.Dense(3)), (7, 4), (7, 3), 4 * 3 + 3),
    (lambda: L.TimeDistributed(L.Conv2D(2, 3)), (5, 6, 6, 1), (5, 4, 4, 2), 9 * 2 + 2),
    (lambda: L.Embedding(20, 8), (9,), (9, 8), 20 * 8),
    (lambda: L.Masking(), (9, 3), (9, 3), 0),
]


@pytest.mark.parametrize(("make_layer", "input_shape", "output_shape", "params"), CASES)
def test_output_shape_arithmetic_matches_a_forward_pass(make_layer, input_shape, output_shape, params):
    striate.set_random_seed(0)
    layer = make_layer()
    if isinstance(layer, L.Embedding):
        x = np.arange(2 * input_shape[0]).reshape(2, *input_shape) % 20
    else:
        x = np.random.default_rng(0).normal(size=(2, *input_shape))
    y = layer(x)
    assert y.shape == (2, *output_shape)
    assert layer.compute_output_shape((None, *input_shape)) == (None, *output_shape)
    assert layer.count_params() == params


def test_weights_come_in_keras_order_and_shapes():
    lstm = L.LSTM(5)
    lstm(np.zeros((1, 3, 4)))
    assert [w.shape for w in lstm.get_weights()] == [(4, 20), (5, 20), (20,)]
    np.testing.assert_array_equal(lstm.get_weights()[2], np.repeat([0.0, 1.0, 0.0, 0.0], 5))  # unit_forget_bias
    recurrent = lstm.get_weights()[1]
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-5)  # orthogonal start
    gru = L.GRU(5)
    gru(np.zeros((1, 3, 4)))
    assert [w.shape for w in gru.get_weights()] == [(4, 15), (5, 15), (2, 15)]
    both = L.Bidirectional(L.SimpleRNN(2))
    both(np.zeros((1, 3, 4)))
    assert [w.shape for w in both.get_weights()] == [(4, 2), (2, 2), (2,)] * 2


def test_return_state_gives_output_and_states():
    output, h, c = L.LSTM(3, return_state=True)(np.ones((2, 4, 5)))
    assert output.shape == h.shape == c.shape == (2, 3)
    np.testing.assert_array_equal(output.numpy(), h.numpy())


def test_fused_and_autodiff_agree_in_float32_training_shapes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 3)).astype(np.float32)
    for kind in (L.SimpleRNN, L.LSTM, L.GRU):
        fused = kind(4, return_sequences=True, implementation="fused")
        reference = kind(4, return_sequences=True, implementation="autodiff")
        fused.ensure_built((None, 6, 3))
        reference.ensure_built((None, 6, 3))
        reference.set_weights(fused.get_weights())
        np.testing.assert_allclose(fused(x).numpy(), reference(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make_layer", [
    lambda: L.GRU(3, reset_after=False, return_sequences=True, dtype="float64"),
    lambda: L.SimpleRNN(3, activation="relu", return_sequences=True, dtype="float64"),
    lambda: L.LSTM(3, activation="relu", return_sequences=True, dtype="float64"),
], ids=["gru_reset_before", "simple_rnn_relu", "lstm_relu"])
def test_autodiff_only_variants_match_finite_differences(make_layer):
    rng = np.random.default_rng(0)
    layer = make_layer()
    layer.ensure_built((None, 4, 2))
    mask = np.array([[True, True, False, False], [True, True, True, True]])

    def run(x, kernel, recurrent, bias):
        layer.kernel, layer.recurrent_kernel, layer.bias = kernel, recurrent, bias
        return layer(x, mask=mask)

    check_finite_differences(run, [rng.normal(size=(2, 4, 2)), *(w * 3 for w in layer.get_weights())])


def test_a_padded_step_repeats_the_last_output_unless_zero_output_for_mask():
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    for implementation in ("fused", "autodiff"):
        carried = L.GRU(2, return_sequences=True, implementation=implementation)
        output = carried(x, mask=mask).numpy()
        np.testing.assert_array_equal(output[0, 2], output[0, 1])
        np.testing.assert_array_equal(output[0, 3], output[0, 1])
        zeroed = L.GRU(2, return_sequences=True, zero_output_for_mask=True, implementation=implementation)
        zeroed.ensure_built((None, 4, 3))
        zeroed.set_weights(carried.get_weights())
        np.testing.assert_array_equal(zeroed(x, mask=mask).numpy()[0, 2:], 0)


def test_time_distributed_applies_one_layer_to_every_step():
    dense = L.Dense(3)
    wrapped = L.TimeDistributed(dense)
    x = np.random.default_rng(0).normal(size=(2, 4, 5)).astype(np.float32)
    y = wrapped(x).numpy()
    for t in range(4):
        np.testing.assert_allclose(y[:, t], dense(x[:, t]).numpy(), rtol=1e-6)


def test_masking_layer_marks_all_zero_steps():
    x = np.ones((2, 3, 2))
    x[0, 2] = 0
    out = L.Masking()(x)
    np.testing.assert_array_equal(out._keras_mask, [[True, True, False], [True, True, True]])


def test_pad_sequences_pads_and_truncates_like_keras():
    sequences = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
    np.testing.assert_array_equal(L.pad_sequences(sequences, maxlen=4),
                                  [[0, 1, 2, 3], [0, 0, 0, 4], [6, 7, 8, 9]])
    np.testing.assert_array_equal(L.pad_sequences(sequences, maxlen=4, padding="post", truncating="post"),
                                  [[1, 2, 3, 0], [4, 0, 0, 0], [5, 6, 7, 8]])


def test_a_sequence_model_overfits_a_tiny_batch():
    striate.set_random_seed(0)
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 10, size=(16, 6))
    labels = (tokens[:, 0] > 5).astype(np.int64)  # the answer is at the first step: needs memory
    model = striate.Sequential([L.Embedding(10, 8, mask_zero=True), L.GRU(8), L.Dense(2, activation="softmax")])
    model.compile(striate.optim.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(tokens, labels, batch_size=16, epochs=60, verbose=0)
    assert model.evaluate(tokens, labels, return_dict=True)["accuracy"] == 1.0


# ---- bad input: each a clear error naming what was received --------------------------------------------------
def test_ragged_sequences_without_padding_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"different lengths \[5, 7\].*pad_sequences.*mask"):
        L.LSTM(3)([np.zeros((5, 2)), np.zeros((7, 2))])


def test_an_empty_sequence_is_refused():
    with pytest.raises(ValueError, match=r"empty sequence \(0 time steps, input shape \(2, 0, 3\)\)"):
        L.GRU(3)(np.zeros((2, 0, 3)))


def test_an_out_of_range_token_is_refused():
    with pytest.raises(IndexError, match=r"token index 12 is out of range for input_dim=10 \(valid indices 0..9\)"):
        L.Embedding(10, 4)(np.array([[1, 12, 3]]))
    with pytest.raises(IndexError, match="token index -1"):
        L.Embedding(10, 4)(np.array([[1, -1]]))


def test_non_integer_tokens_and_bad_masks_are_refused():
    with pytest.raises(ValueError, match="whole numbers; received e.g. 1.5"):
        L.Embedding(10, 4)(np.array([[1.5, 2.0]]))
    with pytest.raises(ValueError, match=r"mask must have shape .* \(2, 4\); received \(2, 3\)"):
        L.SimpleRNN(3)(np.zeros((2, 4, 1)), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"expects \(batch, time steps, features\); received shape \(2, 4\)"):
        L.LSTM(3)(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"initial_state needs 2 state\(s\)"):
        L.LSTM(3)(np.zeros((2, 4, 1)), initial_state=[np.zeros((2, 3))])
