"""Pictures of training: the learning curves, the confusion matrix and a grid of predictions.

    plot_history(model.fit(...))                       # or a History's .history dict, or runs/NAME/run.json
    plot_confusion_matrix(y_test, model.predict(x_test), normalize="true")
    plot_predictions(model, x_test, y_test, only_errors=True)

Each `plot_*` returns a `matplotlib.figure.Figure` and writes it when given `path=` (striate.viz.figure).
"""

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from striate import metrics
from striate.core.types import Path
from striate.viz import figure

if TYPE_CHECKING:
    from striate.models.model import Model
    from striate.training.callbacks import History

Normalize = Literal["true", "pred", "all"] | None
Curves = dict[str, dict[str, tuple[NDArray[Any], NDArray[np.float64]]]]

NORMALIZATIONS = (None, "true", "pred", "all")
NOT_METRICS = ("seconds", "learning_rate")
ERROR_COLOUR = "red"


# ---- learning curves ----------------------------------------------------------------------------------------
def history_curves(history_or_run_json: "History | dict[str, list[float]] | Path") -> Curves:
    """{metric: {"training": (epochs, values), "validation": (epochs, values)}} of a training run.

    Accepts a `History` (what `fit` returns), its `.history` dict ({"loss": [...], "val_loss": [...], ...}),
    or the path of a `run.json` written by `striate train` (or of its folder). Epochs count from 1; a run
    resumed at epoch k (a History's `.epoch`, run.json's `epochs_trained`) starts its curves at k + 1. A key
    "val_<name>" is the validation curve of "<name>"; the epoch time ("seconds") is not a metric.
    """
    logs, epochs = _logs_and_epochs(history_or_run_json)
    curves: Curves = {}
    for key, values in logs.items():
        if key in NOT_METRICS:
            continue
        metric, kind = (key[len("val_"):], "validation") if key.startswith("val_") else (key, "training")
        if len(values) != len(epochs):
            raise ValueError(f"plot_history: {key!r} holds {len(values)} values for {len(epochs)} epochs; "
                             f"received lengths { {k: len(v) for k, v in logs.items()} }")
        curves.setdefault(metric, {})[kind] = (epochs, np.asarray(values, dtype=np.float64))
    if not curves:
        raise ValueError(f"plot_history: the logs hold no metric to draw; received keys {sorted(logs)}")
    return curves


def plot_history(history_or_run_json: "History | dict[str, list[float]] | Path", path: Path | None = None) -> Figure:
    """One panel per metric (loss, accuracy, ...): the training and validation values against the epoch.

    `history_or_run_json` as in `history_curves`. Panel i draws the training curve as `ax.lines[0]` and the
    validation curve (when logged) as `ax.lines[1]`, each with x = epoch.
    """
    curves = history_curves(history_or_run_json)
    fig = figure.new_figure(4.2 * len(curves), 3.4)
    for ax, (metric, kinds) in zip(fig.subplots(1, len(curves), squeeze=False)[0], curves.items()):
        for kind in ("training", "validation"):
            if kind in kinds:
                epochs, values = kinds[kind]
                ax.plot(epochs, values, marker="o", markersize=3, label=kind)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    return figure.save(fig, path)


def _logs_and_epochs(source: Any) -> tuple[dict[str, Any], NDArray[np.integer[Any]]]:
    """({key: values}, 1-based epoch numbers) of a History, a logs dict or a run.json path."""
    epochs: NDArray[np.integer[Any]] | None
    if hasattr(source, "history"):
        logs = source.history
        epochs = np.asarray(source.epoch, dtype=np.int64) + 1 if getattr(source, "epoch", None) else None
    elif isinstance(source, dict):
        logs, epochs = source, None
    elif isinstance(source, str | os.PathLike):
        logs, epochs = _read_run_json(source)
    else:
        raise TypeError(f"plot_history: expects a History, its .history dict or the path of a run.json; "
                        f"received {type(source).__name__}")
    if not logs or not all(len(values) for values in logs.values()):
        raise ValueError(f"plot_history: the history holds no epochs; received {logs!r}")
    count = len(next(iter(logs.values())))
    if epochs is None:
        epochs = np.arange(1, count + 1)
    return logs, epochs


def _read_run_json(path: Path) -> tuple[dict[str, Any], NDArray[np.integer[Any]]]:
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "run.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"plot_history: there is no run record {path}")
    with open(path, encoding="utf-8") as file:
        try:
            run = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"plot_history: {path} is not valid JSON ({error})") from None
    logs = run.get("history") if isinstance(run, dict) else None
    if not isinstance(logs, dict) or not logs:
        keys = sorted(run) if isinstance(run, dict) else type(run).__name__
        raise ValueError(f"plot_history: {path} holds no per-epoch logs (no 'history' entry with values); "
                         f"received keys {keys}")
    count = len(next(iter(logs.values())))
    last = int(run.get("epochs_trained", count))
    return logs, np.arange(last - count + 1, last + 1)


# ---- confusion matrix -------------------------------------------------------------------------------------
def normalized_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, normalize: Normalize = None,
                                num_classes: int | None = None) -> NDArray[Any]:
    """`striate.metrics.confusion_matrix` (rows: true class, columns: predicted), optionally normalized.

    normalize, as scikit-learn's: None (counts), "true" (each row divided by its sum: recall on the
    diagonal), "pred" (each column by its sum: precision on the diagonal), "all" (by the number of samples).
    A row or column that sums to 0 stays 0.

    Shape: (K, K), int64 counts or float64 fractions.
    """
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"plot_confusion_matrix: normalize must be one of {NORMALIZATIONS}; received {normalize!r}")
    counts = metrics.confusion_matrix(y_true, y_pred, num_classes=num_classes)
    if normalize is None:
        return counts
    total = {"true": counts.sum(axis=1, keepdims=True), "pred": counts.sum(axis=0, keepdims=True),
             "all": counts.sum()}[normalize]
    total = np.broadcast_to(total, counts.shape)
    return np.divide(counts, total, out=np.zeros(counts.shape), where=total != 0)


def plot_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, class_names: Sequence[str] | None = None,
                          normalize: Normalize = None, path: Path | None = None, cmap: str = "Blues") -> Figure:
    """The confusion matrix as a heat map with each cell's count (or fraction) written in it.

    Rows are the true class, columns the predicted class (scikit-learn's ConfusionMatrixDisplay).
    `y_true`, `y_pred` as `striate.metrics.confusion_matrix` takes them (labels, one-hot rows or scores);
    class_names: one label per class (then K = len(class_names)); normalize: as `normalized_confusion_matrix`.
    The heat map's array is `fig.axes[0].images[0].get_array()`; cell (i, j)'s text is written at x=j, y=i.
    """
    num_classes = None if class_names is None else len(class_names)
    matrix = normalized_confusion_matrix(y_true, y_pred, normalize, num_classes)
    k = len(matrix)
    names = [str(c) for c in (range(k) if class_names is None else class_names)]
    size = max(4.0, 0.55 * k + 2.5)
    fig = figure.new_figure(size + 1.0, size)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap=cmap, interpolation="nearest", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = (matrix.max() + matrix.min()) / 2
    for (i, j), value in np.ndenumerate(matrix):
        text = f"{value:d}" if normalize is None else f"{value:.2f}"
        colour = "white" if value > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9 if k <= 12 else 6)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Confusion matrix" if normalize is None else f"Confusion matrix (normalized over {normalize})")
    return figure.save(fig, path)


# ---- predictions ------------------------------------------------------------------------------------------
def prediction_panels(model: "Model", x: ArrayLike, y: ArrayLike, count: int = 25,
                      only_errors: bool = False) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """(indices, predicted, true) of the images to show: the first `count`, or the first `count` errors.

    predicted = argmax of `model.predict`; y: class indices (N,) or one-hot rows (N, K). With only_errors
    the whole of x is predicted, otherwise only the first `count` images.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (1, 3)):
        raise ValueError(f"plot_predictions: images must be (N, H, W, 1), (N, H, W, 3) or (N, H, W); "
                         f"received shape {x.shape}")
    if len(x) != len(y) or y.ndim not in (1, 2):
        raise ValueError(f"plot_predictions: y must hold one label (N,) or one-hot row (N, K) per image; "
                         f"received x {x.shape} and y {y.shape}")
    if int(count) < 1:
        raise ValueError(f"plot_predictions: count must be a positive integer; received {count}")
    true = y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)
    considered = len(x) if only_errors else min(int(count), len(x))
    scores = np.asarray(model.predict(x[:considered], verbose=0))
    if scores.ndim != 2 or len(scores) != considered:
        raise ValueError(f"plot_predictions: model.predict must give class scores (N, K); received shape "
                         f"{scores.shape} for {considered} images")
    predicted = scores.argmax(axis=1)
    indices = np.arange(considered)
    if only_errors:
        indices = indices[predicted != true[:considered]]
        if not len(indices):
            raise ValueError(f"plot_predictions: the model makes no error on these {len(x)} images; "
                             "there is nothing to show with only_errors=True")
    indices = indices[: int(count)]
    return indices, predicted[indices], true[indices]


def plot_predictions(model: "Model", x: ArrayLike, y: ArrayLike, class_names: Sequence[str] | None = None,
                     count: int = 25, only_errors: bool = False, path: Path | None = None,
                     columns: int | None = None) -> Figure:
    """A grid of images titled "predicted (true)"; a wrong prediction has a red title and a red frame.

    x: images (N, H, W, 1) greyscale (each drawn with its own grey scale), (N, H, W) or (N, H, W, 3) RGB
    (uint8, or floats in [0, 1]); y: class indices (N,) or one-hot rows (N, K). class_names turns indices
    into names. Panel i shows `fig.axes[i].images[0].get_array()`, which is the image itself.
    """
    indices, predicted, true = prediction_panels(model, x, y, count, only_errors)
    names = (lambda c: str(c)) if class_names is None else (lambda c: str(class_names[c]))
    x = np.asarray(x)
    images = [x[i, ..., 0] if x.ndim == 4 and x.shape[-1] == 1 else x[i] for i in indices]
    titles = [f"{names(p)} ({names(t)})" for p, t in zip(predicted, true)]
    rows, cols = figure.grid_shape(len(images), columns)
    fig = figure.new_figure(1.3 * cols + 0.3, 1.45 * rows + 0.5)
    axes = figure.image_grid(fig, images, titles, columns=cols)
    for ax, p, t in zip(axes, predicted, true):
        if p != t:
            ax.title.set_color(ERROR_COLOUR)
            for spine in ax.spines.values():
                spine.set_edgecolor(ERROR_COLOUR)
                spine.set_linewidth(2.5)
    if only_errors:
        fig.suptitle(f"predicted (true): the first {len(images)} errors")
    else:
        fig.suptitle(f"predicted (true): {len(images)} images, {int(np.sum(predicted != true))} wrong")
    return figure.save(fig, path)
