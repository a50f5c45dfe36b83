"""Bidirectional and TimeDistributed rebuild from their configs, which nest the wrapped layer as Keras 3 does
({"class_name": ..., "config": ...})."""

from keras_oracle import keras  # noqa: I001 (selects Keras' torch backend first)

import numpy as np
import pytest

import striate
from striate import layers as L


def wrapped_model():
    return striate.Sequential([L.Input((5, 3)), L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="sum"),
                               L.TimeDistributed(L.Dense(2))])


def test_a_model_with_wrappers_rebuilds_from_json_config_and_file(tmp_path):
    model = wrapped_model()
    x = np.random.default_rng(0).random((2, 5, 3), dtype=np.float32)
    expected = model.predict(x, verbose=0)
    from_json = striate.models.model_from_json(model.to_json())
    for rebuilt in (from_json, striate.Sequential.from_config(model.get_config())):
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), expected)
    model.save(tmp_path / "wrapped.safetensors")
    np.testing.assert_array_equal(striate.load_model(tmp_path / "wrapped.safetensors").predict(x, verbose=0), expected)


def test_the_wrapped_layer_is_nested_as_keras_nests_it():
    ours = L.Bidirectional(L.LSTM(4)).get_config()
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(4)).get_config()
    for key in ("layer", "backward_layer"):
        assert ours[key]["class_name"] == theirs[key]["class_name"] == "LSTM"
        assert ours[key]["config"]["go_backwards"] == theirs[key]["config"]["go_backwards"]
    assert L.TimeDistributed(L.Dense(2)).get_config()["layer"]["class_name"] == "Dense"


def test_a_wrapped_entry_of_an_unknown_class_is_refused():
    with pytest.raises(ValueError, match="TimeDistributed: unknown layer class 'os.system'"):
        L.TimeDistributed({"class_name": "os.system", "config": {}})
