"""`mpiexec -n N striate train lenet5 --distributed`: rank 0 alone prints and writes; a checkpoint written by a
2-rank run resumes on 1 process and on 3 ranks (the checkpoint does not depend on the number of ranks), and
both end where one uninterrupted process ends."""

import json
import shutil
import sys

import numpy as np
import pytest
from mpi_jobs import run_job

import striate
from striate.cli import main

# 250 images: 200 to train (6 batches of 32, then 8: 3 + 3 + 2 over 3 ranks) and 50 held out
TRAIN = ["train", "lenet5", "--limit", "250", "--validation", "50", "--batch-size", "32", "--optimizer", "sgd",
         "--learning-rate", "0.05", "--quiet"]


def striate_job(processes, *arguments):
    return run_job(processes, [sys.executable, "-m", "striate", *TRAIN, "--distributed", *arguments])


def weights(folder):
    return [w.data for w in striate.load_model(folder / "model.safetensors").weights]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Folders: one process for 2 epochs; 1 epoch on 2 ranks, then resumed for the 2nd on 1 process / 3 ranks."""
    root = tmp_path_factory.mktemp("train")
    assert main([*TRAIN, "--epochs", "2", "--out", str(root / "single")]) == 0
    first = striate_job(2, "--epochs", "1", "--out", root / "two")
    shutil.copytree(root / "two", root / "three")
    assert main([*TRAIN, "--epochs", "2", "--resume", "--out", str(root / "two")]) == 0
    striate_job(3, "--epochs", "2", "--resume", "--out", root / "three")
    return root, first


def test_only_rank_0_prints_and_writes(runs):
    root, first = runs
    assert first.stdout.count("trained lenet5 on mnist for 1 epochs") == 1
    assert first.stdout.count("test accuracy:") == 1
    assert sorted(path.name for path in (root / "three").iterdir() if not path.name.startswith(".")) == [
        "checkpoint.safetensors", "model.safetensors", "run.json"]


@pytest.mark.parametrize("resumed", ["two", "three"], ids=["resumed on 1 process", "resumed on 3 ranks"])
def test_a_checkpoint_of_2_ranks_resumes_on_any_number_and_ends_where_one_process_ends(runs, resumed):
    root, _ = runs
    for actual, expected in zip(weights(root / resumed), weights(root / "single"), strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    history = json.loads((root / resumed / "run.json").read_text())["history"]
    expected = json.loads((root / "single" / "run.json").read_text())["history"]
    assert len(history["loss"]) == 2
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-5, err_msg=key)
