"""Each example's `main(argv)` (python -m striate.examples.NAME) hands the parsed options to its `run` by name."""

import importlib

import pytest

# example -> (the options run receives for argv ["--quick", "--seed", "3"]: defaults written out)
EXPECTED = {
    "animal_mnist": {"epochs": 10, "seed": 3, "quick": True},
    "bbc_news": {"epochs": 6, "seed": 3, "quick": True},
    "spoken_digits": {"epochs": 15, "seed": 3, "quick": True},
    "trees": {"epochs": 3, "seed": 3, "quick": True},
    "unsupervised_features": {"epochs": 10, "seed": 3, "quick": True},
    "transfer": {"epochs": 15, "seed": 3, "quick": True, "verbose": 1},
    "depth": {"epochs": 5, "seed": 3, "quick": True, "out": None},
    "faces": {"epochs": 40, "seed": 3, "quick": True, "out": None},
    "learn_sobel": {"epochs": 40, "seed": 3, "quick": True, "out": None},
    "translation": {"epochs": 2, "seed": 3, "quick": True, "out": None},
    "waldo": {"seed": 3, "quick": True, "out": None},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_main_passes_the_options_to_run_and_prints_its_results(name, monkeypatch, capsys):
    module = importlib.import_module(f"striate.examples.{name}")
    received = []
    monkeypatch.setattr(module, "run", lambda **options: received.append(options) or {"accuracy": 0.5})
    assert module.main(["--quick", "--seed", "3"]) == 0
    assert received == [EXPECTED[name]]
    assert capsys.readouterr().out == "accuracy: 0.5000\n"


def test_an_example_that_trains_nothing_refuses_epochs(capsys):
    waldo = importlib.import_module("striate.examples.waldo")
    with pytest.raises(SystemExit):
        waldo.main(["--epochs", "3"])
    assert "unrecognized arguments: --epochs 3" in capsys.readouterr().err


def test_out_names_the_folder_for_the_pictures(monkeypatch, tmp_path):
    faces = importlib.import_module("striate.examples.faces")
    received = []
    monkeypatch.setattr(faces, "run", lambda **options: received.append(options) or {})
    faces.main(["--out", str(tmp_path), "--epochs", "2"])
    assert received == [{"epochs": 2, "seed": 0, "quick": False, "out": str(tmp_path)}]
