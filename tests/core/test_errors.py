"""FileFormatError: one line naming the file and the fault; a ValueError; survives pickling (worker processes)."""

import pathlib
import pickle

from striate.core.errors import FileFormatError, excerpt


def test_the_message_is_the_file_then_the_fault_on_one_line():
    error = FileFormatError(pathlib.Path("runs") / "m.safetensors", "the header says\n  two lines")
    assert str(error) == "runs/m.safetensors: the header says two lines"
    assert isinstance(error, ValueError) and error.path == "runs/m.safetensors"


def test_it_survives_pickling():
    error = pickle.loads(pickle.dumps(FileFormatError("m.safetensors", "truncated")))
    assert isinstance(error, FileFormatError) and str(error) == "m.safetensors: truncated"


def test_an_excerpt_quotes_at_most_the_limit():
    assert excerpt("x" * 500, 10) == "xxxxxxxxxx..." and excerpt([1, 2]) == "[1, 2]"
