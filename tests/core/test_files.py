"""atomic_write: a file appears whole or not at all, with the permissions of a plain open()."""

import os

import pytest

from striate.core.files import atomic_write


def test_written_file_replaces_the_old_one_and_gets_the_umask_permissions(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    umask = os.umask(0o022)
    try:
        with atomic_write(path, "w") as file:
            file.write("new")
    finally:
        os.umask(umask)
    assert path.read_text() == "new"
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"saved")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_write(path) as file:
            file.write(b"half")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"saved"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*missing does not exist"):
        with atomic_write(tmp_path / "missing" / "out.bin"):
            pass
