"""Writing a file so that it appears whole or not at all.

`atomic_write(path)` opens a temporary file in the folder of `path` (same file system, so the final rename is
atomic), lets the caller write it, flushes it to disk and renames it over `path`. If anything fails, the
temporary file is removed and an existing file at `path` is left as it was. The file is created with the
permissions a plain `open(path, "w")` would give (0o666 less the umask), not mkstemp's private 0o600.
"""

import os
import secrets
from contextlib import contextmanager


@contextmanager
def atomic_write(path, mode="wb"):
    """Yield a file object open for writing ("wb" or "w"); on success it replaces `path`.

    >>> with atomic_write("model.json", "w") as file:      # doctest: +SKIP
    ...     file.write("{}")
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    temporary = os.path.join(folder, f".striate-{os.getpid()}-{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, mode) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
