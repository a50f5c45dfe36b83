"""Layer.__call__: a Tensor goes straight to `call`; arrays and lists are wrapped first; the outermost call forgets
the activity penalties of the previous pass (its own layers' only), also after an error."""

import numpy as np
import pytest

import striate
from striate import Tensor
from striate import layers as L
from striate.core.runtime import no_grad
from striate.layers import layer as layer_module


def dense(units=3, **options):
    striate.set_random_seed(0)
    return L.Dense(units, **options)


def test_a_tensor_an_array_and_a_list_input_give_the_same_bits():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    layer = dense()
    from_array = layer(x).data
    with no_grad():
        from_tensor = layer(Tensor(x)).data
    np.testing.assert_array_equal(from_tensor, from_array)
    np.testing.assert_allclose(from_array, x @ layer.kernel.data + layer.bias.data, rtol=1e-6)  # x W + b
    added = L.Add()([Tensor(x), x])
    np.testing.assert_array_equal(added.data, x + x)


def test_the_first_call_builds_the_layer_from_the_input_shape():
    layer = dense(7)
    assert not layer.built
    layer(Tensor(np.ones((2, 5), np.float32)))
    assert layer.built and layer.kernel.shape == (5, 7) and layer.input_shape == (None, 5)


def test_a_wrong_input_raises_an_error_naming_the_layer_and_the_next_pass_starts_afresh():
    layer = dense(2, activity_regularizer="l2", name="scores")
    model = striate.Sequential([L.InputLayer((3,)), layer])
    model(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="scores"):
        layer(Tensor(np.ones((4, 5), np.float32)))
    assert getattr(layer_module._calls, "depth", 0) == 0  # the failed call gave its depth back
    model(np.ones((4, 3), np.float32))
    assert len(model.losses) == 1  # the next pass was outermost: it forgot the previous pass's penalty


def test_penalties_of_a_layer_outside_the_model_are_kept_when_the_model_runs():
    outside = dense(2, activity_regularizer="l2")
    outside(np.ones((2, 3), np.float32))
    model = striate.Sequential([L.InputLayer((3,)), dense(2, activity_regularizer="l1")])
    for _ in range(2):
        model(np.ones((4, 3), np.float32))
    assert len(outside.losses) == 1 and len(model.losses) == 1
    # the penalty of the last pass: l2 of the outputs / batch size, written out
    x = np.ones((2, 3), np.float32)
    expected = 0.01 * np.sum((x @ outside.kernel.data + outside.bias.data) ** 2) / 2
    assert outside.losses[0].item() == pytest.approx(expected, rel=1e-6)


def test_a_model_without_regularizers_leaves_no_penalties():
    model = striate.Sequential([L.InputLayer((3,)), dense(2), L.Dense(1)])
    model(np.ones((4, 3), np.float32))
    assert model.losses == []
    assert all(layer._activity_losses == [] for layer in model.layers)
