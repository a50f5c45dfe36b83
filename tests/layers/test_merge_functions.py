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


def test_concatenate_on_the_channels_of_a_batch_cut_into_chunks_equals_numpy_and_splits_the_gradient():
    # 64 maps of 32x32: in workers_only the batch is cut into chunks (on several threads where there are several)
    rng = np.random.default_rng(1)
    a, b = rng.random((64, 32, 32, 16), dtype=np.float32), rng.random((64, 32, 32, 5), dtype=np.float32)
    x, y = striate.Tensor(a, requires_grad=True), striate.Tensor(b, requires_grad=True)
    upstream = rng.random((64, 32, 32, 21), dtype=np.float32)
    with striate.core.runtime.workers_only():
        joined = L.concatenate([x, y])
        joined.backward(upstream)
    np.testing.assert_array_equal(joined.numpy(), np.concatenate([a, b], axis=-1))
    np.testing.assert_array_equal(x.grad, upstream[..., :16])
    np.testing.assert_array_equal(y.grad, upstream[..., 16:])


def test_concatenate_reads_read_only_inputs_and_a_read_only_upstream_gradient():
    rng = np.random.default_rng(2)
    a, b = rng.random((2, 3, 3, 4), dtype=np.float32), rng.random((2, 3, 3, 2), dtype=np.float32)
    upstream = rng.random((2, 3, 3, 6), dtype=np.float32)
    for array in (a, b, upstream):
        array.flags.writeable = False
    x, y = striate.Tensor(a, requires_grad=True), striate.Tensor(b, requires_grad=True)
    joined = L.concatenate([x, y])
    joined.backward(upstream)
    np.testing.assert_array_equal(joined.numpy(), np.concatenate([a, b], axis=-1))
    np.testing.assert_array_equal(x.grad, upstream[..., :4])
    np.testing.assert_array_equal(y.grad, upstream[..., 4:])
