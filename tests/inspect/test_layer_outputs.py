"""layer_outputs: what each layer computes on the way to model(x), for Sequential and functional models."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.inspect.layer_outputs import layer_outputs, model_layers, run_layers


def small_cnn():
    striate.set_random_seed(0)
    return striate.Sequential([
        L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1), name="conv"),
        L.MaxPooling2D(2, name="pool"),
        L.Dropout(0.5, name="drop"),
        L.Flatten(name="flat"),
        L.Dense(3, activation="softmax", name="out"),
    ])


def residual_functional():
    striate.set_random_seed(1)
    inputs = striate.Input((6, 6, 2))
    a = L.Conv2D(2, 3, padding="same", activation="relu", name="a")(inputs)
    b = L.Conv2D(2, 3, padding="same", name="b")(a)
    added = L.Add(name="add")([inputs, b])
    outputs = L.Dense(4, name="head")(L.Flatten(name="flat")(added))
    return striate.Model(inputs, outputs, name="residual")


def images(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def test_every_layer_in_model_order_and_the_last_equals_predict():
    model, x = small_cnn(), images((5, 8, 8, 1))
    outputs = layer_outputs(model, x)
    assert list(outputs) == ["conv", "pool", "drop", "flat", "out"]
    assert [v.shape for v in outputs.values()] == [(5, 6, 6, 4), (5, 3, 3, 4), (5, 3, 3, 4), (5, 36), (5, 3)]
    np.testing.assert_array_equal(outputs["out"], model.predict(x))


def test_an_intermediate_equals_a_sequential_of_the_first_layers_sharing_the_weights():
    model, x = small_cnn(), images((2, 8, 8, 1))
    first_two = striate.Sequential(model.layers[:2])
    np.testing.assert_array_equal(layer_outputs(model, x, ["pool"])["pool"], first_two.predict(x))


def test_conv_output_equals_relu_of_a_correlation_written_out():
    model, x = small_cnn(), images((1, 8, 8, 1))
    kernel, bias = model.layers[0].get_weights()
    expected = np.zeros((1, 6, 6, 4))
    for i in range(6):
        for j in range(6):
            window = x[0, i : i + 3, j : j + 3, :]
            expected[0, i, j] = np.tensordot(window, kernel, axes=3) + bias
    np.testing.assert_allclose(layer_outputs(model, x, "conv")["conv"], np.maximum(expected, 0), atol=1e-6)


def test_dropout_runs_in_inference_mode():
    model, x = small_cnn(), images((3, 8, 8, 1))
    outputs = layer_outputs(model, x, ["pool", "drop"])
    np.testing.assert_array_equal(outputs["drop"], outputs["pool"])


def test_layers_chosen_by_name_index_and_object_come_back_in_model_order():
    model, x = small_cnn(), images((1, 8, 8, 1))
    outputs = layer_outputs(model, x, [model.layers[3], -1, "conv"])
    assert list(outputs) == ["conv", "flat", "out"]


def test_functional_model_walks_its_graph_as_model_call():
    model, x = residual_functional(), images((3, 6, 6, 2), seed=2)
    outputs = layer_outputs(model, x)
    assert list(outputs) == ["a", "b", "add", "flat", "head"]
    np.testing.assert_array_equal(outputs["head"], model.predict(x))
    a, b = model.layers[0], model.layers[1]
    np.testing.assert_allclose(outputs["add"], x + b(a(x)).numpy(), rtol=1e-6)


def test_after_layer_hook_replaces_what_the_next_layer_receives():
    model, x = small_cnn(), images((1, 8, 8, 1))
    doubled = run_layers(model, x, after_layer=lambda layer, y: y * 2 if layer.name == "conv" else y)
    plain = layer_outputs(model, x)
    np.testing.assert_allclose(doubled[0][1].numpy(), 2 * plain["conv"])
    np.testing.assert_allclose(doubled[1][1].numpy(), 2 * plain["pool"])


def test_unknown_layer_name_lists_the_layer_names():
    with pytest.raises(ValueError, match=r"no layer 'conv9'.*\['conv', 'pool', 'drop', 'flat', 'out'\]"):
        layer_outputs(small_cnn(), images((1, 8, 8, 1)), ["conv9"])


def test_index_out_of_range_and_foreign_layer_are_refused():
    model = small_cnn()
    with pytest.raises(ValueError, match="received the index 5"):
        layer_outputs(model, images((1, 8, 8, 1)), [5])
    with pytest.raises(ValueError, match="is not a layer of model"):
        layer_outputs(model, images((1, 8, 8, 1)), [L.Dense(2, name="stranger")])


def test_wrong_input_shape_is_refused_before_running():
    with pytest.raises(ValueError, match=r"takes batches of shape \(None, 8, 8, 1\); received a batch of shape "
                                         r"\(8, 8, 1\)"):
        layer_outputs(small_cnn(), images((8, 8, 1)))


def test_subclassed_model_is_refused():
    class Custom(striate.Model):
        def __init__(self):
            super().__init__(name="custom")
            self.dense = L.Dense(2)

        def call(self, inputs, training=False):
            return self.dense(inputs)

    with pytest.raises(ValueError, match="subclassed model"):
        layer_outputs(Custom(), images((1, 4)))


def test_model_layers_lists_a_functional_models_layers_in_running_order():
    assert [layer.name for layer in model_layers(residual_functional())] == ["a", "b", "add", "flat", "head"]


def test_a_layer_called_twice_has_no_single_output():
    inputs = striate.Input((4,))
    shared = L.Dense(4, name="shared")
    model = striate.Model(inputs, shared(shared(inputs)))
    with pytest.raises(ValueError, match="'shared' .* is called 2 times"):
        layer_outputs(model, images((1, 4)), ["shared"])
