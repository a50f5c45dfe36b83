"""What one LSTM cell does while reading a text, shown as coloured characters.

Karpathy, Johnson & Fei-Fei (2015), "Visualizing and Understanding Recurrent Networks", colour each character
by the value of one LSTM cell after the network has read it, tanh(c_t) in [-1, 1]. Some cells of a
character-level language model turn out to track something a person can name: inside quotes or brackets,
the position in the line, the depth of nesting.

    values = cell_activations(model, text, cell=17, characters=vocabulary)          # (T,) in [-1, 1]
    plot_cell_activations(model, text, cell=17, characters=vocabulary, path="cell17.png")   # or .html
    most_correlated_cells(model, validation_text, characters=vocabulary)   # {"uppercase": (cell, r), ...}

A model is a `striate.Sequential` ([Embedding, LSTM(return_sequences=True), ...]) or any object whose
`layers` list holds its layers in the order they are applied (the Shakespeare example's CharLSTM:
embedding, lstm, output). The layers before the LSTM run on the whole text; the LSTM is then stepped one
character at a time, with its own weights, its state carried by `initial_state` and read by `return_state`.
"""

import html
import os
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from numpy.typing import NDArray

from striate.core.files import atomic_write
from striate.core.runtime import no_grad
from striate.core.tensor import Tensor
from striate.core.types import Path
from striate.layers.embedding import mask_of
from striate.layers.recurrent import LSTM
from striate.models.model import Model
from striate.models.sequential import Sequential
from striate.viz import figure

CMAP = "bwr"            # -1 blue, 0 white, +1 red
NEWLINE_GLYPH = "\u21b5"  # the newline is drawn as a box holding this arrow, then the line breaks


# ---- computing the activations ----------------------------------------------------------------------------
def cell_activations(model: Any, text: str, layer: LSTM | str | None = None, cell: int | None = 0,
                     characters: Any = None) -> NDArray[np.floating[Any]]:
    """tanh(c_t) of LSTM cell `cell` after reading each character of `text`; cell=None gives every cell.

        c_t = f_t * c_{t-1} + i_t * g_t          (the LSTM's cell state, striate.layers.LSTM)
        a_t = tanh(c_t)                          in [-1, 1]

    Args:
        model: a Sequential or an object with `layers` in the order they are applied (module docstring).
        text: a string, turned into indices by `characters.encode(text)`.
        layer: the LSTM layer or its name; default the model's first LSTM.
        cell: the unit index in [0, units), or None.
        characters: the vocabulary the model was trained with (e.g. `shakespeare.Characters(train_text)`):
            anything with `encode(text) -> int array`.

    Shape: (T,) for one cell, (T, units) for cell=None; T = len(text).
    """
    tokens = _encode("cell_activations", text, characters)
    states = cell_states(model, tokens[None], layer)[0]
    if cell is None:
        return np.tanh(states)
    units = states.shape[-1]
    if not isinstance(cell, int | np.integer) or not 0 <= cell < units:
        raise ValueError(f"cell_activations: cell must be an index in [0, {units}) of the LSTM's units, or None; "
                         f"received {cell!r}")
    return np.tanh(states[:, cell])


def cell_states(model, tokens, layer=None):
    """The LSTM's cell state c_t after each step, for a batch of token sequences (N, T) -> (N, T, units).

    The layers before the LSTM run on the whole batch; the LSTM is stepped one position at a time (last to
    first for go_backwards=True, so position t holds the state after reading positions T-1 .. t). A mask from
    Embedding(mask_zero=True) leaves the state unchanged at padded positions, as in the model.
    """
    lstm, before = _split_at_lstm("cell_states", model, layer)
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[1] == 0 or tokens.dtype.kind not in "iu":
        raise ValueError(f"cell_states: tokens must be integer indices (N, T) with T >= 1; received "
                         f"{tokens.dtype} array of shape {tokens.shape}")
    probe = LSTM(**{**lstm.get_config(), "return_sequences": False, "return_state": True, "go_backwards": False})
    with no_grad():
        x = tokens
        for previous in before:
            x = previous(x, training=False)
        if not (isinstance(x, Tensor) and x.ndim == 3):
            raise ValueError(f"cell_states: the layers before {lstm.name} must give (N, T, features); received "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        mask, features = mask_of(x), x.numpy()
        probe.ensure_built((None, 1, features.shape[-1]))
        probe.set_weights(lstm.get_weights())
        n, steps = features.shape[:2]
        state = [np.zeros((n, lstm.units), lstm.dtype), np.zeros((n, lstm.units), lstm.dtype)]
        cells = np.empty((n, steps, lstm.units), lstm.dtype)
        order = range(steps - 1, -1, -1) if lstm.go_backwards else range(steps)
        for t in order:
            step_mask = None if mask is None else mask[:, t : t + 1]
            _, h, c = probe(features[:, t : t + 1], mask=step_mask, initial_state=state)
            state = [h.numpy(), c.numpy()]
            cells[:, t] = state[1]
    return cells


def _split_at_lstm(name, model, layer):
    """(the LSTM, the layers applied before it)."""
    if isinstance(model, Model) and not isinstance(model, Sequential):
        raise ValueError(f"{name}: a functional or subclassed Model's layers need not run one after another; pass "
                         f"a Sequential, or an object whose `layers` are in the order they are applied; "
                         f"received {type(model).__name__} {getattr(model, 'name', '')!r}")
    layers = list(getattr(model, "layers", None) or [])
    if not layers:
        raise ValueError(f"{name}: the model must list its layers in order (`model.layers`); "
                         f"received {type(model).__name__}")
    lstms = [candidate for candidate in layers if isinstance(candidate, LSTM)]
    if not lstms:
        raise ValueError(f"{name}: the model has no LSTM layer; received layers {[c.name for c in layers]}")
    if layer is None:
        chosen = lstms[0]
    else:
        matches = [c for c in lstms if c is layer or c.name == layer]
        if not matches:
            raise ValueError(f"{name}: layer must be one of the model's LSTM layers or its name "
                             f"{[c.name for c in lstms]}; received {layer!r}")
        chosen = matches[0]
    index = next(i for i, c in enumerate(layers) if c is chosen)
    return chosen, layers[:index]


def _encode(name, text, characters):
    if not isinstance(text, str) or not text:
        raise ValueError(f"{name}: text must be a non-empty string; received {type(text).__name__} {text!r:.60}")
    if characters is None or not hasattr(characters, "encode"):
        raise ValueError(f"{name}: needs characters=, the vocabulary the model was trained with (e.g. "
                         f"striate.datasets.shakespeare.Characters(train_text)); received {characters!r:.60}")
    return np.asarray(characters.encode(text))


# ---- finding a cell that tracks something -----------------------------------------------------------------
def text_features(text):
    """Simple per-character features of `text`, each (T,) float64, to compare cells with.

        inside_quotes     1 from an opening " to its closing one (both included), else 0
        inside_brackets   1 inside [...] or (...) (the brackets included), else 0
        line_position     the column of the character in its line, 0 for the first
        uppercase         1 for an uppercase letter, else 0
    """
    brackets, columns = np.zeros(len(text)), np.zeros(len(text))
    depth = column = 0
    for index, character in enumerate(text):
        depth += character in "[("
        brackets[index] = depth > 0
        depth = max(depth - (character in "])"), 0)
        columns[index] = column
        column = 0 if character == "\n" else column + 1
    quotes = np.array([c == '"' for c in text])
    inside_quotes = (np.cumsum(quotes) % 2 == 1) | quotes
    return {"inside_quotes": inside_quotes.astype(np.float64), "inside_brackets": brackets,
            "line_position": columns, "uppercase": np.array([c.isupper() for c in text], dtype=np.float64)}


def most_correlated_cells(model: Any, text: str, layer: LSTM | str | None = None, characters: Any = None,
                          segment: int = 500) -> dict[str, tuple[int, float]]:
    """{feature: (cell, r)}: for each of `text_features`, the cell whose tanh(c_t) has the largest |Pearson r|.

    The text is cut into segments of `segment` characters read as one batch (each segment starts from a zero
    state), which makes a long validation text quick to read. A feature that is constant over the text (no
    quotes at all, say) has no correlation and is left out. r < 0: the cell is low (blue) where the feature
    is high.
    """
    tokens = _encode("most_correlated_cells", text, characters)
    if int(segment) < 1 or len(tokens) < int(segment):
        raise ValueError(f"most_correlated_cells: needs at least one segment of {segment} characters; "
                         f"received a text of {len(tokens)}")
    count = len(tokens) // int(segment)
    used = count * int(segment)
    activations = np.tanh(cell_states(model, tokens[:used].reshape(count, -1), layer)).reshape(used, -1)
    activations = activations.astype(np.float64)
    centred = activations - activations.mean(axis=0)
    spread = np.sqrt((centred**2).sum(axis=0))
    found = {}
    for name, feature in text_features(text[:used]).items():
        feature = feature - feature.mean()
        norm = np.sqrt((feature**2).sum())
        if norm == 0:
            continue
        r = (feature @ centred) / np.where(spread == 0, np.inf, spread * norm)
        best = int(np.argmax(np.abs(r)))
        found[name] = (best, float(r[best]))
    return found


# ---- drawing ----------------------------------------------------------------------------------------------
def activation_colours(values, cmap=CMAP):
    """RGBA colours (T, 4) of values in [-1, 1]: cmap((v + 1) / 2), so -1 is the colormap's first colour (blue
    for "bwr"), 0 its middle (white) and +1 its last (red)."""
    values = np.asarray(values, dtype=np.float64)
    return colormaps[cmap](np.clip((values + 1) / 2, 0, 1))


def wrap_positions(text, width=80):
    """(row, column) of each character when the text is written `width` characters to a line; a line also
    ends after each newline (which keeps its own box, at the end of its line)."""
    if int(width) < 1:
        raise ValueError(f"wrap_positions: width must be a positive number of characters; received {width}")
    rows, columns = np.empty(len(text), np.int64), np.empty(len(text), np.int64)
    row = column = 0
    for index, character in enumerate(text):
        if column == width:
            row, column = row + 1, 0
        rows[index], columns[index] = row, column
        column += 1
        if character == "\n":
            row, column = row + 1, 0
    return rows, columns


def text_activations_html(text, values, cmap=CMAP, title=None):
    """An HTML page: `text` in a <pre> block, each character a <span> whose background is its value's colour
    (`activation_colours`) and whose tooltip is the value; dark backgrounds get white letters."""
    values = _check_values("text_activations_html", text, values)
    spans = []
    for character, value, colour in zip(text, values, activation_colours(values, cmap)):
        shown = NEWLINE_GLYPH if character == "\n" else html.escape(character)
        spans.append(f'<span style="background:{to_hex(colour)};color:{_ink(colour)}" title="{value:+.3f}">'
                     f"{shown}</span>" + ("\n" if character == "\n" else ""))
    heading = f"<h3>{html.escape(title)}</h3>\n" if title else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + heading +
            '<pre style="font-family:monospace;font-size:14px;line-height:1.4">' + "".join(spans) +
            "</pre>\n</body></html>\n")


def draw_text_activations(text, values, width=80, cmap=CMAP, title=None):
    """A Figure: the text in a monospace font, one box per character coloured by its value, `width` boxes to a
    line (`wrap_positions`), and a colour bar from -1 to +1.

    The boxes are one image, `fig.axes[0].images[0].get_array()` of shape (rows, width, 4): the RGBA colour of
    the box at (row, column); boxes after the end of a line are transparent.
    """
    values = _check_values("draw_text_activations", text, values)
    rows, columns = wrap_positions(text, width)
    boxes = np.zeros((rows[-1] + 1, int(width), 4))
    boxes[rows, columns] = activation_colours(values, cmap)
    text_height = 0.2 * len(boxes)
    fig = figure.new_figure(0.105 * width + 0.4, text_height + 1.0)
    grid = fig.add_gridspec(2, 3, height_ratios=(text_height, 0.12))
    ax = fig.add_subplot(grid[0, :])
    ax.imshow(boxes, aspect="auto", interpolation="nearest")
    for character, row, column, colour in zip(text, rows, columns, boxes[rows, columns]):
        if not character.isspace() or character == "\n":
            shown = NEWLINE_GLYPH if character == "\n" else character
            ax.text(column, row, shown, ha="center", va="center", fontsize=9, family="monospace",
                    color=_ink(colour))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    colour_bar = fig.colorbar(ScalarMappable(Normalize(-1, 1), cmap), cax=fig.add_subplot(grid[1, 1]),
                              orientation="horizontal", ticks=[-1, -0.5, 0, 0.5, 1])
    colour_bar.set_label("tanh(c_t)", fontsize=9)
    return fig


def plot_cell_activations(model: Any, text: str, layer: LSTM | str | None = None, cell: int = 0, characters: Any = None,
                          path: Path | None = None, width: int = 80, cmap: str = CMAP) -> Figure | str:
    """Each character of `text` coloured by LSTM cell `cell` after reading it (`cell_activations`).

    With a `path` ending in .html: writes the page of `text_activations_html` and returns its text. Otherwise
    returns the Figure of `draw_text_activations` (written to `path` when given: .png, .svg, .pdf).
    """
    lstm, _ = _split_at_lstm("plot_cell_activations", model, layer)
    if cell is None:
        raise ValueError("plot_cell_activations: draws one cell; received cell=None")
    values = cell_activations(model, text, lstm, cell, characters)
    title = f"LSTM {lstm.name!r}, cell {cell}: tanh(c_t) after each character (red +1, blue -1)"
    if path is not None and os.fspath(path).lower().endswith(".html"):
        page = text_activations_html(text, values, cmap, title)
        with atomic_write(path) as file:
            file.write(page.encode("utf-8"))
        return page
    return figure.save(draw_text_activations(text, values, width, cmap, title), path)


def _check_values(name, text, values):
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),) or not len(text):
        raise ValueError(f"{name}: needs one value per character of a non-empty text ({len(text)}); "
                         f"received values of shape {values.shape}")
    return values


def _ink(colour):
    """Black letters on a light box, white on a dark one (relative luminance under 0.45)."""
    red, green, blue = colour[:3]
    return "white" if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.45 else "black"

