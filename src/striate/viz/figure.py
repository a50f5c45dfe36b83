"""Figures without a window: every picture of striate.viz is a `matplotlib.figure.Figure` drawn by Agg.

Figures are made with `Figure()` directly, never through pyplot, so no GUI backend is touched and the
user's own matplotlib settings stay as they are (matplotlib's "embedding in a web server" recipe). In a
notebook a returned Figure shows inline; `save(figure, path)` writes it.

Panels of images are drawn with `imshow` and keep the array they show, so a test (or a user) can read it
back: `figure.axes[i].images[0].get_array()`.
"""

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from numpy.typing import ArrayLike, NDArray

from striate.core.files import atomic_write
from striate.core.types import Path

DPI = 100


def new_figure(width: float, height: float) -> Figure:
    """An empty Figure of `width` x `height` inches, with a constrained layout."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(figure: Figure, path: Path | None = None, dpi: float = DPI) -> Figure:
    """Write `figure` to `path` (format from the extension: .png, .svg, .pdf) and return the figure.

    The file is written beside `path` under a temporary name and renamed over it when complete, so an existing
    file is never left half-written. With `path=None` nothing is written.
    """
    if path is None:
        return figure
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if not extension:
        raise ValueError(f"save: {path!r} has no extension; use .png, .svg or .pdf")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the folder {directory} of {path!r} does not exist")
    with atomic_write(path) as file:
        figure.savefig(file, format=extension, dpi=dpi)
    return figure


def grid_shape(count: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) of a near-square grid for `count` panels (at most `columns` wide when given)."""
    if count < 1:
        raise ValueError(f"grid_shape: need at least one panel; received {count}")
    columns = columns or int(np.ceil(np.sqrt(count)))
    columns = min(columns, count)
    return int(np.ceil(count / columns)), columns


def image_grid(figure: FigureBase, images: Sequence[ArrayLike], titles: Sequence[str] | None = None,
               columns: int | None = None, cmap: str = "gray", vmin: float | None = None, vmax: float | None = None,
               suptitle: str | None = None) -> list[Axes]:
    """Draw `images` (each (H, W) or (H, W, 3)) as a grid of panels without ticks; returns the used axes.

    Unused cells of the grid are removed, so a figure has exactly one axes per image.
    """
    rows, columns = grid_shape(len(images), columns)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for index, ax in enumerate(axes):
        if index >= len(images):
            ax.remove()
            continue
        ax.imshow(images[index], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize=8)
    if suptitle:
        figure.suptitle(suptitle)
    return list(axes[: len(images)])


def min_max_scale(array: ArrayLike) -> NDArray[np.float64]:
    """(a - min) / (max - min), in [0, 1]; a constant array gives 0.5 everywhere."""
    array = np.asarray(array, dtype=np.float64)
    low, high = array.min(), array.max()
    if high == low:
        return np.full_like(array, 0.5)
    return (array - low) / (high - low)
