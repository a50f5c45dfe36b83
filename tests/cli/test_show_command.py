"""`striate show VIEW RUN_DIR`: each view writes the picture of the model it was given; mistakes are one line."""

import json

import numpy as np
import pytest
from PIL import Image

import striate
from striate import layers as L
from striate.cli import main


@pytest.fixture(scope="module")
def run_directory(tmp_path_factory):
    """A small trained-looking run: a conv net saved as `striate train` saves it, and a run.json with a history."""
    directory = tmp_path_factory.mktemp("run")
    striate.set_random_seed(0)
    model = striate.Sequential([L.Conv2D(4, 3, activation="relu", input_shape=(28, 28, 1), name="conv1"),
                                L.MaxPooling2D(2, name="pool"), L.Flatten(), L.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.save(directory / "model.safetensors")
    history = {"loss": [0.9, 0.5], "accuracy": [0.7, 0.85], "val_loss": [0.8, 0.6], "val_accuracy": [0.75, 0.8]}
    (directory / "run.json").write_text(json.dumps({"model": "tiny", "dataset": "mnist", "history": history}))
    return directory, model


def test_show_filters_draws_one_panel_per_kernel_of_the_saved_model(run_directory, tmp_path):
    directory, model = run_directory
    out = tmp_path / "filters.png"
    assert main(["show", "filters", str(directory), "--out", str(out)]) == 0
    figure = striate.viz.plot_filters(striate.load_model(directory / "model.safetensors"))
    kernel = model.layers[0].kernel.numpy()
    assert len(figure.axes) == 4
    for channel, ax in enumerate(figure.axes):
        cell = kernel[:, :, 0, channel]
        np.testing.assert_allclose(ax.images[0].get_array(), (cell - cell.min()) / (cell.max() - cell.min()),
                                   rtol=1e-6)
    assert Image.open(out).format == "PNG"


def test_show_maps_of_one_layer_uses_the_test_digit_asked_for(run_directory, tmp_path, capsys):
    directory, _ = run_directory
    out = tmp_path / "maps.png"
    assert main(["show", "maps", str(directory), "--layer", "conv1", "--index", "3", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    with Image.open(out) as image:
        assert image.size[0] > 200 and image.size[1] > 200


def test_show_history_draws_the_logged_values(run_directory, tmp_path):
    directory, _ = run_directory
    out = tmp_path / "history.png"
    assert main(["show", "history", str(directory), "--out", str(out)]) == 0
    figure = striate.viz.plot_history(directory / "run.json")
    loss_axes = figure.axes[0]
    np.testing.assert_allclose(loss_axes.lines[0].get_xydata(), [[1, 0.9], [2, 0.5]])
    assert out.stat().st_size > 0


@pytest.mark.parametrize("view", ["saliency", "guided", "occlusion"])
def test_attribution_views_read_a_sample_photo_only_of_the_model_input_size(run_directory, tmp_path, capsys, view):
    directory, _ = run_directory
    out = tmp_path / f"{view}.png"
    assert main(["show", view, str(directory), "camera", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "striate show: camera is 512x512 pixels; the model expects 28x28\n"
    assert not out.exists()
    digit = tmp_path / "digit.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(digit)
    assert main(["show", view, str(directory), str(digit), "--out", str(out)]) == 0
    assert Image.open(out).format == "PNG"


def test_mistakes_are_one_line_and_write_nothing(run_directory, tmp_path, capsys):
    directory, _ = run_directory
    out = tmp_path / "x.png"
    assert main(["show", "maps", str(directory), "--layer", "conv9", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("striate show: the model has no layer 'conv9'; its layers are [")
    assert main(["show", "filters", str(directory), "--out", str(tmp_path / "x.jpg")]) == 2
    expected = f"striate show: --out {tmp_path / 'x.jpg'}: expected a .png, .svg or .pdf file name\n"
    assert capsys.readouterr().err == expected
    assert main(["show", "filters", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "does not exist (train with `striate train MODEL --out DIR` first)" in capsys.readouterr().err
    assert main(["show", "maps", str(directory), "no-such-photo", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("striate show: no-such-photo is neither a file nor a sample name (")
    assert list(tmp_path.iterdir()) == []
