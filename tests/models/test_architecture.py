"""to_json / model_from_json / clone_model: the same layers (configs, names, wiring) with fresh weights, so that
copying the original's weights gives the original's predictions; subclassed models are refused."""

import json

import numpy as np
import pytest

import striate
from striate import layers as L


def small_sequential():
    return striate.Sequential([striate.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(),
                               L.MaxPooling2D(2), L.Flatten(), L.Dense(3, activation="softmax")])


def small_functional():
    inputs = striate.Input((6, 6, 2))
    y = L.Conv2D(4, 3, padding="same", activation="relu", name="main")(inputs)
    s = L.Conv2D(4, 1, name="projection")(inputs)
    shared = L.Dense(4, name="shared")
    x = L.add([s, y], name="add")
    x = L.GlobalAveragePooling2D(name="pool")(x)
    return striate.Model(inputs, L.concatenate([shared(x), shared(shared(x))], name="join"), name="net")


def data(shape, seed=0):
    return np.random.default_rng(seed).random((4, *shape), dtype=np.float32)


def assert_same_architecture(copy, model, x):
    assert [(type(a), a.get_config()) for a in copy.layers] == [(type(b), b.get_config()) for b in model.layers]
    assert [w.name for w in copy.weights] == [w.name for w in model.weights]
    assert all(a is not b for a, b in zip(copy.weights, model.weights))
    assert any(not np.array_equal(a, b) for a, b in zip(copy.get_weights(), model.get_weights()))  # fresh
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))


@pytest.mark.parametrize("build", [small_sequential, small_functional])
def test_model_from_json_rebuilds_the_architecture(build):
    model = build()
    text = model.to_json(indent=2)
    assert json.loads(text)["class_name"] == ("Sequential" if build is small_sequential else "Functional")
    assert_same_architecture(striate.models.model_from_json(text), model, data(model.input_shape[1:]))


@pytest.mark.parametrize("build", [small_sequential, small_functional])
def test_clone_model_has_new_layers_and_the_same_wiring(build):
    model = build()
    clone = striate.models.clone_model(model)
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert_same_architecture(clone, model, data(model.input_shape[1:]))


def test_clone_keeps_a_shared_layer_shared_and_accepts_inputs_and_a_clone_function():
    model = small_functional()
    inputs = striate.Input((6, 6, 2))
    renamed = []

    def rename(layer):
        renamed.append(layer.name)
        return type(layer)(**{**layer.get_config(), "name": f"copy_{layer.name}"})

    clone = striate.models.clone_model(model, input_tensors=inputs, clone_function=rename)
    assert clone._inputs == [inputs]
    assert sorted(renamed) == sorted(layer.name for layer in model.layers)  # once each: "shared" is called 3 times
    assert [layer.name for layer in clone.layers] == [f"copy_{layer.name}" for layer in model.layers]
    assert len(clone.weights) == len(model.weights) == 6


def test_clone_of_a_model_holding_a_model_clones_the_inner_one():
    inner = small_sequential()
    outer = striate.Sequential([inner, L.Dense(2)])
    clone = striate.models.clone_model(outer)
    assert clone.layers[0] is not inner and isinstance(clone.layers[0], striate.Sequential)
    assert_same_architecture(clone.layers[0], inner, data((8, 8, 1)))


def test_models_without_an_architecture_are_refused():
    class Subclassed(striate.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x, training=False):
            return self.dense(x)

    with pytest.raises(ValueError, match="clone_model: needs a Sequential or functional model; .* received Subclassed"):
        striate.models.clone_model(Subclassed())
    with pytest.raises(ValueError, match="to_json: needs a Sequential or functional model"):
        Subclassed().to_json()
    with pytest.raises(ValueError, match="to_json: the Sequential model .* has no input shape yet"):
        striate.Sequential([L.Dense(2)]).to_json()
    with pytest.raises(ValueError, match="model_from_json: expects the JSON string of model.to_json"):
        striate.models.model_from_json("{not json")
    with pytest.raises(ValueError, match="class_name 'Sequential' or 'Functional'"):
        striate.models.model_from_json('{"class_name": "Dense"}')
