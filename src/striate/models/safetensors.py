"""The safetensors file format, written and read with NumPy only: no pickle, so loading runs no code.

Layout (https://github.com/huggingface/safetensors):
    8 bytes        N, the header length, unsigned little-endian
    N bytes        a JSON header: {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
                   "__metadata__": {"key": "string", ...}}
    the rest       the tensors' bytes, little-endian, back to back; offsets count from the end of the header

`read` checks everything before trusting it: the header length against the file size, the JSON, each
dtype, that the offsets tile the data exactly and match each shape. A file that is not safetensors (a
pickle, a truncated download) raises `ValueError` and nothing is returned.
"""

import json
import struct

import numpy as np

from striate.core.files import atomic_write

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U8": "u1", "BOOL": "?"}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER_BYTES = 100_000_000


def write(path, tensors, metadata=None):
    """Write a dict name -> array atomically: to a temporary file in the same folder, then renamed over `path`."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.asarray(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        code = CODES.get(array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype)
        if code is None:
            raise TypeError(f"safetensors.write: {name} has dtype {array.dtype}, which safetensors cannot hold")
        data = array.astype(DTYPES[code], copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned
    with atomic_write(path) as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for chunk in chunks:
            file.write(chunk)


def read(path):
    """(tensors: dict name -> array, metadata: dict) from a safetensors file, every field checked first."""
    with open(path, "rb") as file:
        content = file.read()
    if len(content) < 8:
        raise ValueError(f"{path}: not a safetensors file: {len(content)} bytes, shorter than its 8-byte header length")
    (header_length,) = struct.unpack("<Q", content[:8])
    if header_length > min(len(content) - 8, MAX_HEADER_BYTES):
        raise ValueError(f"{path}: not a safetensors file (or truncated): the header claims {header_length} bytes, "
                         f"the file has {len(content) - 8} after the length field")
    try:
        header = json.loads(content[8 : 8 + header_length])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a safetensors file: the header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: not a safetensors file: the header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    data = memoryview(content)[8 + header_length :]
    tensors, spans = {}, []
    for name, entry in header.items():
        try:
            dtype, shape, (begin, end) = np.dtype(DTYPES[entry["dtype"]]), tuple(entry["shape"]), entry["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: malformed entry for tensor {name!r}: {entry!r}") from None
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if not 0 <= begin <= end <= len(data) or end - begin != expected:
            raise ValueError(f"{path}: tensor {name!r} {shape} {entry['dtype']} needs {expected} bytes; its offsets "
                             f"[{begin}, {end}) do not fit the {len(data)} data bytes (truncated or tampered file)")
        spans.append((begin, end))
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise ValueError(f"{path}: tensor data overlaps or leaves a gap at byte {position}")
        position = end
    if position != len(data):
        raise ValueError(f"{path}: {len(data) - position} bytes after the last tensor (tampered file)")
    return tensors, metadata
