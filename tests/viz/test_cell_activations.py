"""The LSTM cell view: tanh(c_t) of each cell against torch.nn.LSTMCell given the same weights, and the colours
of the HTML spans and PNG boxes against the "bwr" colormap written out as a formula.

torch keeps W transposed, (4H, F), and splits the bias into b_ih + b_hh; the gate order (i, f, c, o) is the
same as striate's (see tests/layers/test_recurrent_vs_torch.py).
"""

import re

import numpy as np
import pytest
import torch
from PIL import Image

import striate
from striate import layers as L
from striate.datasets.shakespeare import Characters
from striate.examples import shakespeare
from striate.viz.text import (
    cell_activations,
    draw_text_activations,
    most_correlated_cells,
    plot_cell_activations,
    text_activations_html,
    text_features,
    wrap_positions,
)

CHARACTERS = Characters("abcdefghij ,.\n")
TEXT = "a bad cafe,\nhid ice. jig bed\nfaced a big chef."


def randomize(model, seed=0):
    """Weights large enough that the cell states spread over (-1, 1)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.data[...] = rng.normal(0, 0.7, weight.shape)


def built(model, seed=0):
    model(np.zeros((1, 2), np.int64))
    randomize(model, seed)
    return model


def torch_lstm_steps(lstm, inputs, mask=None):
    """(h_t, c_t) of every step, (T, H) each, from torch.nn.LSTMCell with the striate layer's weights (float64).

    A step where mask is False leaves both states unchanged (Keras' masking)."""
    kernel, recurrent, bias = (w.astype(np.float64) for w in lstm.get_weights())
    cell = torch.nn.LSTMCell(kernel.shape[0], lstm.units, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(kernel.T))
        cell.weight_hh.copy_(torch.from_numpy(recurrent.T))
        cell.bias_ih.copy_(torch.from_numpy(bias))
        cell.bias_hh.zero_()
        h = c = torch.zeros(1, lstm.units, dtype=torch.float64)
        hs, cs = [], []
        for t, x_t in enumerate(torch.from_numpy(np.asarray(inputs, np.float64))):
            if mask is None or mask[t]:
                h, c = cell(x_t[None], (h, c))
            hs.append(h[0].numpy())
            cs.append(c[0].numpy())
    return np.array(hs), np.array(cs)


def embedded(embedding, text):
    return embedding.get_weights()[0][CHARACTERS.encode(text)]


def bwr(value):
    """matplotlib's "bwr": blue (0, 0, 1) at -1, white at 0, red (1, 0, 0) at +1, linear in between."""
    return np.array([1 + value, 1 + value, 1]) if value <= 0 else np.array([1, 1 - value, 1 - value])


# ---- the values ------------------------------------------------------------------------------------------
def test_sequential_cells_equal_torch_lstm_cell_states():
    model = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5), L.LSTM(6, return_sequences=True),
                                      L.TimeDistributed(L.Dense(len(CHARACTERS)))]))
    _, c = torch_lstm_steps(model.layers[1], embedded(model.layers[0], TEXT))
    values = cell_activations(model, TEXT, cell=None, characters=CHARACTERS)
    assert values.shape == (len(TEXT), 6)
    np.testing.assert_allclose(values, np.tanh(c), atol=2e-6)
    assert values.min() < -0.5 and values.max() > 0.5          # the test weights spread the cells
    np.testing.assert_allclose(cell_activations(model, TEXT, cell=4, characters=CHARACTERS), np.tanh(c[:, 4]),
                               atol=2e-6)


def test_char_lstm_cells_equal_torch_lstm_cell_states():
    model = built(shakespeare.CharLSTM(len(CHARACTERS), embedding_size=5, units=7), seed=1)
    _, c = torch_lstm_steps(model.lstm, embedded(model.embedding, TEXT))
    np.testing.assert_allclose(cell_activations(model, TEXT, cell=None, characters=CHARACTERS), np.tanh(c),
                               atol=2e-6)


def test_a_second_lstm_is_read_after_the_first_runs_over_the_text():
    model = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5),
                                      L.LSTM(4, return_sequences=True, name="lower"),
                                      L.LSTM(6, return_sequences=True, name="upper")]), seed=2)
    lower_h, lower_c = torch_lstm_steps(model.layers[1], embedded(model.layers[0], TEXT))
    _, upper_c = torch_lstm_steps(model.layers[2], lower_h)
    np.testing.assert_allclose(cell_activations(model, TEXT, layer="upper", cell=None, characters=CHARACTERS),
                               np.tanh(upper_c), atol=2e-6)
    np.testing.assert_allclose(cell_activations(model, TEXT, layer=model.layers[1], cell=None, characters=CHARACTERS),
                               np.tanh(lower_c), atol=2e-6)
    np.testing.assert_allclose(cell_activations(model, TEXT, cell=None, characters=CHARACTERS),   # the first
                               np.tanh(lower_c), atol=2e-6)


def test_go_backwards_gives_the_state_after_reading_from_the_end():
    model = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5),
                                      L.LSTM(6, return_sequences=True, go_backwards=True)]), seed=3)
    _, c = torch_lstm_steps(model.layers[1], embedded(model.layers[0], TEXT)[::-1])
    np.testing.assert_allclose(cell_activations(model, TEXT, cell=None, characters=CHARACTERS),
                               np.tanh(c[::-1]), atol=2e-6)


def test_a_masked_character_leaves_the_cell_unchanged():
    text = "bad zz cafe"                                 # z is not in the vocabulary: index 0, masked
    model = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5, mask_zero=True),
                                      L.LSTM(6, return_sequences=True)]), seed=4)
    tokens = CHARACTERS.encode(text)
    _, c = torch_lstm_steps(model.layers[1], embedded(model.layers[0], text), mask=tokens != 0)
    values = cell_activations(model, text, cell=None, characters=CHARACTERS)
    np.testing.assert_allclose(values, np.tanh(c), atol=2e-6)
    assert np.array_equal(values[4], values[3]) and np.array_equal(values[5], values[3])


def test_bad_arguments_are_refused_naming_what_was_received():
    model = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5), L.LSTM(6, return_sequences=True)]))
    with pytest.raises(ValueError, match=r"cell must be an index in \[0, 6\) .* received 6"):
        cell_activations(model, TEXT, cell=6, characters=CHARACTERS)
    with pytest.raises(ValueError, match="needs characters="):
        cell_activations(model, TEXT)
    with pytest.raises(ValueError, match=r"layer must be one of the model's LSTM layers .* received 'nope'"):
        cell_activations(model, TEXT, layer="nope", characters=CHARACTERS)
    no_lstm = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5), L.GRU(6, return_sequences=True)]))
    with pytest.raises(ValueError, match="the model has no LSTM layer"):
        cell_activations(no_lstm, TEXT, characters=CHARACTERS)
    inputs = striate.Input((3,))
    functional = striate.Model(inputs, L.LSTM(6)(L.Embedding(len(CHARACTERS), 5)(inputs)))
    with pytest.raises(ValueError, match="a functional or subclassed Model"):
        cell_activations(functional, TEXT, characters=CHARACTERS)
    with pytest.raises(ValueError, match="draws one cell; received cell=None"):
        plot_cell_activations(model, TEXT, cell=None, characters=CHARACTERS)


# ---- finding a cell --------------------------------------------------------------------------------------
def test_text_features_of_a_worked_example():
    features = text_features('a [B(c)] "d"\nEf')
    assert features["inside_brackets"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert features["inside_quotes"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert features["line_position"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1]
    assert features["uppercase"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert text_features("a)b(c")["inside_brackets"].tolist() == [0, 0, 0, 1, 1]   # a stray ")" is ignored


def test_most_correlated_cells_pick_the_largest_pearson_r_over_segments():
    vocabulary = Characters("abcdefgABCDEFG [](),.\n")
    text = "Abc [def] Gab.\ncab (DEF) bad,\n" * 4                     # 120 characters: 3 segments of 40
    model = built(striate.Sequential([L.Embedding(len(vocabulary), 5), L.LSTM(8, return_sequences=True)]), seed=5)
    table = model.layers[0].get_weights()[0]
    segments = [torch_lstm_steps(model.layers[1], table[vocabulary.encode(text[s : s + 40])])[1]
                for s in (0, 40, 80)]
    activations = np.tanh(np.concatenate(segments))                 # (120, 8)
    found = most_correlated_cells(model, text + "ab", characters=vocabulary, segment=40)   # the rest is left out
    assert sorted(found) == ["inside_brackets", "line_position", "uppercase"]   # no quotes: no correlation
    for name, (cell, r) in found.items():
        feature = text_features(text)[name]
        rs = np.array([np.corrcoef(feature, activations[:, k])[0, 1] for k in range(8)])
        assert cell == np.argmax(np.abs(rs))
        assert r == pytest.approx(rs[cell], abs=1e-5)


# ---- the pictures ----------------------------------------------------------------------------------------
SPAN = re.compile(r'<span style="background:#([0-9a-f]{6});color:(\w+)" title="([^"]+)">(.*?)</span>')


def spans(page):
    """[(rgb in [0, 1], ink, title, shown text)] of each character's span."""
    return [(np.array([int(hex_[i : i + 2], 16) for i in (0, 2, 4)]) / 255, ink, title, shown)
            for hex_, ink, title, shown in SPAN.findall(page)]


def test_html_spans_are_red_at_plus_one_blue_at_minus_one_and_escaped():
    page = text_activations_html("a<\nb ", [-1.0, -0.5, 0.0, 0.5, 1.0])
    found = spans(page)
    assert [shown for *_, shown in found] == ["a", "&lt;", "\u21b5", "b", " "]
    assert [title for _, _, title, _ in found] == ["-1.000", "-0.500", "+0.000", "+0.500", "+1.000"]
    assert np.array_equal(found[0][0], [0, 0, 1]) and np.array_equal(found[-1][0], [1, 0, 0])
    for (rgb, *_), value in zip(found, [-1.0, -0.5, 0.0, 0.5, 1.0]):
        np.testing.assert_allclose(rgb, bwr(value), atol=3 / 255)
    assert [ink for _, ink, _, _ in found] == ["white", "black", "black", "black", "white"]
    assert "\u21b5</span>\n" in page                                   # the line breaks after a newline


def test_plot_cell_activations_html_colours_follow_the_cell(tmp_path):
    model = built(shakespeare.CharLSTM(len(CHARACTERS), embedding_size=5, units=7), seed=6)
    _, c = torch_lstm_steps(model.lstm, embedded(model.embedding, TEXT))
    page = plot_cell_activations(model, TEXT, cell=2, characters=CHARACTERS, path=tmp_path / "cell.html")
    assert (tmp_path / "cell.html").read_text(encoding="utf-8") == page
    found = spans(page)
    assert len(found) == len(TEXT)
    for (rgb, *_), value in zip(found, np.tanh(c[:, 2])):
        np.testing.assert_allclose(rgb, bwr(value), atol=3 / 255)


def test_wrap_positions_break_at_the_width_and_after_each_newline():
    assert [r.tolist() for r in wrap_positions("abcdef", width=4)] == [[0, 0, 0, 0, 1, 1], [0, 1, 2, 3, 0, 1]]
    assert [r.tolist() for r in wrap_positions("ab\ncd", width=4)] == [[0, 0, 0, 1, 1], [0, 1, 2, 0, 1]]


def test_png_boxes_and_letters_sit_where_the_text_wraps():
    values = [-1.0, -0.25, 0.0, 0.5, 1.0]
    fig = draw_text_activations("ab\nc ", values, width=6)
    ax = fig.axes[0]
    boxes = np.asarray(ax.images[0].get_array())
    assert boxes.shape == (2, 6, 4)
    for (row, column), value in zip([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)], values):
        np.testing.assert_allclose(boxes[row, column, :3], bwr(value), atol=3 / 255)
        assert boxes[row, column, 3] == 1
    assert boxes[0, 3:, 3].tolist() == [0, 0, 0] and boxes[1, 2:, 3].tolist() == [0, 0, 0, 0]
    letters = {text.get_position(): text.get_text() for text in ax.texts}
    assert letters == {(0, 0): "a", (1, 0): "b", (2, 0): "\u21b5", (0, 1): "c"}   # (column, row); no glyph for " "


def test_png_boxes_follow_the_cell(tmp_path):
    model = built(striate.Sequential([L.Embedding(len(CHARACTERS), 5), L.LSTM(6, return_sequences=True)]), seed=7)
    _, c = torch_lstm_steps(model.layers[1], embedded(model.layers[0], TEXT))
    fig = plot_cell_activations(model, TEXT, cell=3, characters=CHARACTERS, path=tmp_path / "cell.png", width=20)
    boxes = np.asarray(fig.axes[0].images[0].get_array())
    rows, columns = wrap_positions(TEXT, 20)
    for row, column, value in zip(rows, columns, np.tanh(c[:, 3])):
        np.testing.assert_allclose(boxes[row, column, :3], bwr(value), atol=3 / 255)
    width, height = fig.get_size_inches() * 100
    assert Image.open(tmp_path / "cell.png").size == (round(width), round(height))
    assert "cell 3" in fig.axes[0].get_title()


# ---- the Shakespeare example's weights -------------------------------------------------------------------
def test_the_shakespeare_examples_saved_weights_load_back(tmp_path):
    characters = Characters(shakespeare.load_texts(quick=True)[0])
    model = built(shakespeare.CharLSTM(len(characters), units=8), seed=8)
    striate.models.saving.save_weights(model, tmp_path / "char_lstm.safetensors")
    loaded, loaded_characters = shakespeare.load_trained(tmp_path / "char_lstm.safetensors", units=8, quick=True)
    assert loaded_characters.characters == characters.characters
    for original, copy in zip(model.weights, loaded.weights):
        assert np.array_equal(original.numpy(), copy.numpy())
