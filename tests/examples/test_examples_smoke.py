"""Each example trains on a small slice (--quick) and must clear a floor that chance would not reach.

The full runs and their held-out numbers are in docs/sequences.md; these only prove that every example
runs end to end on its real data and learns something. BLAS runs on one thread here: the recurrences and
the small layers make thousands of small matrix products, where a second thread only adds waiting (and on
a busy machine, a lot of it).
"""

import importlib

import pytest
from threadpoolctl import threadpool_limits

from striate.cli import main
from striate.examples import EXAMPLES


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_spoken_digits_cnn_and_lstm_beat_chance():
    results = importlib.import_module("striate.examples.spoken_digits").run(epochs=4, quick=True, verbose=0)
    assert results["cnn_test_accuracy"] > 0.5     # chance: 0.10
    assert results["lstm_test_accuracy"] > 0.5


def test_bbc_news_cnn_and_lstm_beat_chance():
    results = importlib.import_module("striate.examples.bbc_news").run(epochs=7, quick=True, verbose=0)
    assert results["cnn_test_accuracy"] > 0.45    # chance: 0.20, the largest topic 0.23
    assert results["lstm_test_accuracy"] > 0.35


def test_recursive_net_on_python_syntax_trees_beats_the_majority_class():
    results = importlib.import_module("striate.examples.trees").run(epochs=3, quick=True, verbose=0)
    assert results["test_accuracy"] > results["majority_class_rate"] + 0.08


def test_char_lstm_beats_character_frequencies():
    results = importlib.import_module("striate.examples.shakespeare").run(quick=True, verbose=0)
    assert results["validation_bits_per_character"] < results["unigram_bits_per_character"] - 0.4
    assert results["sample"].strip().startswith("ROMEO.")


def test_animal_mnist_cnn_beats_chance():
    results = importlib.import_module("striate.examples.animal_mnist").run(epochs=3, quick=True, verbose=0)
    assert results["test_accuracy"] > 0.3         # chance: 0.10


def test_every_frozen_feature_set_supports_a_linear_classifier():
    results = importlib.import_module("striate.examples.unsupervised_features").run(epochs=1, quick=True, verbose=0)
    for name in ("raw_pixels", "kmeans", "random", "hand_designed", "autoencoder", "trained_cnn_filters"):
        assert results[f"{name}_linear"] > 0.6, name   # chance: 0.10
    assert results["trained_cnn_end_to_end"] > 0.3


def test_the_cli_knows_every_example_and_refuses_others(capsys):
    for name, (module, _) in EXAMPLES.items():
        assert callable(importlib.import_module(f"striate.examples.{module}").run), name
    with pytest.raises(SystemExit) as exit_info:
        main(["example", "no_such_example"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
