"""Fuzzing the model reader with hypothesis: damaged bytes, random headers and random architectures all end in
a model or in one FileFormatError line naming the file, never in another exception or a hang.

Each test runs STRIATE_FUZZ_EXAMPLES cases (100 by default, so a few hundred in all, in seconds); set it to
10000 for a long run.
"""

import json
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import striate
from crafted_model_files import saved_model, write
from striate.core.errors import FileFormatError

EXAMPLES = int(os.environ.get("STRIATE_FUZZ_EXAMPLES", "100"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def saved(folder):
    return saved_model(folder / "valid.safetensors")


def load_or_refuse(path):
    """Load `path`; a refusal must be one FileFormatError line that names the file."""
    try:
        striate.load_model(path, restore_random_state=False)
    except FileFormatError as error:
        message = str(error)
        assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 600, message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**32), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 2**32)),
    st.tuples(st.just("insert"), st.integers(0, 2**32), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("overwrite"), st.integers(0, 2**32), st.binary(min_size=1, max_size=16)),
)


@fuzz
@given(mutations=st.lists(mutation, min_size=1, max_size=4), near_start=st.booleans())
def test_damaged_bytes_are_refused_in_one_line(saved, folder, mutations, near_start):
    path = folder / "damaged.safetensors"
    write(path, *saved)
    content = bytearray(path.read_bytes())
    for kind, position, *rest in mutations:
        position %= 64 if near_start else len(content) + 1  # the length field and the header's start, or anywhere
        if kind == "flip" and position < len(content):
            content[position] ^= 1 << rest[0]
        elif kind == "truncate":
            del content[position:]
        elif kind == "insert":
            content[position:position] = rest[0]
        elif kind == "overwrite":
            content[position : position + len(rest[0])] = rest[0]
    path.write_bytes(bytes(content))
    load_or_refuse(path)


tensor_entry = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "BF16", "F8_E4M3", "X"]) | json_values,
    "shape": st.lists(st.integers(0, 5), max_size=4) | json_values,
    "data_offsets": st.lists(st.integers(0, 64), min_size=2, max_size=2) | json_values,
})


@fuzz
@given(header=st.dictionaries(st.text(max_size=10), tensor_entry | json_values, max_size=4),
       metadata=st.none() | json_values | st.dictionaries(st.sampled_from(["format", "version", "architecture",
                                                                            "sha256"]), st.text(max_size=20)),
       data=st.binary(max_size=64))
def test_random_headers_are_refused_in_one_line(folder, header, metadata, data):
    if metadata is not None:
        header = {**header, "__metadata__": metadata}
    encoded = json.dumps(header).encode()
    path = folder / "header.safetensors"
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    load_or_refuse(path)


def paths_in(tree, prefix=()):
    """Every (keys...) path to a value inside a JSON tree."""
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += paths_in(value, (*prefix, index))
    return found


@fuzz
@given(data=st.data())
def test_random_architectures_build_or_are_refused_in_one_line(saved, folder, data):
    """Replace one value anywhere in the architecture (the digest recomputed, as a crafter would)."""
    tensors, metadata = saved
    architecture = json.loads(metadata["architecture"])
    keys = data.draw(st.sampled_from(paths_in(architecture)[1:]))
    replacement = data.draw(json_values | st.integers(-3, 300_000))
    tree = architecture
    for key in keys[:-1]:
        tree = tree[key]
    tree[keys[-1]] = replacement
    path = folder / "architecture.safetensors"
    write(path, tensors, metadata, architecture=architecture)
    load_or_refuse(path)
