"""`striate train` runs that go wrong: killed mid-epoch and resumed bit for bit, two runs on one --out, resumes
that keep the history, a resume with other settings refused, leftovers removed, NaN stopping training."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from striate.cli import main
from striate.models.saving import load_metadata, load_model

TINY = ["--limit", "320", "--validation", "0", "--batch-size", "32", "--seed", "1", "--quiet"]  # 10 steps per epoch


def train(out, *options, model="lenet5"):
    return main(["train", model, "--out", str(out), *TINY, *options])


def slowed_train(out, *options, pause=0.2):
    """A real `striate train` process that pauses `pause` s after each checkpoint, so a test can catch it
    mid-epoch (the pause changes no number)."""
    script = ("import sys, time; import striate.training.checkpoint as c; save = c.save_model\n"
              "def slow(*a, **k):\n    save(*a, **k); time.sleep(float(sys.argv[1]))\n"
              "c.save_model = slow\nfrom striate.cli import main\nsys.exit(main(sys.argv[2:]))")
    return subprocess.Popen([sys.executable, "-c", script, str(pause), "train", "lenet5", "--out", str(out), *TINY,
                             *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(condition, process, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the training process ended (status {process.returncode}) before {what}: "
                                 f"{process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.02)


def position(path):
    """(epochs finished, steps into the next epoch) of a checkpoint, or None while there is none."""
    try:
        metadata = load_metadata(path)
    except (OSError, ValueError):
        return None
    return int(metadata["epoch"]), int(metadata.get("step", "0"))


def weights(path):
    return [weight.data for weight in load_model(path).weights]


def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_runs_exact_weights(tmp_path, capsys):
    # --deterministic: the reference run is another process, which must choose the same convolution algorithms
    options = ["--epochs", "2", "--augment-shift", "2", "--checkpoint-every", "3", "--deterministic"]
    assert train(tmp_path / "whole", *options) == 0

    out = tmp_path / "killed"
    process = slowed_train(out, *options, pause=0.5)
    checkpoint = str(out / "checkpoint.safetensors")
    try:  # kill -9 once it has checkpointed some steps into the second epoch
        wait_for(lambda: (position(checkpoint) or (0, 0))[0] == 1 and position(checkpoint)[1] > 0, process,
                 "a checkpoint inside epoch 2")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = position(checkpoint)
    assert killed_at[0] == 1 and 0 < killed_at[1] < 10  # mid-epoch: a whole-epoch resume would lose steps
    assert not (out / "model.safetensors").exists()

    assert train(out, *options, "--resume") == 0
    uninterrupted = weights(tmp_path / "whole" / "model.safetensors")
    for mine, theirs in zip(weights(out / "model.safetensors"), uninterrupted, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    record = json.loads((out / "run.json").read_text())
    whole = json.loads((tmp_path / "whole" / "run.json").read_text())
    assert record["epochs_trained"] == 2 and len(record["history"]["loss"]) == 2
    assert record["history"]["loss"][0] == whole["history"]["loss"][0]
    assert record["resumes"] == [{"epoch": killed_at[0], "step": killed_at[1]}]


def test_a_second_run_on_the_same_out_is_refused_naming_the_first_runs_pid(tmp_path, capsys):
    first = slowed_train(tmp_path, "--epochs", "1", pause=30)
    lock = tmp_path / ".striate.lock"
    try:
        wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), first, "a lock")
        assert train(tmp_path, "--epochs", "1") == 2
        error = capsys.readouterr().err
        assert f"is in use by another striate train (pid {first.pid})" in error
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()


def test_run_json_keeps_every_epoch_across_two_resumes_and_a_resume_of_a_finished_run(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "1") == 0
    first = json.loads((tmp_path / "run.json").read_text())["history"]
    assert train(tmp_path, "--epochs", "2", "--resume") == 0
    assert train(tmp_path, "--epochs", "3", "--resume") == 0
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["epochs_trained"] == 3 and len(record["history"]["loss"]) == 3
    assert record["history"]["loss"][0] == first["loss"][0]
    assert record["resumes"] == [{"epoch": 1, "step": 0}, {"epoch": 2, "step": 0}]
    assert train(tmp_path, "--epochs", "3", "--resume") == 0  # nothing left to train
    assert json.loads((tmp_path / "run.json").read_text())["history"] == record["history"]


def test_resume_with_another_model_or_other_settings_is_refused_naming_both_values(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "1") == 0
    capsys.readouterr()
    assert train(tmp_path, "--epochs", "2", "--resume", model="mnist-cnn") == 2
    assert "model 'lenet5' there, 'mnist-cnn' now" in capsys.readouterr().err
    assert main(["train", "lenet5", "--out", str(tmp_path), *TINY[:-3], "--seed", "1", "--batch-size", "64",
                 "--epochs", "2", "--resume", "--quiet"]) == 2
    assert "batch_size 32 there, 64 now" in capsys.readouterr().err
    (tmp_path / "run.json").unlink()  # without the record, the checkpoint's own model name is still checked
    assert train(tmp_path, "--epochs", "2", "--resume", model="mnist-cnn") == 2
    assert "checkpoint.safetensors holds a lenet5 model, not mnist_cnn" in capsys.readouterr().err


def test_stale_temporary_files_are_removed_at_start(tmp_path, capsys):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    stale = tmp_path / f".striate-{process.pid}-0123abcd.tmp"  # as a killed atomic_write leaves it
    stale.write_bytes(b"half a checkpoint")
    assert train(tmp_path, "--epochs", "1") == 0
    assert not stale.exists() and f"removed {stale}" in capsys.readouterr().out
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_nan_weights_stop_training_keeping_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    from striate.cli import train as train_command

    make_optimizer = train_command.make_optimizer

    def poisoning_optimizer(*arguments):
        """The real optimizer, whose 5th update makes a weight NaN (as a diverging step would)."""
        optimizer = make_optimizer(*arguments)
        apply_gradients = optimizer.apply_gradients

        def apply(parameters):
            apply_gradients(parameters)
            if optimizer.iterations == 5:
                parameters[0].data[0, 0, 0, 0] = np.nan
        optimizer.apply_gradients = apply
        return optimizer

    monkeypatch.setattr(train_command, "make_optimizer", poisoning_optimizer)
    assert train(tmp_path, "--epochs", "2", "--checkpoint-every", "2") == 2
    error = capsys.readouterr().err
    checkpoint = tmp_path / "checkpoint.safetensors"
    assert ("training stopped: the loss became NaN or infinite in epoch 1, batch 6 (counting from 1); "
            f"{checkpoint} keeps the last good checkpoint (0 epochs and 4 steps;") in error
    assert not (tmp_path / "model.safetensors").exists()
    assert position(str(checkpoint)) == (0, 4)
    assert all(np.isfinite(weight).all() for weight in weights(checkpoint))
    assert "epoch 1, batch 6" in json.loads((tmp_path / "run.json").read_text())["stopped"]


def test_nan_in_the_input_stops_training_naming_the_batch(tmp_path, capsys, monkeypatch):
    from striate.cli import train as train_command

    load_dataset = train_command.load_dataset

    def with_a_nan_image(name):
        (x_train, y_train), test = load_dataset(name)
        x_train = x_train.copy()
        x_train[7] = np.nan
        return (x_train, y_train), test

    monkeypatch.setattr(train_command, "load_dataset", with_a_nan_image)
    assert train(tmp_path, "--epochs", "1") == 2
    error = capsys.readouterr().err
    assert "input batch" in error and "of epoch 1 (counting from 1) holds 784 NaN or infinite values" in error
    assert not (tmp_path / "model.safetensors").exists()


def test_predict_with_a_model_that_outputs_nan_exits_non_zero(tmp_path, capsys):
    from PIL import Image

    from striate.models import build_network
    from striate.models.saving import save_model

    model = build_network("lenet5", input_shape=(28, 28, 1))
    model.weights[-1].data[:] = np.nan  # the last bias: every output is NaN
    save_model(model, tmp_path / "model.safetensors", allow_non_finite=True)
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "digit.png")
    assert main(["predict", str(tmp_path), str(tmp_path / "digit.png")]) != 0
    assert "NaN" in capsys.readouterr().err


def test_deterministic_takes_the_first_candidate_algorithms_for_that_command_only(tmp_path, monkeypatch):
    import striate
    from striate.cli import train as train_command

    seen = []
    monkeypatch.setattr(train_command, "run_here",
                        lambda arguments: seen.append(striate.are_deterministic_algorithms_enabled()) or 0)
    assert train(tmp_path / "a", "--deterministic") == 0 and train(tmp_path / "b") == 0
    assert seen == [True, False] and striate.are_deterministic_algorithms_enabled() is False
