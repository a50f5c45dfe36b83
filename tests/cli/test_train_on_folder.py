"""`striate train MODEL --data FOLDER`: a network sized to the images and classes learns an easy synthetic task
(warm vs cool colours, PNG and JPEG of mixed sizes, an RGBA and a palette image, one damaged file) from a folder
the test writes, scored on a separate test folder; `striate evaluate` scores the run again."""

import json

import numpy as np
import pytest
from PIL import Image

from striate.cli import main

CLASSES = ("cool", "warm")


def colour_image(label, rng):
    """A noisy image of one colour: warm (red high, blue low) for label 1, cool (blue high, red low) for 0."""
    high, low = rng.integers(150, 256), rng.integers(0, 90)
    green = rng.integers(0, 200)
    colour = (high, green, low) if label == 1 else (low, green, high)
    height, width = rng.integers(10, 40, 2)
    noise = rng.integers(-20, 21, (height, width, 3))
    return np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)


def write_folder(root, per_class, seed):
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(colour_image(label, rng)).save(root / name / f"{i}.{'png' if i % 2 else 'jpg'}")
    warm = colour_image(1, rng)
    Image.fromarray(np.dstack([warm, np.full(warm.shape[:2], 128, np.uint8)]), "RGBA").save(root / "warm" / "rgba.png")
    Image.fromarray(colour_image(0, rng)).convert("P").save(root / "cool" / "palette.png")
    (root / "warm" / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("colours")
    write_folder(root / "train", 30, seed=0)
    write_folder(root / "test", 15, seed=1)
    out = root / "run"
    with pytest.warns(UserWarning, match=r"skipped .*warm/damaged\.jpg"):
        status = main(["train", "lenet5", "--data", str(root / "train"), "--test-data", str(root / "test"),
                       "--image-size", "16", "16", "--epochs", "6", "--batch-size", "8", "--learning-rate", "0.01",
                       "--out", str(out), "--quiet"])
    assert status == 0
    return root, out


def test_a_zoo_network_sized_to_the_folder_learns_warm_from_cool(trained, capsys):
    root, out = trained
    record = json.loads((out / "run.json").read_text())
    assert record["class_names"] == ["cool", "warm"] and record["image_size"] == [16, 16]
    assert record["training_images"] + record["validation_images"] == 2 * 30 + 3  # + rgba, palette, damaged
    assert record["validation_images"] == int(0.2 * 63)
    assert record["skipped_files"] == [str(root / "train" / "warm" / "damaged.jpg")]
    assert record["history"]["val_accuracy"][-1] >= 0.9
    with pytest.warns(UserWarning, match=r"skipped .*test/warm/damaged\.jpg"):
        main(["evaluate", str(out)])
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.9, printed
    assert "(32 images)" in printed and "0 = cool, 1 = warm" in printed  # the damaged test file skipped


def test_mnist_options_are_refused_with_a_folder(tmp_path, capsys):
    write_folder(tmp_path / "data", 2, seed=2)
    assert main(["train", "lenet5", "--data", str(tmp_path / "data"), "--limit", "10", "--out", str(tmp_path)]) == 2
    assert "--limit and --validation are for --dataset mnist; with --data use --validation-split" in \
        capsys.readouterr().err
    assert main(["train", "lenet5", "--test-data", str(tmp_path / "data"), "--out", str(tmp_path)]) == 2
    assert "--test-data goes with --data" in capsys.readouterr().err
