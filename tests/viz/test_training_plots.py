"""Learning curves, the confusion matrix and the prediction grid, checked by what each panel draws.

References: the logged values themselves (curves), scikit-learn's confusion_matrix (the heat map and its
texts), and a stub model whose scores are written out here (the prediction titles and error marks).
"""

import json

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from PIL import Image
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

import striate
from striate import layers as L
from striate.training.callbacks import History
from striate.viz.training import plot_confusion_matrix, plot_history, plot_predictions

RED = to_rgba("red")


# ---- plot_history ----------------------------------------------------------------------------------------
def panels_by_title(fig):
    return {ax.get_title(): ax for ax in fig.axes}


def test_history_of_a_real_fit_draws_each_logged_value_against_its_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 5)).astype(np.float32), rng.integers(0, 3, 60)
    striate.set_random_seed(0)
    model = striate.Sequential([L.Dense(3, input_shape=(5,))])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=20, validation_split=0.25, verbose=0)

    fig = plot_history(history)
    panels = panels_by_title(fig)
    assert sorted(panels) == ["accuracy", "loss"]          # "seconds" is not a metric
    for metric, ax in panels.items():
        training, validation = ax.lines
        assert np.array_equal(training.get_xydata(), np.column_stack([[1, 2, 3], history.history[metric]]))
        assert np.array_equal(validation.get_xydata(),
                              np.column_stack([[1, 2, 3], history.history[f"val_{metric}"]]))
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == metric


def test_a_logs_dict_without_validation_draws_one_curve_per_panel():
    logs = {"loss": [2.0, 1.5, 1.25, 1.0], "accuracy": [0.25, 0.5, 0.625, 0.75], "seconds": [3.0, 3.1, 2.9, 3.0]}
    panels = panels_by_title(plot_history(logs))
    assert sorted(panels) == ["accuracy", "loss"]
    assert len(panels["loss"].lines) == 1
    assert np.array_equal(panels["accuracy"].lines[0].get_xydata(), [[1, 0.25], [2, 0.5], [3, 0.625], [4, 0.75]])


def test_a_resumed_history_counts_epochs_from_where_it_started():
    history = History()
    history.on_epoch_end(2, {"loss": 0.5})     # fit(..., initial_epoch=2): the third and fourth epochs
    history.on_epoch_end(3, {"loss": 0.25})
    ax = plot_history(history).axes[0]
    assert np.array_equal(ax.lines[0].get_xydata(), [[3, 0.5], [4, 0.25]])


def run_record(history, epochs_trained):
    """What `striate train` writes (src/striate/cli/train.py), with the fields plot_history reads."""
    return {"model": "lenet5", "dataset": "mnist", "batch_size": 128, "optimizer": "adam", "seed": 0,
            "training_images": 3000, "epochs_trained": epochs_trained, "history": history}


def test_a_run_json_or_its_folder_gives_the_recorded_curves(tmp_path):
    # a run resumed after 3 epochs and trained to 5: its history holds epochs 4 and 5
    logs = {"loss": [0.3, 0.2], "accuracy": [0.9, 0.95], "val_loss": [0.35, 0.3], "val_accuracy": [0.88, 0.9],
            "seconds": [10.0, 11.0]}
    (tmp_path / "run.json").write_text(json.dumps(run_record(logs, epochs_trained=5)))
    for source in (tmp_path / "run.json", str(tmp_path)):
        panels = panels_by_title(plot_history(source, path=tmp_path / "history.png"))
        assert np.array_equal(panels["loss"].lines[0].get_xydata(), [[4, 0.3], [5, 0.2]])
        assert np.array_equal(panels["accuracy"].lines[1].get_xydata(), [[4, 0.88], [5, 0.9]])
    assert Image.open(tmp_path / "history.png").size == (840, 340)   # two panels of 4.2 x 3.4 inches at 100 dpi


def test_a_run_json_without_logs_is_refused_with_its_keys(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"model": "lenet5", "dataset": "mnist"}))
    with pytest.raises(ValueError, match=r"plot_history: .*run.json holds no per-epoch logs .*'dataset', 'model'"):
        plot_history(tmp_path)
    with pytest.raises(FileNotFoundError, match="plot_history: there is no run record"):
        plot_history(tmp_path / "missing")
    with pytest.raises(ValueError, match="the history holds no epochs"):
        plot_history({"loss": []})
    with pytest.raises(TypeError, match="plot_history: expects a History"):
        plot_history([0.5, 0.4])


# ---- plot_confusion_matrix -------------------------------------------------------------------------------
LABELS = np.array([0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3, 0, 2])
GUESSES = np.array([0, 1, 1, 1, 2, 2, 0, 3, 3, 1, 3, 0, 2])


def cell_texts(ax, k):
    """The text written in each cell, as a (k, k) array indexed [row, column]."""
    texts = np.full((k, k), "", dtype=object)
    for text in ax.texts:
        column, row = text.get_position()
        texts[int(row), int(column)] = text.get_text()
    return texts


def test_confusion_matrix_image_and_cell_texts_are_the_counts():
    fig = plot_confusion_matrix(LABELS, GUESSES, class_names=["zero", "one", "two", "three"])
    ax = fig.axes[0]
    expected = sklearn_confusion_matrix(LABELS, GUESSES)
    assert np.array_equal(ax.images[0].get_array(), expected)
    assert np.array_equal(cell_texts(ax, 4), expected.astype(str))
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one", "two", "three"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["zero", "one", "two", "three"]


@pytest.mark.parametrize("normalize", ["true", "pred", "all"])
def test_normalized_confusion_matrix_equals_scikit_learns(normalize):
    ax = plot_confusion_matrix(LABELS, GUESSES, normalize=normalize).axes[0]
    expected = sklearn_confusion_matrix(LABELS, GUESSES, normalize=normalize)
    np.testing.assert_allclose(ax.images[0].get_array(), expected, rtol=1e-12)
    assert np.array_equal(cell_texts(ax, 4), np.vectorize(lambda v: f"{v:.2f}")(expected))


def test_scores_and_a_class_never_seen_give_a_full_matrix():
    scores = np.eye(5)[GUESSES]                      # one-hot scores over 5 classes; class 4 never occurs
    ax = plot_confusion_matrix(LABELS, scores).axes[0]
    assert np.array_equal(ax.images[0].get_array(), sklearn_confusion_matrix(LABELS, GUESSES, labels=range(5)))


def test_confusion_matrix_refuses_an_unknown_normalization():
    with pytest.raises(ValueError, match=r"normalize must be one of \(None, 'true', 'pred', 'all'\); received 'rows'"):
        plot_confusion_matrix(LABELS, GUESSES, normalize="rows")


# ---- plot_predictions ------------------------------------------------------------------------------------
class FixedScores:
    """A model whose predict returns scores given in advance (one row per image)."""

    def __init__(self, scores):
        self.scores = np.asarray(scores)

    def predict(self, x, verbose="auto"):
        return self.scores[: len(x)]


def digits_like(count, channels=1, seed=0):
    return np.random.default_rng(seed).random((count, 6, 5, channels)).astype(np.float32)


PREDICTED = np.array([3, 1, 4, 1, 5, 9, 2, 6])
TRUE = np.array([3, 1, 0, 1, 5, 2, 2, 7])         # wrong at 2, 5 and 7
SCORES = np.eye(10)[PREDICTED] * 0.9 + 0.01


def is_marked_as_error(ax):
    spines = [to_rgba(spine.get_edgecolor()) for spine in ax.spines.values()]
    return to_rgba(ax.title.get_color()) == RED and all(colour == RED for colour in spines)


def test_prediction_titles_errors_and_panels():
    x = digits_like(8)
    fig = plot_predictions(FixedScores(SCORES), x, TRUE)
    assert len(fig.axes) == 8
    assert [ax.get_title() for ax in fig.axes] == [f"{p} ({t})" for p, t in zip(PREDICTED, TRUE)]
    assert [is_marked_as_error(ax) for ax in fig.axes] == list(PREDICTED != TRUE)
    for ax, image in zip(fig.axes, x):
        assert np.array_equal(ax.images[0].get_array(), image[..., 0])


def test_only_errors_shows_exactly_the_mispredicted_images_with_class_names():
    x = digits_like(8, channels=3)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    fig = plot_predictions(FixedScores(SCORES), x, np.eye(10)[TRUE], class_names=names, only_errors=True)
    assert [ax.get_title() for ax in fig.axes] == ["four (zero)", "nine (two)", "six (seven)"]
    assert all(is_marked_as_error(ax) for ax in fig.axes)
    for ax, index in zip(fig.axes, [2, 5, 7]):
        assert np.array_equal(ax.images[0].get_array(), x[index])


def test_count_limits_the_panels():
    fig = plot_predictions(FixedScores(SCORES), digits_like(8), TRUE, count=3)
    assert [ax.get_title() for ax in fig.axes] == ["3 (3)", "1 (1)", "4 (0)"]
    fig = plot_predictions(FixedScores(SCORES), digits_like(8), TRUE, count=2, only_errors=True)
    assert [ax.get_title() for ax in fig.axes] == ["4 (0)", "9 (2)"]


def test_a_striate_models_predictions_are_its_argmax(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.random((12, 4, 4, 1)).astype(np.float32), rng.integers(0, 3, 12)
    striate.set_random_seed(1)
    model = striate.Sequential([L.Flatten(input_shape=(4, 4, 1)), L.Dense(3)])
    predicted = model.predict(x).argmax(axis=1)
    fig = plot_predictions(model, x, y, path=tmp_path / "predictions.png")
    assert [ax.get_title() for ax in fig.axes] == [f"{p} ({t})" for p, t in zip(predicted, y)]
    assert [is_marked_as_error(ax) for ax in fig.axes] == list(predicted != y)
    width, height = fig.get_size_inches() * 100   # 100 dpi
    assert Image.open(tmp_path / "predictions.png").size == (round(width), round(height))


def test_predictions_refuse_bad_shapes_and_a_model_without_errors():
    with pytest.raises(ValueError, match=r"images must be .* received shape \(8, 6, 5, 2\)"):
        plot_predictions(FixedScores(SCORES), digits_like(8, channels=2), TRUE)
    with pytest.raises(ValueError, match=r"received x \(8, 6, 5, 1\) and y \(7,\)"):
        plot_predictions(FixedScores(SCORES), digits_like(8), TRUE[:7])
    with pytest.raises(ValueError, match="makes no error on these 8 images"):
        plot_predictions(FixedScores(SCORES), digits_like(8), PREDICTED, only_errors=True)
