"""Save and load: identical predictions, exact resume, and refusal of foreign, truncated or damaged files.

Crafted and fuzzed files: test_malformed_model_files.py, test_model_file_fuzz.py; the file layer:
test_safetensors_file.py."""

import os
import pickle

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.core.errors import FileFormatError
from striate.models import safetensors_file


def small_model():
    return striate.Sequential([
        L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), L.BatchNormalization(), L.MaxPooling2D(2),
        L.Dropout(0.25), L.Flatten(), L.Dense(10, activation="softmax"),
    ])


def data(count=64):
    rng = np.random.default_rng(0)
    return rng.random((count, 8, 8, 1), dtype=np.float32), rng.integers(0, 10, count)


def trained_model(epochs=1):
    striate.set_random_seed(0)
    model = small_model()
    model.compile(striate.optim.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0)
    return model


def test_loaded_model_predicts_identically(tmp_path):
    model = trained_model()
    x, _ = data(8)
    model.save(tmp_path / "model.safetensors")
    loaded = striate.load_model(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    assert loaded.epochs_trained == 1


def test_functional_model_round_trips(tmp_path):
    inputs = striate.Input((6, 6, 2))
    branch = L.Conv2D(2, 3, padding="same")(inputs)
    outputs = L.Dense(3)(L.Flatten()(L.Add()([inputs, branch])))
    model = striate.Model(inputs, outputs)
    x = np.random.default_rng(1).random((2, 6, 6, 2), dtype=np.float32)
    model.save(tmp_path / "functional.safetensors")
    np.testing.assert_array_equal(striate.load_model(tmp_path / "functional.safetensors").predict(x), model.predict(x))


def test_resuming_from_a_checkpoint_repeats_the_uninterrupted_run(tmp_path):
    straight = trained_model(epochs=3)

    striate.set_random_seed(0)
    model = small_model()
    model.compile(striate.optim.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data()
    checkpoint = striate.training.ModelCheckpoint(str(tmp_path / "epoch-{epoch}.safetensors"))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[checkpoint])
    striate.set_random_seed(123)  # whatever happens in between, the checkpoint restores the generator
    resumed = striate.load_model(tmp_path / "epoch-1.safetensors")
    resumed.fit(x, y, batch_size=16, epochs=3, initial_epoch=resumed.epochs_trained, verbose=0)
    for a, b in zip(resumed.weights, straight.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(FileFormatError, match="not a safetensors file"):
        striate.load_model(path)
    assert not marker.exists()


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    trained_model().save(path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FileFormatError, match="truncated or damaged"):
        striate.load_model(path)


def test_a_damaged_weight_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    trained_model().save(path)
    content = bytearray(path.read_bytes())
    content[-5] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(FileFormatError, match="do not match their sha256 digest: the file is damaged"):
        striate.load_model(path)


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors_file.write(path, {"w": np.zeros(3, np.float32)}, {"format": "pt"})
    with pytest.raises(FileFormatError, match="not a striate model file"):
        striate.load_model(path)


def test_subclassed_model_saves_weights_only(tmp_path):
    class Tiny(striate.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x, training=False):
            return self.dense(x)

    model, other = Tiny(), Tiny()
    x = np.ones((1, 3), np.float32)
    model(x), other(x)
    with pytest.raises(ValueError, match="subclassed model"):
        model.save(tmp_path / "m.safetensors")
    model.save_weights(tmp_path / "w.safetensors")
    other.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other(x).numpy(), model(x).numpy())
