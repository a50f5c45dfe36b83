"""layers.add and layers.concatenate, Keras' functional forms of Add and Concatenate, on arrays and in a
functional model, against NumPy's sum and concatenate."""

import numpy as np

import striate
from striate import layers as L


def test_add_and_concatenate_on_arrays():
    rng = np.random.default_rng(0)
    a, b, c = (rng.random((2, 3, 4), dtype=np.float32) for _ in range(3))
    np.testing.assert_allclose(L.add([a, b, c]).numpy(), a + b + c, rtol=1e-6)
    np.testing.assert_array_equal(L.concatenate([a, b]).numpy(), np.concatenate([a, b], axis=-1))
    np.testing.assert_array_equal(L.concatenate([a, b], axis=1).numpy(), np.concatenate([a, b], axis=1))


def test_merge_functions_wire_a_functional_model():
    inputs = striate.Input((4,))
    left = L.Dense(3, name="left")(inputs)
    right = L.Dense(3, name="right")(inputs)
    model = striate.Model(inputs, L.concatenate([L.add([left, right], name="sum"), left], name="joined"))
    x = np.random.default_rng(1).random((5, 4), dtype=np.float32)
    by_name = {layer.name: layer for layer in model.layers}
    (wl, bl), (wr, br) = by_name["left"].get_weights(), by_name["right"].get_weights()
    left_value = x @ wl + bl
    expected = np.concatenate([left_value + x @ wr + br, left_value], axis=-1)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5)
    assert model.output_shape == (None, 6)
    assert [layer.name for layer in model.layers] == ["left", "right", "sum", "joined"]
