"""`FileFormatError`: a file striate was asked to read is not what it should be.

Every malformed, truncated, damaged or foreign file that striate reads (a saved model, a checkpoint) raises
this one exception type, whose message is one line: the file, then what is wrong with it. It is a
`ValueError`, so code that caught ValueError before still catches it.

>>> str(FileFormatError("runs/model.safetensors", "not a safetensors file: the header is not JSON"))
'runs/model.safetensors: not a safetensors file: the header is not JSON'
"""

import os


class FileFormatError(ValueError):
    """The file at `path` is malformed; `problem` says how (one line, no traceback needed to understand it)."""

    def __init__(self, path: "str | os.PathLike[str]", problem: str):
        super().__init__(path, problem)
        self.path = os.fspath(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever the quoted file content held

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def excerpt(value: object, limit: int = 200) -> str:
    """str(value) cut to `limit` characters: a message quotes a file's content, not all of it."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
