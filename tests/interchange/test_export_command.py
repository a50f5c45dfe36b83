"""`striate export DIR --format onnx --out model.onnx` writes the trained model that ONNX Runtime runs."""

import argparse

import numpy as np
import onnxruntime
import pytest

from striate import models
from striate.cli import CommandError
from striate.cli import export as export_command


def run_export(*argv):
    parser = argparse.ArgumentParser()
    export_command.add_arguments(parser)
    return export_command.run(parser.parse_args([str(a) for a in argv]))


def test_export_writes_the_run_directorys_model_as_onnx(tmp_path, capsys):
    model = models.lenet5(input_shape=(28, 28, 1))
    model.save(tmp_path / "model.safetensors")
    out = tmp_path / "exported.onnx"
    assert run_export(tmp_path, "--format", "onnx", "--out", out) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    (actual,) = onnxruntime.InferenceSession(str(out)).run(None, {"input": x})
    np.testing.assert_allclose(actual, model.predict(x), rtol=1e-4, atol=1e-6)


def test_export_without_out_writes_next_to_the_model(tmp_path):
    models.mnist_cnn().save(tmp_path / "model.safetensors")
    assert run_export(tmp_path) == 0
    assert (tmp_path / "model.onnx").stat().st_size > 0


def test_export_of_a_folder_without_a_model_says_how_to_make_one(tmp_path):
    with pytest.raises(CommandError, match=r"model.safetensors does not exist \(train with `striate train"):
        run_export(tmp_path)
