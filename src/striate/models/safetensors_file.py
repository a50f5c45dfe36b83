"""safetensors files through the `safetensors` package, with the checks striate adds before trusting one.

The format (https://github.com/huggingface/safetensors): 8 bytes N, the header length (unsigned
little-endian); N bytes of JSON header {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin,
end]}, ..., "__metadata__": {"key": "string"}}; then the tensors' bytes, little-endian, back to back. No
pickle: reading one runs no code.

The package (the format's reference implementation, in Rust, fuzzed) parses the header, checks that the
offsets tile the data exactly and match every shape and dtype, and maps the file into memory so a tensor is
read only when asked for. It needs version 0.7 or later: before, each tensor's lookup scanned the whole
header, so 8,000 tensors took 25 s. Before handing it the file, `TensorFile` checks what it cannot:

- the path is a regular file (a FIFO would block forever, /dev/zero would be read until memory runs out; a
  directory is no model), checked on the open descriptor, which is then the one the package reads;
- the header length fits the file's real size and at most MAX_HEADER_BYTES, before anything else is read
  (the largest striate model, GoogLeNet with Adam's state, has a header of about 110 KB; a header of 1.4
  million empty tensors would be 84 MB and take seconds and a gigabyte to parse);
- every dtype is one NumPy holds (the package knows bfloat16 and float8, NumPy does not), every shape has
  at most MAX_AXES axes.

Anything malformed raises `striate.FileFormatError` (one line: the file, what is wrong) and nothing else.
"""

import contextlib
import os
import stat
import struct

import numpy as np
import safetensors
import safetensors.numpy

from striate.core.errors import FileFormatError
from striate.core.errors import excerpt as _short
from striate.core.files import atomic_write

MAX_HEADER_BYTES = 4 * 2**20
MAX_AXES = 32  # NumPy 1's limit (NumPy 2 allows 64); no striate tensor has more than 6
DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
_CODES = {np.dtype(dtype): code for code, dtype in DTYPES.items()}


def write(path, tensors, metadata=None):
    """Write a dict name -> array, and metadata (str -> str), atomically: a temporary file renamed over `path`."""
    arrays = {}
    for name, value in tensors.items():
        array = np.asarray(value, order="C")
        native = array.dtype.newbyteorder("=") if array.dtype.byteorder in "<>" else array.dtype
        if native not in _CODES:
            raise TypeError(f"safetensors_file.write: {name} has dtype {array.dtype}; striate writes only "
                            f"{', '.join(str(np.dtype(d)) for d in DTYPES.values())}")
        arrays[name] = array
    content = safetensors.numpy.save(arrays, metadata={str(k): str(v) for k, v in (metadata or {}).items()})
    with atomic_write(path) as file:
        file.write(content)


class TensorFile:
    """An open safetensors file whose header passed every check; tensors are read on demand.

    `metadata` (dict str -> str), `shapes` and `dtypes` (dict name -> tuple / np.dtype) come from the
    header; `read(name)` returns one tensor as a new array. Use it in a `with` block, which closes it.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        descriptor = _open_regular_file(self.path)
        try:
            _check_header_length(self.path, descriptor)
            # the package opens the descriptor's file itself (Linux), not whatever the path names by then
            fd_path = f"/proc/self/fd/{descriptor}"
            source = fd_path if os.path.exists(fd_path) else self.path
            self._open = contextlib.ExitStack()
            try:
                self._file = self._open.enter_context(safetensors.safe_open(source, framework="numpy"))
            except (safetensors.SafetensorError, OSError) as error:
                raise FileFormatError(self.path, "not a safetensors file, or a truncated or damaged one: "
                                      f"{_short(error)}") from None
        finally:
            os.close(descriptor)
        self.metadata = self._file.metadata() or {}
        self.shapes, self.dtypes = {}, {}
        for name in self._file.keys():
            view = self._file.get_slice(name)
            code = view.get_dtype()
            if code not in DTYPES:
                self.close()
                raise FileFormatError(self.path, f"tensor {_short(name)!r} has dtype {code}, which striate does not "
                                      f"read (it reads {', '.join(DTYPES)})")
            shape = tuple(view.get_shape())
            if len(shape) > MAX_AXES:
                self.close()
                raise FileFormatError(self.path, f"tensor {_short(name)!r} has {len(shape)} axes; striate reads at "
                                      f"most {MAX_AXES}")
            self.shapes[name], self.dtypes[name] = shape, np.dtype(DTYPES[code])

    def read(self, name):
        """The tensor `name`, as a new writeable array (not a view of the file)."""
        return np.array(self._file.get_tensor(name), dtype=self.dtypes[name], copy=True)

    def close(self):
        self._open.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def _open_regular_file(path):
    """A read-only descriptor of `path`, refused unless a regular file; a FIFO is opened without waiting."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise FileFormatError(path, "a directory, not a safetensors file") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
                "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise FileFormatError(path, f"{kind}, not a safetensors file: striate reads models from regular files only")
    return descriptor


def _check_header_length(path, descriptor):
    size = os.fstat(descriptor).st_size
    if size < 8:
        raise FileFormatError(path, f"not a safetensors file: {size} bytes, shorter than its 8-byte header length")
    (length,) = struct.unpack("<Q", os.pread(descriptor, 8, 0))
    if length > size - 8:
        raise FileFormatError(path, f"not a safetensors file (or truncated): the header claims {length:,} bytes, "
                              f"the file has {size - 8:,} after the length field")
    if length > MAX_HEADER_BYTES:
        raise FileFormatError(path, f"not a striate file: a header of {length:,} bytes, more than the "
                              f"{MAX_HEADER_BYTES:,} striate reads (a striate model's header is about 100 KB)")
