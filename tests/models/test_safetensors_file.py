"""The safetensors file layer: the layout of the specification, atomic writes, and files refused before they are
read: FIFOs, devices, directories, absurd header lengths, headers too large to be a model's."""

import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from striate.core.errors import FileFormatError
from striate.models import safetensors_file
from striate.models.safetensors_file import TensorFile


def by_hand(header, data=b""):
    """A safetensors file built from the specification: 8-byte little-endian length, JSON header, data."""
    encoded = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def test_the_layout_matches_the_specification(tmp_path):
    """Parse the written file by hand: 8-byte little-endian header length, JSON header, raw little-endian data."""
    path = tmp_path / "t.safetensors"
    safetensors_file.write(path, {"a": np.arange(3, dtype=np.float32), "b": np.ones((2, 2), np.float64)}, {"k": 1})
    content = path.read_bytes()
    (length,) = struct.unpack("<Q", content[:8])
    header = json.loads(content[8 : 8 + length])
    data = content[8 + length :]
    assert header["__metadata__"] == {"k": "1"}
    assert header["a"]["dtype"] == "F32" and header["a"]["shape"] == [3]
    assert header["b"]["dtype"] == "F64" and header["b"]["shape"] == [2, 2]
    begin, end = header["a"]["data_offsets"]
    assert np.frombuffer(data[begin:end], "<f4").tolist() == [0.0, 1.0, 2.0]
    begin, end = header["b"]["data_offsets"]
    assert np.frombuffer(data[begin:end], "<f8").tolist() == [1.0] * 4
    assert len(data) == 12 + 32 and (8 + length) % 8 == 0  # nothing else; the data starts 8-byte aligned


def test_a_file_written_by_hand_to_the_specification_is_read(tmp_path):
    path = tmp_path / "hand.safetensors"
    data = np.array([1.5, -2.0], "<f4").tobytes() + np.array(7, "<i8").tobytes() + b"\x01\x00"
    path.write_bytes(by_hand({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "n": {"dtype": "I64", "shape": [], "data_offsets": [8, 16]},
                              "m": {"dtype": "BOOL", "shape": [1, 2], "data_offsets": [16, 18]},
                              "__metadata__": {"format": "x"}}, data))
    with TensorFile(path) as file:
        assert file.metadata == {"format": "x"}
        assert file.shapes == {"w": (2,), "n": (), "m": (1, 2)}
        np.testing.assert_array_equal(file.read("w"), [1.5, -2.0])
        assert file.read("n").dtype == np.int64 and file.read("n") == 7
        np.testing.assert_array_equal(file.read("m"), [[True, False]])
        assert file.read("w").flags.writeable


def test_a_big_endian_array_is_written_little_endian(tmp_path):
    path = tmp_path / "be.safetensors"
    safetensors_file.write(path, {"a": np.array([1.0, 2.0], ">f4")})
    content = path.read_bytes()
    assert content.endswith(np.array([1.0, 2.0], "<f4").tobytes())


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "model.safetensors"
    safetensors_file.write(path, {"a": np.zeros(2, np.float32)})
    before = path.read_bytes()
    with pytest.raises(TypeError, match="complex64"):
        safetensors_file.write(path, {"a": np.zeros(2, np.complex64)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


PROBE = """
import sys, time
from striate.core.errors import FileFormatError
from striate.models.safetensors_file import TensorFile
for path in sys.argv[1:]:
    start = time.perf_counter()
    try:
        TensorFile(path)
    except FileFormatError as error:
        print(f"{time.perf_counter() - start:.3f} {error}", flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero (POSIX)")
def test_a_fifo_dev_zero_and_a_directory_are_refused_at_once(tmp_path):
    """Run in a child process with a timeout: before the fix the FIFO blocked forever and /dev/zero was read
    until memory ran out."""
    fifo, zero, folder = tmp_path / "fifo.safetensors", tmp_path / "zero.safetensors", tmp_path / "folder"
    os.mkfifo(fifo)
    os.symlink("/dev/zero", zero)
    folder.mkdir()
    result = subprocess.run([sys.executable, "-c", PROBE, str(fifo), str(zero), str(folder)], capture_output=True,
                            text=True, timeout=60)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 3, result.stderr
    for line, path, kind in zip(lines, (fifo, zero, folder), ("a FIFO", "a character device", "a directory")):
        seconds, message = line.split(" ", 1)
        assert float(seconds) < 1
        assert message.startswith(f"{path}: {kind}")


MEMORY_PROBE = """
import resource, sys
from striate.core.errors import FileFormatError
from striate.models.safetensors_file import TensorFile
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    TensorFile(sys.argv[1])
except FileFormatError as error:
    print(error)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)  # KiB on Linux
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB and sparse files: Linux")
@pytest.mark.parametrize("claimed", [2**40, 3 * 2**30 - 8], ids=["absurd", "the-whole-file"])
def test_a_sparse_3_gib_file_is_refused_without_reading_it(tmp_path, claimed):
    path = tmp_path / "sparse.safetensors"
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", claimed) + b"{")
        file.truncate(3 * 2**30)
    result = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)], capture_output=True, text=True,
                            timeout=60)
    message, grown_kib = result.stdout.splitlines()
    assert message.startswith(f"{path}: not a")
    assert f"{claimed:,} bytes" in message
    assert int(grown_kib) < 50 * 1024  # the file was not read: 3 GiB would be 3,145,728 KiB


def test_a_header_of_1_4_million_empty_tensors_is_refused_before_parsing(tmp_path):
    entries = b",".join(b'"t%07d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}' % i for i in range(1_400_000))
    path = tmp_path / "many.safetensors"
    path.write_bytes(by_hand(b"{" + entries + b"}"))
    start = time.perf_counter()
    with pytest.raises(FileFormatError, match=f"a header of {len(entries) + 2:,} bytes, more than the 4,194,304"):
        TensorFile(path)
    assert time.perf_counter() - start < 0.5  # it was 18 s and 1.3 GB


def test_a_header_just_under_the_bound_is_parsed_quickly(tmp_path):
    """The worst a header within the bound can do: about 60,000 empty tensors, parsed in well under a second."""
    entry = b'"t%07d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}'
    count = safetensors_file.MAX_HEADER_BYTES // (len(entry % 0) + 1)
    path = tmp_path / "many.safetensors"
    path.write_bytes(by_hand(b"{" + b",".join(entry % i for i in range(count)) + b"}"))
    start = time.perf_counter()
    with TensorFile(path) as file:
        assert len(file.shapes) == count
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("header, data, problem", [
    (b"{" * 100_000 + b"}" * 100_000, b"", "not a safetensors file"),
    ({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}, bytes(4), "floating point"),
    ({"a": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}}, bytes(4), "invalid type: string"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4.0]}}, bytes(4), "floating point"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": ["0", 4]}}, bytes(4), "invalid type: string"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4), "invalid value: integer `-1`"),
    ({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 4]}}, bytes(4), "overflow"),
    ({"__metadata__": ["format"]}, b"", "expected a map"),
    ({"__metadata__": {"format": 1}}, b"", "expected a string"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8), "invalid offset"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(4), "truncated or damaged"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8), "not fully covered"),
    ({"a": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}}, bytes(4), "unknown variant `F31`"),
    ({"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, bytes(2), "dtype BF16, which striate does not"),
    ({"a": {"dtype": "U8", "shape": [1] * 65, "data_offsets": [0, 1]}}, bytes(1), "65 axes; striate reads at most 32"),
    ([1, 2], b"", "not a safetensors file"),
    (b'{"\xff": 1}', b"", "invalid UTF-8"),
], ids=["nested", "float-shape", "string-shape", "float-offsets", "string-offsets", "negative-shape",
        "overflowing-shape", "metadata-list", "metadata-number", "gap", "short-data", "trailing-bytes", "unknown-dtype",
        "bfloat16", "65-axes", "header-list", "not-utf8"])
def test_a_malformed_header_is_one_line_naming_the_file(tmp_path, header, data, problem):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(by_hand(header, data))
    with pytest.raises(FileFormatError) as caught:
        with TensorFile(path) as file:
            [file.read(name) for name in file.shapes]
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and problem in message and len(message) < 400


@pytest.mark.parametrize("content", [b"", b"\x01\x00\x00", struct.pack("<Q", 9) + b"{}"],
                         ids=["empty", "3-bytes", "header-longer-than-file"])
def test_a_file_too_short_for_its_header_is_refused(tmp_path, content):
    path = tmp_path / "short.safetensors"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match="not a safetensors file"):
        TensorFile(path)


def test_a_missing_file_is_file_not_found_not_a_format_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        TensorFile(tmp_path / "nothing.safetensors")
