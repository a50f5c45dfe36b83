"""The lectures' convolution animations as GIFs, drawn from the frames striate.inspect.frames computes.

    animation = animate_convolution(image, kernel, padding="same", path="conv.gif")
    animation.frames[1].text        # '3*1 + 0*0 + 1*-1 + ... = -5'
    animation.figure(1)             # the Figure of GIF frame 1 (a notebook shows it inline)

    animate_arithmetic(5, 3, strides=2, padding=1, path="arithmetic.gif")     # Dumoulin & Visin's pictures
    animate_pooling(x, 2, kind="average", path="pool.gif")
    animate_receptive_field(model, "pool1", path="field.gif")

Every `animate_*` returns an `Animation`: `frames`, the data of each GIF frame in order (one dataclass per
frame: intro, one step per output position, outro; for receptive fields one frame per layer), and `path`,
the GIF written, or None when no path is given (then nothing is drawn). Each frame is drawn by a
`draw_*_frame` function into a new Figure (striate.viz.figure, Agg, never pyplot), rendered to an RGB array
and written with Pillow; the GIF is written beside `path` under a temporary name and renamed over it.

What each panel draws is an image a test can read back (`figure.axes[i].images[0].get_array()`); the
draw functions' docstrings list the axes.
"""

import math
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike
from PIL import Image

from striate.core.files import atomic_write
from striate.core.types import IntOrTuple, Padding, Path
from striate.inspect.frames import arithmetic_frames, convolution_frames, pooling_frames, receptive_field_frames
from striate.viz import figure

if TYPE_CHECKING:
    from striate.layers.layer import Layer
    from striate.models.model import Model

MAX_FRAMES = 400             # a GIF with more frames is refused: crop the input or raise the stride
DURATIONS_MS = {"intro": 1500, "step": 700, "outro": 2500}
LAYER_DURATION_MS = 1500     # one receptive-field frame per layer
CELL_INCHES = 0.42           # the side of one grid cell, shrunk for large grids
NUMBERS_MIN_CELL = 0.28      # cells smaller than this (inches) are drawn without their numbers
TEXT_SIZE = 9                # points, monospace: about 0.075 inch a character
DESCRIPTION_CHARS = 160      # the longest description of a geometry an intro or outro frame writes
WINDOW = "#d62728"           # the window's outline (red, as the lectures draw it)
PALE_VALUES = ListedColormap(colormaps["Blues"](np.linspace(0.03, 0.45, 256)))
PALE_KERNEL = ListedColormap(colormaps["Oranges"](np.linspace(0.05, 0.4, 256)))
COMPUTED = ListedColormap(["#d5efcf"])          # output cells computed so far; NaN (not yet) is white
# Dumoulin & Visin's colours: padding / zeros, input (blue), kernel over padding, kernel over input (dark)
ARITHMETIC_INPUT = ListedColormap(["#ffffff", "#7fb2e5", "#8c8c8c", "#1d3f6e"])
ARITHMETIC_OUTPUT = ListedColormap(["#ffffff", "#8fdcd6", "#14837b"])      # pending, filled, current
FIELD = ListedColormap(["#ffffff", "#c6dbef", "#fdd0a2", "#f16913"])       # padding, input, field outside, inside


@dataclass(eq=False)
class Animation:
    """The frames of one animation and the GIF written from them.

    frames: the data of each GIF frame, in order (striate.inspect.frames dataclasses).
    path: the GIF's path, or None when none was written.
    draw: the function drawing one frame into a Figure; `figure(k)` draws frame k.
    """

    frames: list
    path: str | None
    draw: Callable

    def __repr__(self) -> str:
        return f"<Animation: {len(self.frames)} frames, path={self.path!r}>"

    def figure(self, k: int) -> Figure:
        """The Figure of GIF frame k."""
        return self.draw(self.frames[k])


# ---- the four animations ---------------------------------------------------------------------------------
def animate_convolution(x: ArrayLike, kernel: ArrayLike, strides: IntOrTuple = 1, padding: Padding = "valid",
                        dilation_rate: IntOrTuple = 1, mode: Literal["correlate", "convolve"] = "correlate",
                        path: Path | None = None) -> Animation:
    """One filter sliding over x: the padded input with the window outlined, the kernel, the output filling in
    and each output's sum written out ('3*1 + 0*0 + 1*-1 + ... = -5'; per channel, then the total, for
    (H, W, C) inputs). Arguments as `striate.inspect.frames.convolution_frames`; mode="convolve" shows the
    flipped kernel. Frames: intro, one per output position, outro. Returns an `Animation`.
    """
    frames = convolution_frames(x, kernel, strides, padding, dilation_rate, mode)
    return _animation("animate_convolution", frames, draw_convolution_frame, path)


def animate_arithmetic(input_size: IntOrTuple, kernel_size: IntOrTuple, strides: IntOrTuple = 1,
                       padding: Padding = "valid", dilation_rate: IntOrTuple = 1, transposed: bool = False,
                       path: Path | None = None) -> Animation:
    """Dumoulin & Visin's convolution arithmetic: the input grid (blue), the padding and inserted zeros (white,
    dashed), the kernel footprint (dark, with dilation holes), the output grid (cyan) filling in; the title
    is the output-size formula filled in. Arguments as `striate.inspect.frames.arithmetic_frames`.
    """
    frames = arithmetic_frames(input_size, kernel_size, strides, padding, dilation_rate, transposed)
    return _animation("animate_arithmetic", frames, draw_arithmetic_frame, path)


def animate_pooling(x: ArrayLike, pool_size: IntOrTuple, strides: IntOrTuple | None = None,
                    padding: Literal["valid", "same"] = "valid", kind: Literal["max", "average"] = "max",
                    path: Path | None = None) -> Animation:
    """A pooling window over x (H, W): the maximum highlighted, or the average written out, and the output
    filling in. Arguments as `striate.inspect.frames.pooling_frames`."""
    frames = pooling_frames(x, pool_size, strides, padding, kind)
    return _animation("animate_pooling", frames, draw_pooling_frame, path)


def animate_receptive_field(model: "Model | Sequence[Layer]", layer: "str | Layer",
                            position: Sequence[int] | None = None, path: Path | None = None,
                            input_shape: Sequence[int] | None = None) -> Animation:
    """The input region one output cell sees, one frame per layer from the first to `layer`, growing as the
    layers stack (sizes as `striate.inspect.plan`). Arguments as
    `striate.inspect.frames.receptive_field_frames`."""
    frames = receptive_field_frames(model, layer, position, input_shape)
    return _animation("animate_receptive_field", frames, draw_receptive_field_frame, path,
                      [LAYER_DURATION_MS] * len(frames))


def _animation(op: str, frames: list[Any], draw: Callable[[Any], Figure], path: Path | None,
               durations: list[int] | None = None) -> Animation:
    if path is None:
        return Animation(frames, None, draw)
    durations = durations or [DURATIONS_MS[frame.stage] for frame in frames]
    write_gif((draw(frame) for frame in frames), path, durations, count=len(frames), op=op)
    return Animation(frames, os.fspath(path), draw)


# ---- GIF ---------------------------------------------------------------------------------------------------
def figure_to_rgb(fig):
    """(height, width, 3) uint8 pixels of `fig`, rendered by Agg."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def write_gif(figures, path, durations, count=None, op="write_gif"):
    """Write `figures` (Figures, all the same size, rendered one at a time) as a looping GIF at `path`.

    durations: milliseconds per frame. The file is written beside `path` under a temporary name and renamed
    over it when complete. `count` (the number of figures, when they come from a generator) is checked
    against MAX_FRAMES before anything is drawn.
    """
    path = os.fspath(path)
    count = len(figures) if count is None else count
    if not path.lower().endswith(".gif"):
        raise ValueError(f"{op}: the animation is written as a GIF; the path must end in .gif; received {path!r}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{op}: the folder {directory} of {path!r} does not exist")
    if count > MAX_FRAMES:
        raise ValueError(f"{op}: {count} frames is more than the {MAX_FRAMES} a readable GIF holds; crop the "
                         f"input or raise the stride")
    if len(durations) != count:
        raise ValueError(f"{op}: {len(durations)} durations for {count} frames")
    images = []
    for fig in figures:
        images.append(Image.fromarray(figure_to_rgb(fig)))
        if images[-1].size != images[0].size:
            raise ValueError(f"{op}: every frame must have the same size; frame {len(images) - 1} is "
                             f"{images[-1].size}, frame 0 {images[0].size}")
    with atomic_write(path) as file:
        images[0].save(file, format="GIF", save_all=True, append_images=images[1:], duration=list(durations), loop=0)
    return path


# ---- drawing one frame -------------------------------------------------------------------------------------
def draw_convolution_frame(frame):
    """A Figure of one `ConvolutionFrame`.

    Axes: for each channel c, axes[2c] the padded input channel c (image: frame.padded[..., c]) and
    axes[2c + 1] the kernel as applied (image: frame.kernel[..., c]); then the output (image: frame.output,
    NaN not computed yet), then the text panel. The window is outlined in red on every input panel, its cells
    marked with the kernel weight they are multiplied by.
    """
    padded, kernel, output = frame.padded, frame.kernel, frame.output
    (rows, columns, channels), (kh, kw) = padded.shape, kernel.shape[:2]
    widths = [columns, max(kw, 3), max(output.shape[1], 3)]
    cell = min(CELL_INCHES, 9.0 / sum(widths))
    width = max(sum(widths) * cell + 1.4, 8.0 if channels > 1 else 5.0)
    longest = max(len(_written(v)) for v in padded.ravel()) + max(len(_written(v)) for v in kernel.ravel())
    lines = _reserved_lines(width, kh * kw, longest + 4, channels)
    fig = figure.new_figure(width, channels * (max(rows, kh) * cell + 0.45) + 0.5 + 0.19 * lines)
    grid = fig.add_gridspec(channels + 1, 3, width_ratios=widths,
                            height_ratios=[max(rows, kh) * cell + 0.45] * channels + [0.19 * lines])
    low, high = np.min(padded), np.max(padded)
    flipped = " (flipped)" if frame.mode == "convolve" else ""
    (top, bottom), (left, right) = frame.padding
    for c in range(channels):
        ax = fig.add_subplot(grid[c, 0])
        name = "input" if channels == 1 else f"input channel {c}"
        ax.set_title(f"{name}{', padded' if top + bottom + left + right else ''}", fontsize=10)
        _values(ax, padded[..., c], PALE_VALUES, low, high, cell)
        _mark_padding(ax, padded.shape[:2], frame.padding)
        if frame.window is not None:
            _window_outline(ax, frame.window)
            if cell >= NUMBERS_MIN_CELL:
                for (r, q), w in zip(frame.window.reshape(-1, 2), kernel[..., c].ravel()):
                    ax.text(q + 0.45, r + 0.45, f"×{_short(w)}", color=WINDOW, fontsize=6, ha="right",
                            va="bottom")
        ax = fig.add_subplot(grid[c, 1])
        ax.set_title(f"kernel{flipped}" if channels == 1 else f"kernel {c}", fontsize=10)
        _values(ax, kernel[..., c], PALE_KERNEL, np.min(kernel), np.max(kernel), cell)
    ax = fig.add_subplot(grid[:channels, 2])
    ax.set_title("output", fontsize=10)
    _values(ax, output, COMPUTED, 0, 1, cell)
    if frame.output_index is not None:
        _outline(ax, *frame.output_index, 1, 1, color=WINDOW, linewidth=3)
    _text_panel(fig.add_subplot(grid[channels, :]), frame.text, width)
    fig.suptitle(_step_title(frame), fontsize=11)
    return _inside_layout(fig)


def draw_pooling_frame(frame):
    """A Figure of one `PoolingFrame`: axes[0] the padded input (image: frame.padded, NaN padding), the window
    outlined and the maximum filled; axes[1] the output (image: frame.output); axes[2] the text."""
    padded, output = frame.padded, frame.output
    widths = [padded.shape[1], max(output.shape[1], 3)]
    cell = min(CELL_INCHES, 8.0 / sum(widths))
    width = max(sum(widths) * cell + 1.2, 4.0)
    longest = max(len(_written(v)) for v in padded[~np.isnan(padded)])
    lines = _reserved_lines(width, math.prod(frame.pool_size), longest + 3)
    fig = figure.new_figure(width, padded.shape[0] * cell + 1.2 + 0.19 * lines)
    grid = fig.add_gridspec(2, 2, width_ratios=widths, height_ratios=[padded.shape[0] * cell + 0.45, 0.19 * lines])
    ax = fig.add_subplot(grid[0, 0])
    ax.set_title("input", fontsize=10)
    _values(ax, padded, PALE_VALUES, np.nanmin(padded), np.nanmax(padded), cell)
    _mark_padding(ax, padded.shape, frame.padding)
    if frame.chosen is not None:
        ax.add_patch(Rectangle((frame.chosen[1] - 0.5, frame.chosen[0] - 0.5), 1, 1, facecolor="#ffd54f",
                               edgecolor="none", zorder=2))
    if frame.window is not None:
        _window_outline(ax, frame.window)
    ax = fig.add_subplot(grid[0, 1])
    ax.set_title(f"{frame.kind} pooling", fontsize=10)
    _values(ax, output, COMPUTED, 0, 1, cell)
    if frame.output_index is not None:
        _outline(ax, *frame.output_index, 1, 1, color=WINDOW, linewidth=3)
    _text_panel(fig.add_subplot(grid[1, :]), frame.text, width)
    fig.suptitle(_step_title(frame), fontsize=11)
    return _inside_layout(fig)


def draw_arithmetic_frame(frame):
    """A Figure of one `ArithmeticFrame`.

    axes[0]: the grid the kernel slides over; image codes 0 padding or inserted zero (white, dashed), 1 input
    cell (blue), 2 kernel over padding (grey), 3 kernel over input (dark blue). axes[1]: the output; codes 0
    pending, 1 computed (cyan), 2 the current cell (dark cyan). axes[2]: the caption. Title: the formula.
    """
    geometry = frame.geometry
    grid_shape, out_shape = geometry.grid_shape, geometry.output_size
    widths = [grid_shape[1], out_shape[1]]
    cell = min(CELL_INCHES, 8.0 / sum(widths))
    width = max(sum(widths) * cell + 1.4, 6.0)
    lines = sum(len(textwrap.wrap(text, _characters(width))) for text in geometry.caption.split("\n")) + 1
    height = max(grid_shape[0], out_shape[0]) * cell + 0.9 + 0.19 * lines
    fig = figure.new_figure(width, height)
    grid = fig.add_gridspec(2, 2, width_ratios=widths, height_ratios=[height - 0.19 * lines, 0.19 * lines])

    is_input = np.zeros(grid_shape, dtype=bool)
    is_input[geometry.input_cells[..., 0], geometry.input_cells[..., 1]] = True
    codes = is_input.astype(int)
    if frame.footprint is not None:
        under = frame.footprint[..., 0], frame.footprint[..., 1]
        codes[under] = np.where(is_input[under], 3, 2)
    ax = fig.add_subplot(grid[0, 0])
    padded = any(p for pair in geometry.padding for p in pair)
    title = "zeros inserted, then padded" if geometry.transposed else f"input{' (padded)' if padded else ''}"
    ax.set_title(title, fontsize=10)
    _codes(ax, codes, ARITHMETIC_INPUT)
    for r, c in sorted(np.ndindex(*grid_shape), key=lambda cell: is_input[cell]):   # solid edges drawn last
        dashed = not is_input[r, c]
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="#888888" if dashed else "#222222",
                               linestyle="--" if dashed else "-", linewidth=0.8, clip_on=False))
    if frame.footprint is not None:
        _window_outline(ax, frame.footprint, color="#0b1f3a")

    done = frame.filled.astype(int)
    if frame.output_index is not None:
        done[frame.output_index] = 2
    ax = fig.add_subplot(grid[0, 1])
    ax.set_title(f"output {out_shape[0]}x{out_shape[1]}", fontsize=10)
    _codes(ax, done, ARITHMETIC_OUTPUT)
    for r, c in np.ndindex(*out_shape):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="#222222", linewidth=0.8,
                               clip_on=False))
    _text_panel(fig.add_subplot(grid[1, :]), geometry.caption, width)
    fig.suptitle(geometry.formula, fontsize=11)
    return _inside_layout(fig)


def draw_receptive_field_frame(frame):
    """A Figure of one `ReceptiveFieldFrame`.

    axes[0]: the input over frame.extent; image codes 0 padding, 1 input pixel, 2 field over padding, 3 field
    over the input; earlier layers' regions dashed. axes[1]: the layer's output, the cell marked (image: 1 at
    frame.cell, 0 elsewhere).
    """
    top, left, bottom, right = frame.extent
    shape = (bottom - top + 1, right - left + 1)
    out_shape = frame.output_size
    cell = min(0.35, 4.0 / max(shape))
    width = 2 * shape[1] * cell + 1.6
    fig = figure.new_figure(width, shape[0] * cell + 1.4)
    grid = fig.add_gridspec(2, 2, height_ratios=[shape[0] * cell + 0.4, 0.4])

    rows, columns = np.mgrid[top : bottom + 1, left : right + 1]
    inside = (rows >= 0) & (rows < frame.input_size[0]) & (columns >= 0) & (columns < frame.input_size[1])
    r0, c0, r1, c1 = frame.region
    in_field = (rows >= r0) & (rows <= r1) & (columns >= c0) & (columns <= c1)
    ax = fig.add_subplot(grid[0, 0])
    ax.set_title(f"input {frame.input_size[0]}x{frame.input_size[1]}", fontsize=10)
    ax.imshow(inside + 2 * in_field, cmap=FIELD, vmin=-0.5, vmax=3.5, interpolation="nearest",
              extent=(left - 0.5, right + 0.5, bottom + 0.5, top - 0.5))
    _cell_grid(ax, (top, left), shape, cell)
    ax.add_patch(Rectangle((-0.5, -0.5), frame.input_size[1], frame.input_size[0], fill=False, edgecolor="#222222",
                           linewidth=1.5))
    for earlier in frame.earlier:
        _outline(ax, earlier[0], earlier[1], earlier[2] - earlier[0] + 1, earlier[3] - earlier[1] + 1,
                 color="#7f2704", linewidth=1.2, linestyle="--")
    _outline(ax, r0, c0, r1 - r0 + 1, c1 - c0 + 1, color=WINDOW, linewidth=2.5)

    marked = np.zeros(out_shape)
    marked[frame.cell] = 1
    ax = fig.add_subplot(grid[0, 1])
    ax.set_title(f"{frame.name} output {out_shape[0]}x{out_shape[1]}", fontsize=10)
    ax.imshow(marked, cmap=ListedColormap(["#eeeeee", "#f16913"]), vmin=0, vmax=1, interpolation="nearest")
    _cell_grid(ax, (0, 0), out_shape, cell * shape[1] / max(out_shape[1], 1))
    _outline(ax, *frame.cell, 1, 1, color=WINDOW, linewidth=2.5)
    size = "x".join(str(s) for s in frame.size)
    fig.suptitle(f"{frame.name} ({frame.type}): one output cell sees {size} input pixels", fontsize=11)
    _text_panel(fig.add_subplot(grid[1, :]),
                f"cell {frame.cell} of {frame.name}; receptive field {size}, jump {_axes(frame.jump)}, "
                f"start {_axes(frame.start)}; input rows {r0}..{r1}, columns {c0}..{c1}", width)
    return _inside_layout(fig)


# ---- drawing helpers -----------------------------------------------------------------------------------------
def _inside_layout(fig):
    """Leave the artists drawn inside the panels (numbers, outlines, lines) out of the layout: they lie within
    the axes, and measuring each one makes a frame slow to draw."""
    for ax in fig.axes:
        for artist in (*ax.texts, *ax.patches, *ax.collections):
            artist.set_in_layout(False)
    return fig


def _values(ax, array, cmap, low, high, cell):
    """A grid of numbers: `array` drawn as an image (NaN white), each cell's value written when it fits."""
    cmap = cmap.with_extremes(bad="white")
    ax.imshow(array, cmap=cmap, vmin=low, vmax=high if high > low else low + 1, interpolation="nearest")
    _cell_grid(ax, (0, 0), array.shape, cell)
    if cell < NUMBERS_MIN_CELL:
        return
    for (r, c), value in np.ndenumerate(array):
        if not np.isnan(value):
            ax.text(c, r, _short(value), ha="center", va="center", fontsize=9 if cell >= 0.38 else 7, zorder=3)


def _codes(ax, codes, cmap):
    ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(False)


def _cell_grid(ax, origin, shape, cell):
    """Thin lines between cells (none when cells are tiny), no ticks."""
    top, left = origin
    ax.set_xticks([])
    ax.set_yticks([])
    if cell >= 0.08:
        rows, columns = np.arange(top - 0.5, top + shape[0]), np.arange(left - 0.5, left + shape[1])
        ax.hlines(rows, columns[0], columns[-1], color="#555555", linewidth=0.5, clip_on=False)
        ax.vlines(columns, rows[0], rows[-1], color="#555555", linewidth=0.5, clip_on=False)


def _mark_padding(ax, shape, padding):
    """Padding cells: white with a dashed border, their value in grey."""
    (top, bottom), (left, right) = padding
    for r, c in np.ndindex(*shape):
        if r < top or r >= shape[0] - bottom or c < left or c >= shape[1] - right:
            ax.add_patch(Rectangle((c - 0.45, r - 0.45), 0.9, 0.9, facecolor="white", edgecolor="#999999",
                                   linestyle="--", linewidth=0.8, zorder=2))
            for text in ax.texts:
                if text.get_position() == (c, r):
                    text.set_color("#999999")


def _window_outline(ax, cells, color=WINDOW):
    """The window's span outlined; with dilation, each kernel cell outlined too and the span dashed."""
    rows, columns = cells[..., 0], cells[..., 1]
    top, left = rows.min(), columns.min()
    height, width = rows.max() - top + 1, columns.max() - left + 1
    dilated = height > cells.shape[0] or width > cells.shape[1]
    _outline(ax, top, left, height, width, color=color, linewidth=1.5 if dilated else 3,
             linestyle="--" if dilated else "-")
    if dilated:
        for r, c in cells.reshape(-1, 2):
            _outline(ax, r, c, 1, 1, color=color, linewidth=2.5)


def _outline(ax, top, left, height, width, **style):
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, zorder=4, clip_on=False, **style))


def _text_panel(ax, text, width):
    """Text under the pictures, wrapped to the figure's width (out of the layout, so frames line up)."""
    ax.set_axis_off()
    wrapped = "\n".join(textwrap.fill(line, _characters(width), break_on_hyphens=False) for line in text.split("\n"))
    ax.text(0.01, 1, wrapped, transform=ax.transAxes, va="top", ha="left", family="monospace", fontsize=TEXT_SIZE)


def _characters(width):
    """Monospace characters of TEXT_SIZE points that fit on a line of a `width`-inch figure."""
    return max(int((width - 0.3) / (0.62 * TEXT_SIZE / 72)), 20)


def _reserved_lines(width, terms, term_chars, channels=1):
    """Text lines kept under a picture: enough for the longest sum any frame of the animation writes (`terms`
    terms of at most `term_chars` characters, per channel, with a total line for several) and for the
    geometry's description, so every frame of one animation has the same size."""
    usable = max(_characters(width) - term_chars, term_chars)    # a wrapped line may end one term short
    lines = channels * math.ceil(((terms + 2) * term_chars) / usable) + (channels > 1)
    return max(lines, math.ceil(DESCRIPTION_CHARS / _characters(width))) + 1


def _step_title(frame):
    if frame.stage == "intro":
        return "slide the window over the input"
    if frame.stage == "outro":
        return "the output"
    return f"output {frame.output_index} = {_short(frame.value)}"


def _short(value):
    """A cell's number: integers whole, others to 3 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _written(value):
    """A number as the sums write it (striate.inspect.one_output): integers whole, others with %g."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _axes(values):
    texts = [str(int(v)) if float(v).is_integer() else f"{v:g}" for v in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)
