"""Crafted model files: each one is refused with one FileFormatError line naming the file and the fault, before
striate allocates more than the file holds; the CLI prints it as one line, and a bug with its traceback.

Files are crafted with the `safetensors` package itself and the digest formula written out in
tests/crafted_model_files.py, as someone editing a file would: a crafted file passes the digest and must be
stopped by the loader's own checks.
"""

import copy
import json
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import striate
from crafted_model_files import saved_model, write
from striate import layers as L
from striate.core.errors import FileFormatError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return saved_model(tmp_path_factory.mktemp("saved") / "model.safetensors")


def architecture_edit(edit):
    def craft(path, tensors, metadata):
        architecture = json.loads(metadata["architecture"])
        edit(architecture)
        write(path, tensors, metadata, architecture=architecture)
    return craft


def settings_edit(edit):
    def craft(path, tensors, metadata):
        settings = json.loads(metadata["compile"])
        edit(settings)
        write(path, tensors, metadata, settings=settings)
    return craft


def metadata_edit(**changes):
    def craft(path, tensors, metadata):
        metadata = {**metadata, **changes}
        write(path, tensors, {k: v for k, v in metadata.items() if v is not None})
    return craft


def tensors_edit(edit):
    def craft(path, tensors, metadata):
        tensors = dict(tensors)
        edit(tensors)
        write(path, tensors, metadata)
    return craft


def bytes_edit(edit):
    def craft(path, tensors, metadata):
        write(path, tensors, metadata)
        path.write_bytes(edit(bytearray(path.read_bytes())))
    return craft


def header_by_hand(header):
    def craft(path, tensors, metadata):
        encoded = json.dumps(header).encode()
        path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + bytes(4))
    return craft


def flip(position):
    def edit(content):
        content[position] ^= 0x10
        return bytes(content)
    return edit


def set_in(*keys_and_value):
    *keys, value = keys_and_value

    def edit(tree):
        for key in keys[:-1]:
            tree = tree[key]
        tree[keys[-1]] = value
    return edit


def delete(*keys):
    def edit(tree):
        for key in keys[:-1]:
            tree = tree[key]
        del tree[keys[-1]]
    return edit


def directory(path, tensors, metadata):
    path.mkdir()


# layers: 0 Conv2D, 1 Flatten, 2 Dense; nodes 0, 1, 2 in that order; weights: kernel, bias, kernel, bias
CASES = {
    "truncated": (bytes_edit(lambda content: bytes(content[:-100])), "truncated or damaged"),
    "bit-flipped-weight": (bytes_edit(flip(-5)), "do not match their sha256 digest"),
    "bit-flipped-header-length": (bytes_edit(flip(1)), "not a safetensors file"),
    "bit-flipped-header": (bytes_edit(flip(12)), "not a safetensors file"),
    "a-directory": (directory, "a directory, not a safetensors file"),
    "float-shape": (header_by_hand({"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}), "floating"),
    "string-shape": (header_by_hand({"a": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}}), "string"),
    "float-offsets": (header_by_hand({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}}), "floating"),
    "string-offsets": (header_by_hand({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}}), "string"),
    "metadata-list": (header_by_hand({"__metadata__": ["format", "striate-model"]}), "expected a map"),
    "foreign-format": (metadata_edit(format="pt"), "not a striate model file (format 'pt')"),
    "no-format": (metadata_edit(format=None), "not a striate model file (format None)"),
    "newer-version": (metadata_edit(version="2"), "of version '2'; this striate reads version 1"),
    "architecture-nested-json": (metadata_edit(architecture="[" * 100_000 + "]" * 100_000),
                                 "'architecture' is not JSON"),
    "architecture-not-json": (metadata_edit(architecture="{nope"), "'architecture' is not JSON"),
    "architecture-a-list": (metadata_edit(architecture="[1, 2]"), "'architecture' must be a JSON dict"),
    "architecture-no-class": (architecture_edit(set_in("class_name", "Evil")), "class_name 'Sequential' or"),
    "architecture-missing-layers": (architecture_edit(delete("layers")), "with the keys ['class_name', 'inputs'"),
    "architecture-missing-nodes": (architecture_edit(delete("nodes")), "with the keys"),
    "layer-missing-config": (architecture_edit(delete("layers", 0, "config")), "architecture['layers'][0] must be"),
    "layer-config-a-list": (architecture_edit(set_in("layers", 0, "config", [1])), "architecture['layers'][0] must"),
    "layer-extra-kwargs": (architecture_edit(set_in("layers", 2, "config", "bogus", 1)), "unexpected keyword argument"),
    "layer-unknown-class": (architecture_edit(set_in("layers", 1, "class_name", "system")), "unknown layer class"),
    "layer-base-class": (architecture_edit(set_in("layers", 1, "class_name", "Layer")), "unknown layer class 'Layer'"),
    "node-bad-layer-index": (architecture_edit(set_in("nodes", 1, "layer", 99)), "architecture['nodes'][1] must"),
    "node-negative-layer-index": (architecture_edit(set_in("nodes", 1, "layer", -1)), "architecture['nodes'][1] must"),
    "node-bad-input-index": (architecture_edit(set_in("nodes", 0, "inputs", 0, ["input", 3])), "['input', i < 1]"),
    "node-forward-reference": (architecture_edit(set_in("nodes", 0, "inputs", 0, ["node", 0])), "['node', j < 0]"),
    "node-no-inputs": (architecture_edit(set_in("nodes", 0, "inputs", [])), "non-empty list"),
    "output-bad-reference": (architecture_edit(set_in("output", ["node", 9])), "architecture['output'] must be"),
    "output-bad-kind": (architecture_edit(set_in("output", ["layer", 0])), "architecture['output'] must be"),
    "input-shape-float": (architecture_edit(set_in("inputs", 0, [6.5, 6, 1])), "a list of sizes"),
    "input-shape-string": (architecture_edit(set_in("inputs", 0, "6x6x1")), "a list of sizes"),
    "more-units-than-the-file-holds": (architecture_edit(set_in("layers", 2, "config", "units", 11)),
                                       "needs 1,408 bytes, more than the 1,320 bytes of weights left"),
    "fewer-units-than-the-file-holds": (architecture_edit(set_in("layers", 2, "config", "units", 9)),
                                        "of shape (32, 9), the file's float32 of shape (32, 10)"),
    "negative-units": (architecture_edit(set_in("layers", 2, "config", "units", -3)), "non-negative integers"),
    "float-units": (architecture_edit(set_in("layers", 2, "config", "units", 2.5)), "of shape (32, 2), the file's"),
    "zero-strides": (architecture_edit(set_in("layers", 0, "config", "strides", [0, 0])), "cannot be built"),
    "string-kernel-size": (architecture_edit(set_in("layers", 0, "config", "kernel_size", "big")), "cannot be built"),
    "unknown-activation": (architecture_edit(set_in("layers", 2, "config", "activation", "rm -rf")), "cannot be built"),
    "epoch-not-a-number": (metadata_edit(epoch="three"), "'epoch' must be a whole number"),
    "epoch-negative": (metadata_edit(epoch="-1"), "'epoch' must be a whole number"),
    "random-state-a-list": (metadata_edit(random_state="[1]"), "'random_state' must be a JSON dict"),
    "random-state-other-generator": (metadata_edit(random_state=json.dumps({"bit_generator": "MT19937"})),
                                     "'random_state' is not a state of striate's generator"),
    "random-state-function-name": (metadata_edit(random_state=json.dumps({"bit_generator": "seed"})),
                                   "'random_state' is not a state of striate's generator"),
    "compile-unknown-optimizer": (settings_edit(set_in("optimizer", "class_name", "Evil")), "compile settings"),
    "compile-missing-loss": (settings_edit(delete("loss")), "compile settings"),
    "compile-unknown-metric": (settings_edit(set_in("metrics", ["os.system"])), "compile settings"),
    "optimizer-slot-wrong-shape": (tensors_edit(set_in("optimizer/slot/0/momentum", np.zeros(3, np.float32))),
                                   "'optimizer/slot/0/momentum' (float32, shape (3,)) does not fit SGD"),
    "optimizer-slot-out-of-range": (tensors_edit(set_in("optimizer/slot/9/momentum", np.zeros(2, np.float32))),
                                    "'optimizer/slot/9/momentum'"),
    "optimizer-unknown-slot": (tensors_edit(set_in("optimizer/slot/0/velocity", np.zeros(2, np.float32))),
                               "'optimizer/slot/0/velocity'"),
    "optimizer-iterations-float": (tensors_edit(set_in("optimizer/iterations", np.array(1.5))), "'optimizer/iter"),
    "a-weight-missing": (tensors_edit(delete("weight/0003")), "more than the"),
    "a-weight-float64": (tensors_edit(lambda t: t.update({"weight/0003": t["weight/0003"].astype(np.float64)})),
                         "is float32 of shape (10,), the file's float64 of shape (10,)"),
    "an-extra-weight": (tensors_edit(set_in("weight/0004", np.zeros(1, np.float32))), "holds 5 weight arrays"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_crafted_file_is_one_line_naming_the_file_and_the_fault(saved, tmp_path, case):
    craft, problem = CASES[case]
    path = tmp_path / "model.safetensors"
    craft(path, *saved)
    with pytest.raises(FileFormatError) as caught:
        striate.load_model(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 400, message
    assert problem in message, message


def test_the_uncrafted_file_loads(saved, tmp_path):
    """The table's starting point is a valid file: every refusal above is the edit's doing."""
    write(tmp_path / "model.safetensors", *saved)
    assert striate.load_model(tmp_path / "model.safetensors").count_params() == 2 * 9 + 2 + 32 * 10 + 10


def test_a_dense_of_200000_units_in_a_small_file_is_refused_before_allocating(saved, tmp_path):
    path = tmp_path / "model.safetensors"
    architecture_edit(set_in("layers", 2, "config", "units", 200_000))(path, *saved)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"dense\w*/kernel of shape \(32, 200000\) \(float32\) needs "
                                                  r"25,600,000 bytes, more than the 1,320 bytes"):
            striate.load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # the kernel alone would be 25.6 MB (NumPy reports its arrays to tracemalloc)


def test_a_failed_load_leaves_the_random_generator_as_it_was(saved, tmp_path):
    path = tmp_path / "model.safetensors"
    architecture_edit(set_in("layers", 2, "config", "units", 11))(path, *saved)
    striate.set_random_seed(5)
    expected = np.random.default_rng(5).random()
    with pytest.raises(FileFormatError):
        striate.load_model(path)
    assert striate.core.random.generator().random() == expected


def test_a_weights_only_file_given_to_load_model_says_so(tmp_path):
    model = striate.Sequential([L.Dense(2, input_shape=(3,))])
    model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(FileFormatError, match="a weights-only file; build the model and call load_weights"):
        striate.load_model(tmp_path / "w.safetensors")


def run_command(*arguments):
    return subprocess.run([sys.executable, "-m", "striate", *arguments], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_evaluate_on_a_fifo_is_one_line_at_once(tmp_path):
    import os

    os.mkfifo(tmp_path / "model.safetensors")
    (tmp_path / "run.json").write_text('{"model": "lenet5", "dataset": "mnist"}')
    result = run_command("evaluate", str(tmp_path))  # hung forever before: the timeout would fail it
    assert result.returncode == 2
    assert result.stderr == f"striate evaluate: {tmp_path / 'model.safetensors'}: a FIFO (named pipe), not a " \
                            "safetensors file: striate reads models from regular files only\n"


def test_a_crafted_file_to_evaluate_is_one_line_without_traceback(saved, tmp_path):
    architecture_edit(set_in("nodes", 1, "layer", 99))(tmp_path / "model.safetensors", *saved)
    (tmp_path / "run.json").write_text('{"model": "x", "dataset": "mnist"}')
    result = run_command("evaluate", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"striate evaluate: {tmp_path / 'model.safetensors'}: the architecture cannot be "
                                    "built: architecture['nodes'][1] must be an object {layer: index < 3")


def test_an_unexpected_exception_is_printed_with_its_traceback_and_a_request_to_report_it(monkeypatch, capsys):
    from striate.cli import main, tour

    def broken(arguments):
        raise KeyError("a bug")

    monkeypatch.setattr(tour, "run", broken)
    assert main(["tour"]) == 1
    printed = capsys.readouterr().err
    assert printed.startswith("Traceback (most recent call last):") and "KeyError: 'a bug'" in printed
    assert printed.rstrip().endswith("Please report it with the command you ran and the traceback above.")


def test_the_architecture_check_leaves_what_architecture_of_wrote_unchanged(saved):
    """model_from_architecture checks a copy's structure only: it neither edits nor needs more than it wrote."""
    architecture = json.loads(saved[1]["architecture"])
    before = copy.deepcopy(architecture)
    striate.models.saving.model_from_architecture(architecture)
    assert architecture == before
