"""SimpleRNN, LSTM, GRU and Bidirectional against torch.nn.RNN / LSTM / GRU given the same weights, in float64.

Outputs, final states and the gradients of the input, every weight and the initial states must match, for
both implementations ("fused" and "autodiff"), with and without a mask of padded steps. On the torch side a
mask is a packed sequence (right padding); with zero_output_for_mask=True striate's padded outputs are 0, as
pad_packed_sequence gives.

Layouts (converted here): torch keeps W transposed, (G*H, F), and splits the bias into b_ih + b_hh. The LSTM
gate order (i, f, c, o) is the same in both; the GRU's blocks are (z, r, h) in Keras and (r, z, n) in torch.
"""

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import striate
from oracle import assert_close
from striate import layers as L

N, T, F, H = 3, 5, 4, 3
LENGTHS = np.array([5, 2, 4])
KINDS = {"SimpleRNN": (L.SimpleRNN, torch.nn.RNN, 1), "LSTM": (L.LSTM, torch.nn.LSTM, 4),
         "GRU": (L.GRU, torch.nn.GRU, 3)}


def keras_to_torch_blocks(kind, array):
    """Reorder the gate blocks on the last axis from Keras' order to torch's (only the GRU differs)."""
    if kind != "GRU":
        return array
    z, r, h = np.split(array, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


def torch_to_keras_blocks(kind, array):
    if kind != "GRU":
        return array
    r, z, h = np.split(array, 3, axis=-1)
    return np.concatenate([z, r, h], axis=-1)


def random_weights(kind, rng):
    gates = KINDS[kind][2]
    kernel = rng.normal(0, 0.5, (F, gates * H))
    recurrent = rng.normal(0, 0.5, (H, gates * H))
    bias = rng.normal(0, 0.5, (2, gates * H) if kind == "GRU" else (gates * H,))
    return [kernel, recurrent, bias]


def load_torch_direction(module, kind, weights, suffix=""):
    """Copy Keras-layout weights into one direction of a torch module."""
    kernel, recurrent, bias = weights
    input_bias, recurrent_bias = (bias[0], bias[1]) if kind == "GRU" else (bias, np.zeros_like(bias))
    values = {"weight_ih_l0": kernel, "weight_hh_l0": recurrent, "bias_ih_l0": input_bias,
              "bias_hh_l0": recurrent_bias}
    with torch.no_grad():
        for name, value in values.items():
            reordered = keras_to_torch_blocks(kind, value)
            getattr(module, name + suffix).copy_(torch.from_numpy(reordered.T if reordered.ndim == 2 else reordered))


def torch_direction_grads(module, kind, suffix=""):
    """Gradients of one direction of a torch module, in Keras' layout [kernel, recurrent_kernel, bias]."""
    def grad(name):
        return getattr(module, name + suffix).grad.numpy()

    kernel = torch_to_keras_blocks(kind, grad("weight_ih_l0").T)
    recurrent = torch_to_keras_blocks(kind, grad("weight_hh_l0").T)
    input_bias = torch_to_keras_blocks(kind, grad("bias_ih_l0"))
    recurrent_bias = torch_to_keras_blocks(kind, grad("bias_hh_l0"))
    bias = np.stack([input_bias, recurrent_bias]) if kind == "GRU" else input_bias
    if kind != "GRU":
        assert_close(input_bias, recurrent_bias, np.float64, "torch's two bias gradients agree")
    return [kernel, recurrent, bias]


def right_padding_mask():
    return np.arange(T)[None, :] < LENGTHS[:, None]


def run_torch(module, x, states, masked, bidirectional=False):
    """torch output (N, T, D*H) and final states, each (N, D*H)-like list matching Keras' return_state."""
    if masked:
        packed = pack_padded_sequence(x, torch.from_numpy(LENGTHS), batch_first=True, enforce_sorted=False)
        output, final = module(packed, states)
        output = pad_packed_sequence(output, batch_first=True, total_length=T)[0]
    else:
        output, final = module(x, states)
    final = list(final) if isinstance(final, tuple) else [final]
    directions = 2 if bidirectional else 1
    # Keras: [h, c] of the forward layer, then of the backward layer
    per_direction = [[state[d] for state in final] for d in range(directions)]
    return output, [s for states_of_direction in per_direction for s in states_of_direction]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("implementation", ["fused", "autodiff"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_layer_matches_torch_outputs_states_and_all_gradients(kind, implementation, masked):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, T, F))
    weights = random_weights(kind, rng)
    state_count = 2 if kind == "LSTM" else 1
    initial = [rng.normal(0, 0.5, (N, H)) for _ in range(state_count)]
    mask = right_padding_mask() if masked else None

    layer = KINDS[kind][0](H, return_sequences=True, return_state=True, implementation=implementation,
                           zero_output_for_mask=True, dtype="float64")
    layer.build((None, T, F))
    layer.built = True
    layer.set_weights(weights)
    x_s = striate.Tensor(x, requires_grad=True)
    initial_s = [striate.Tensor(s, requires_grad=True) for s in initial]
    output, *states = layer(x_s, mask=mask, initial_state=initial_s)

    module = KINDS[kind][1](F, H, batch_first=True).double()
    load_torch_direction(module, kind, weights)
    x_t = torch.tensor(x, requires_grad=True)
    initial_t = [torch.tensor(s[None], requires_grad=True) for s in initial]
    output_t, states_t = run_torch(module, x_t, tuple(initial_t) if kind == "LSTM" else initial_t[0], masked)

    assert_close(output, output_t, np.float64, "output sequence")
    for index, (mine, theirs) in enumerate(zip(states, states_t, strict=True)):
        assert_close(mine, theirs, np.float64, f"final state {index}")

    upstream = [rng.normal(size=output.shape), *[rng.normal(size=s.shape) for s in states]]
    loss = sum((o * u).sum() for o, u in zip([output, *states], upstream, strict=True))
    loss.backward()
    loss_t = sum((o * torch.from_numpy(u)).sum() for o, u in zip([output_t, *states_t], upstream, strict=True))
    loss_t.backward()

    assert_close(x_s.grad, x_t.grad, np.float64, "gradient of the input")
    for name, mine, theirs in zip(["kernel", "recurrent_kernel", "bias"], layer.weights,
                                  torch_direction_grads(module, kind), strict=True):
        assert_close(mine.grad, theirs, np.float64, f"gradient of {name}")
    for index, (mine, theirs) in enumerate(zip(initial_s, initial_t, strict=True)):
        assert_close(mine.grad, theirs.grad[0], np.float64, f"gradient of initial state {index}")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_bidirectional_matches_torch_bidirectional(kind, masked):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, T, F))
    forward_weights, backward_weights = random_weights(kind, rng), random_weights(kind, rng)
    layer = L.Bidirectional(KINDS[kind][0](H, return_sequences=True, return_state=True, zero_output_for_mask=True,
                                           dtype="float64"))
    layer.ensure_built((None, T, F))
    layer.set_weights(forward_weights + backward_weights)
    x_s = striate.Tensor(x, requires_grad=True)
    output, *states = layer(x_s, mask=right_padding_mask() if masked else None)

    module = KINDS[kind][1](F, H, batch_first=True, bidirectional=True).double()
    load_torch_direction(module, kind, forward_weights)
    load_torch_direction(module, kind, backward_weights, suffix="_reverse")
    x_t = torch.tensor(x, requires_grad=True)
    output_t, states_t = run_torch(module, x_t, None, masked, bidirectional=True)

    assert output.shape == (N, T, 2 * H)
    assert_close(output, output_t, np.float64, "merged output sequence")
    for index, (mine, theirs) in enumerate(zip(states, states_t, strict=True)):
        assert_close(mine, theirs, np.float64, f"final state {index}")

    upstream = rng.normal(size=output.shape)
    (output * upstream).sum().backward()
    (output_t * torch.from_numpy(upstream)).sum().backward()
    assert_close(x_s.grad, x_t.grad, np.float64, "gradient of the input")
    expected = torch_direction_grads(module, kind) + torch_direction_grads(module, kind, "_reverse")
    for index, (mine, theirs) in enumerate(zip(layer.weights, expected, strict=True)):
        assert_close(mine.grad, theirs, np.float64, f"gradient of weight {index}")


@pytest.mark.parametrize("kind", list(KINDS))
def test_go_backwards_equals_torch_on_the_reversed_sequence(kind):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, T, F))
    weights = random_weights(kind, rng)
    layer = KINDS[kind][0](H, return_sequences=True, go_backwards=True, dtype="float64")
    layer.ensure_built((None, T, F))
    layer.set_weights(weights)
    module = KINDS[kind][1](F, H, batch_first=True).double()
    load_torch_direction(module, kind, weights)
    expected = module(torch.from_numpy(x[:, ::-1].copy()))[0]
    assert_close(layer(x), expected, np.float64, "go_backwards output, in reversed order as Keras")


def test_embedding_gradient_accumulates_repeated_tokens_like_torch():
    rng = np.random.default_rng(3)
    table = rng.normal(size=(7, 4))
    tokens = np.array([[1, 2, 2, 0], [6, 1, 0, 0]])
    layer = L.Embedding(7, 4, mask_zero=True, dtype="float64")
    layer.ensure_built((None, 4))
    layer.set_weights([table])
    output = layer(tokens)
    np.testing.assert_array_equal(output._keras_mask, tokens != 0)
    upstream = rng.normal(size=output.shape)
    (output * upstream).sum().backward()
    table_t = torch.tensor(table, requires_grad=True)
    output_t = torch.nn.functional.embedding(torch.from_numpy(tokens), table_t)
    (output_t * torch.from_numpy(upstream)).sum().backward()
    assert_close(output, output_t, np.float64, "embedding output")
    assert_close(layer.embeddings.grad, table_t.grad, np.float64, "embedding gradient")


def test_embedding_mask_reaches_the_lstm_inside_a_sequential_model():
    striate.set_random_seed(0)
    tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]])
    model = striate.Sequential([L.Embedding(8, 4, mask_zero=True), L.LSTM(5)])
    padded_more = np.concatenate([tokens, np.zeros((2, 3), np.int64)], axis=1)
    np.testing.assert_allclose(model(tokens).numpy(), model(padded_more).numpy(), atol=1e-6)
