"""A run folder: one live run at a time (the holder's pid named), a dead run's lock and temporary files
cleared, settings compared on resume, and the history kept across sessions."""

import json
import os
import subprocess
import sys

import pytest

from striate.training import run_directory
from striate.training.run_directory import RunLocked, RunRecord


def dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_second_run_is_refused_naming_the_pid_of_the_live_holder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from striate.training.run_directory import lock; "
         f"held = lock({str(tmp_path)!r}); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLocked, match=rf"in use by another striate train \(pid {holder.pid}\)"):
            run_directory.lock(str(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    run_directory.lock(str(tmp_path)).close()  # the kernel dropped the killed holder's lock


def test_the_lock_of_a_dead_run_is_taken_over_and_names_the_new_holder(tmp_path):
    (tmp_path / ".striate.lock").write_text(f"{dead_pid()}\n")
    file = run_directory.lock(str(tmp_path))
    try:
        assert (tmp_path / ".striate.lock").read_text() == f"{os.getpid()}\n"
    finally:
        file.close()


def test_temporary_files_of_dead_processes_are_removed_and_others_kept(tmp_path):
    stale = f".striate-{dead_pid()}-0a1b2c3d.tmp"
    live = f".striate-{os.getppid()}-0a1b2c3d.tmp"  # our parent: alive
    for name in (stale, live, "model.safetensors", ".striate-notapid.tmp"):
        (tmp_path / name).write_text("x")
    assert run_directory.remove_stale_temporary_files(str(tmp_path)) == [stale]
    assert sorted(os.listdir(tmp_path)) == sorted([live, "model.safetensors", ".striate-notapid.tmp"])


def test_check_settings_names_each_difference_with_both_values():
    record = {"model": "lenet5", "batch_size": 32, "learning_rate": None, "image_size": [28, 28]}
    run_directory.check_settings(record, {"model": "lenet5", "batch_size": 32, "image_size": (28, 28),
                                          "epochs_unrecorded": 5}, "out/run.json")
    with pytest.raises(ValueError, match=r"out/run.json was trained with other settings: batch_size 32 there, 64 now; "
                                         r"learning_rate None there, 0.1 now\."):
        run_directory.check_settings(record, {"model": "lenet5", "batch_size": 64, "learning_rate": 0.1},
                                     "out/run.json")


def test_the_record_keeps_the_earlier_epochs_and_appends_this_sessions(tmp_path):
    previous = {"history": {"loss": [3.0, 2.0, 1.5], "accuracy": [0.1, 0.2, 0.3]}}  # a third epoch was lost
    record = RunRecord(str(tmp_path), {"model": "lenet5"}, previous, epochs_before=2)
    record.on_epoch_end(2, {"loss": 1.0, "accuracy": 0.5})
    written = json.loads((tmp_path / "run.json").read_text())
    assert written == {"model": "lenet5", "epochs_trained": 3,
                       "history": {"loss": [3.0, 2.0, 1.0], "accuracy": [0.1, 0.2, 0.5]}}
