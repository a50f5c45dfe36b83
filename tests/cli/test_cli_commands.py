"""The command line: train, evaluate and predict on real MNIST, and one-line errors without tracebacks."""

import json
import subprocess
import sys

import numpy as np
import pytest

from striate.cli import main


@pytest.fixture(scope="module")
def trained_directory(tmp_path_factory):
    pytest.importorskip("PIL")
    directory = tmp_path_factory.mktemp("lenet")
    status = main(["train", "lenet5", "--epochs", "1", "--limit", "3000", "--validation", "500", "--batch-size", "32",
                   "--out", str(directory), "--quiet"])
    assert status == 0
    return directory


def test_train_reports_accuracy_and_confusion_matrix(trained_directory, capsys):
    assert (trained_directory / "model.safetensors").exists() and (trained_directory / "run.json").exists()
    main(["evaluate", str(trained_directory)])
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy: ")[1].split()[0])
    assert accuracy > 0.85  # one epoch on 3,000 images; chance is 0.10
    assert "confusion matrix" in printed and "macro avg" in printed


def test_predict_reads_a_png_of_a_test_digit(trained_directory, tmp_path, capsys):
    from PIL import Image

    from striate.datasets import mnist

    _, (x_test, y_test) = mnist.load_data()
    index = int(np.flatnonzero(y_test == 1)[0])  # a "1" is the easiest digit
    Image.fromarray(x_test[index]).save(tmp_path / "digit.png")
    assert main(["predict", str(trained_directory), str(tmp_path / "digit.png")]) == 0
    assert capsys.readouterr().out.startswith("predicted: 1")


def test_wrong_image_size_is_a_one_line_error(trained_directory, tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "big.png")
    assert main(["predict", str(trained_directory), str(tmp_path / "big.png")]) == 2
    expected = f"striate predict: {tmp_path / 'big.png'} is 32x32 pixels; the model expects 28x28\n"
    assert capsys.readouterr().err == expected


def run_command(*arguments):
    return subprocess.run([sys.executable, "-m", "striate", *arguments], capture_output=True, text=True)


def test_unknown_model_exits_non_zero_without_traceback(tmp_path):
    result = run_command("train", "resnet9000", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("striate train: unknown model 'resnet9000'") and "Traceback" not in result.stderr


def test_missing_directory_is_a_one_line_error(tmp_path):
    result = run_command("evaluate", str(tmp_path / "nothing"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "does not exist" in result.stderr


def test_corrupt_model_file_is_a_one_line_error(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\x80\x04garbage")
    (tmp_path / "run.json").write_text('{"model": "lenet5", "dataset": "mnist"}')
    result = run_command("evaluate", str(tmp_path))
    assert result.returncode == 2 and "not a safetensors file" in result.stderr and "Traceback" not in result.stderr


def test_train_validates_on_held_out_training_images_never_on_test_images(tmp_path, monkeypatch):
    import striate.training.fit
    from striate.cli import train
    (x_train, _), (x_test, _) = train.load_dataset("mnist")
    seen = {}
    real_fit = striate.training.fit.fit

    def recording_fit(model, x, y, **options):
        seen["x"], seen["validation"] = x, options["validation_data"]
        return real_fit(model, x, y, **options)

    monkeypatch.setattr(striate.training.fit, "fit", recording_fit)
    assert main(["train", "lenet5", "--epochs", "1", "--limit", "600", "--validation", "100", "--out", str(tmp_path),
                 "--quiet"]) == 0
    assert np.array_equal(seen["x"], x_train[:500]) and np.array_equal(seen["validation"][0], x_train[500:600])
    test_set = {image.tobytes() for image in x_test}
    assert x_test[7].tobytes() in test_set  # the comparison can find a test image
    assert not any(image.tobytes() in test_set for image in seen["validation"][0])
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["validation_images"] == 100 and "val_accuracy" in record["history"]


def test_validation_as_large_as_the_training_set_is_refused(tmp_path, capsys):
    assert main(["train", "lenet5", "--limit", "300", "--validation", "300", "--out", str(tmp_path)]) == 2
    assert "--validation 300: must be at least 0 and leave training images (there are 300)" in capsys.readouterr().err


def test_a_huge_image_to_predict_is_refused_in_one_line_before_decoding(trained_directory, tmp_path, capsys):
    from PIL import Image

    Image.new("1", (20000, 20000)).save(tmp_path / "huge.png")
    assert main(["predict", str(trained_directory), str(tmp_path / "huge.png")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"striate predict: images.read: {tmp_path / 'huge.png'} is ") and error.count("\n") == 1
