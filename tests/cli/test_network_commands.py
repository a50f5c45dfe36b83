"""`striate summary MODEL` and `striate plan MODEL [--input HxWxC]` for every classic network."""

import pytest

from striate import models
from striate.cli import main

SMALL_INPUTS = {"lenet5": "32x32x1", "mnist_cnn": "28x28x1", "alexnet": "67x67x3"}


@pytest.mark.parametrize("name", list(models.NETWORKS))
def test_plan_and_summary_of_every_network(name, capsys):
    size = SMALL_INPUTS.get(name, "32x32x3")
    assert main(["plan", name, "--input", size, "--classes", "10"]) == 0
    printed = capsys.readouterr().out
    assert 'Plan: "' in printed and "Multiply-accumulates:" in printed and "RF size" in printed
    assert main(["summary", name, "--input", size, "--classes", "10"]) == 0
    assert "Total params:" in capsys.readouterr().out


def test_plan_of_mobilenet_at_its_native_size(capsys):
    assert main(["plan", "mobilenet_v1", "--input", "224x224x3"]) == 0
    printed = capsys.readouterr().out
    assert "Multiply-accumulates: 568,740,352" in printed and "Parameters: 4,253,864 (4,231,976 trainable)" in printed


def test_plan_markdown_and_summary_arithmetic(capsys):
    assert main(["plan", "lenet5", "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("| Layer (type) |")
    assert main(["summary", "lenet5", "--arithmetic"]) == 0
    assert "MACs" in capsys.readouterr().out


@pytest.mark.parametrize("arguments, message", [
    (["plan", "lenet6"], "unknown model 'lenet6'"),
    (["plan", "lenet5", "--input", "32by32"], "--input must look like HxWxC"),
    (["summary", "vgg16", "--input", "3x32x32"], "did you pass NCHW?"),
])
def test_user_errors_are_one_message_and_status_2(arguments, message, capsys):
    assert main(arguments) == 2
    assert message in capsys.readouterr().err
