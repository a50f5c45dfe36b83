"""Explorer without the web: functional models (a cell's input read from its own branch), colour models and their
sample photos, models it cannot show; and the `striate explore` command's one-line errors."""

import argparse
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.cli import CommandError
from striate.cli import explore as command
from striate.explore import Explorer
from striate.explore.inputs import InputError, fit_image, load_sample, sample_names
from striate.inspect import layer_outputs


@pytest.fixture(scope="module")
def branching():
    """A functional model: two convolutions of the input, added, then a third; Dense at the end."""
    striate.set_random_seed(1)
    image = striate.Input((8, 8, 1))
    left = L.Conv2D(2, 3, padding="same", activation="relu", name="left")(image)
    right = L.Conv2D(2, 3, padding="same", activation="tanh", name="right")(image)
    both = L.Add(name="both")([left, right])
    after = L.Conv2D(3, 3, strides=2, activation="relu", name="after")(both)
    output = L.Dense(4, activation="softmax", name="scores")(L.Flatten(name="flat")(after))
    model = striate.Model(image, output, name="branching")
    model.set_weights([np.random.default_rng(1).standard_normal(w.shape).astype(np.float32) for w in model.weights])
    return model


def test_a_functional_model_reads_each_cell_from_its_own_branch(branching):
    explorer = Explorer(branching)
    names = [layer["name"] for layer in explorer.describe()["layers"]]
    assert sorted(names[:2]) == ["left", "right"] and names[2:] == ["both", "after", "flat", "scores"]   # run order
    x = np.random.default_rng(2).random((8, 8, 1)).astype(np.float32)
    outputs = layer_outputs(branching, x[None])
    right = explorer.cell(x.tolist(), "right", [0, 7], 1)
    assert right["input"] == ["input"]
    assert right["arithmetic"]["value"] == pytest.approx(outputs["right"][0, 0, 7, 1], rel=1e-5, abs=1e-6)
    after = explorer.cell(x.tolist(), "after", [1, 2], 2)
    assert after["input"] == ["both"]
    window = np.array(after["arithmetic"]["window"])
    np.testing.assert_allclose(window, outputs["both"][0, 2:5, 4:7], rtol=1e-6)   # stride 2: rows 2..4, columns 4..6
    assert after["arithmetic"]["value"] == pytest.approx(outputs["after"][0, 1, 2, 2], rel=1e-5, abs=1e-6)
    merged = explorer.cell(x.tolist(), "both", [3, 3], 0)
    assert merged["input"] == ["left", "right"] and merged["arithmetic"] is None and "Add" in merged["note"]


def test_a_colour_model_is_offered_the_sample_photos():
    assert "chelsea" in sample_names((32, 32, 3)) and sample_names((28, 28, 1))[0] == "mnist-0"
    pixels, notes, label = load_sample("chelsea", (32, 32, 3), mnist_test=None)
    assert pixels.shape == (32, 32, 3) and label is None
    assert notes == ["the sample photo 'chelsea'", "read a 451x300 image with 3 channel(s)",
                     "resized from 451x300 to 32x32 (box filter; aspect ratio not kept)"]
    with pytest.raises(InputError, match="unknown sample 'dog'"):
        load_sample("dog", (32, 32, 3), mnist_test=None)


def test_fitting_by_box_filter_averages_blocks():
    image = np.kron(np.arange(4, dtype=np.float32).reshape(2, 2) / 4, np.ones((3, 3), np.float32))[..., None]
    pixels, notes = fit_image(image, (2, 2, 1))       # each output pixel is the mean of one 3x3 block
    np.testing.assert_allclose(pixels[..., 0], [[0, 0.25], [0.5, 0.75]], atol=1e-6)
    assert notes[-1] == "resized from 6x6 to 2x2 (box filter; aspect ratio not kept)"


def test_models_without_images_are_refused():
    dense = striate.Sequential([L.Dense(3, input_shape=(5,))])
    with pytest.raises(ValueError, match=r"needs a model of images \(N, H, W, C\); received input shape \(None, 5\)"):
        Explorer(dense)


def parse(*argv):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(argv)


def test_the_command_refuses_a_missing_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.safetensors does not exist"):
        command.run(parse(str(tmp_path)))


def test_the_command_refuses_a_port_in_use(model_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}: Address already in use"):
            command.run(parse(str(model_path), "--port", str(port)))


def test_the_command_serves_until_ctrl_c(server_url):
    import urllib.request

    with urllib.request.urlopen(server_url + "api/model") as response:    # nothing outside this machine
        assert response.status == 200 and b'"tiny_cnn"' in response.read()
    assert server_url.startswith("http://127.0.0.1:")                      # 127.0.0.1 unless told otherwise


def test_concurrent_saliency_requests_give_the_sequential_answers_and_leave_the_weights_alone(
        explorer, mnist_test_images):
    """8 threads ask for saliency and guided maps at once (the Explorer holds no lock around them): each answer
    equals the one given alone, and no weight's requires_grad or .grad changes even for a moment (a watcher
    thread polls them all along)."""
    images = mnist_test_images[0][:8]
    requests = [(image[..., 0].tolist(), method) for image, method in zip(images, ["saliency", "guided"] * 4)]
    sequential = [explorer.attribution(pixels, method) for pixels, method in requests]
    weights = explorer.model.weights
    changes, done = [], threading.Event()

    def watch():
        while not done.is_set():
            changes.extend(w.name for w in weights if w.grad is not None or not w.requires_grad)

    start = threading.Barrier(len(requests))

    def ask(request):
        start.wait()
        return explorer.attribution(*request)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            concurrent = list(pool.map(ask, requests))
    finally:
        done.set()
        watcher.join()
    assert concurrent == sequential
    assert changes == []
