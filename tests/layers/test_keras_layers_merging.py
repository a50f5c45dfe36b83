"""Multiply, Subtract, Average, Maximum, Minimum and Dot (and their lower-case functions) against Keras 3:
the same outputs and gradients with respect to every input."""

import numpy as np
import pytest
from keras_layer_check import check_against_keras

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras
from striate import layers as L

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in shapes]


@pytest.mark.parametrize("name", ["Multiply", "Average", "Maximum", "Minimum"])
def test_elementwise_merge_of_three_inputs_matches_keras(name):
    check_against_keras(getattr(L, name)(), getattr(KL, name)(), inputs((2, 3, 4), (2, 3, 4), (2, 3, 4)))


def test_subtract_matches_keras_and_takes_exactly_two_inputs():
    check_against_keras(L.Subtract(), KL.Subtract(), inputs((2, 5), (2, 5)))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.Subtract().compute_output_shape([(None, 5)] * 3)


@pytest.mark.parametrize("axes, normalize, shapes", [
    (1, False, [(3, 4), (3, 4)]),
    (-1, True, [(3, 4), (3, 4)]),
    ((2, 2), False, [(3, 5, 4), (3, 6, 4)]),
    ((1, 2), False, [(3, 4, 5), (3, 6, 4)]),
    ((1, 1), True, [(3, 4), (3, 4, 2)]),
    ((2, 1), False, [(3, 5, 4), (3, 4)]),
])
def test_dot_matches_keras_batch_dot(axes, normalize, shapes):
    check_against_keras(L.Dot(axes, normalize=normalize), KL.Dot(axes, normalize=normalize), inputs(*shapes))


def test_dot_of_two_vectors_is_the_per_sample_inner_product_written_out():
    a, b = inputs((4, 3), (4, 3))
    np.testing.assert_allclose(L.dot([a, b], axes=1).numpy(), (a * b).sum(axis=1, keepdims=True), rtol=1e-6)


def test_lower_case_functions_build_functional_models():
    x = striate.Input((4,))
    y = striate.Input((4,))
    outputs = [striate.layers.multiply([x, y]), striate.layers.subtract([x, y]), striate.layers.average([x, y]),
               striate.layers.maximum([x, y]), striate.layers.minimum([x, y]), striate.layers.dot([x, y], axes=1)]
    model = striate.Model([x, y], striate.layers.concatenate(outputs))
    a, b = inputs((2, 4), (2, 4))
    expected = np.concatenate([a * b, a - b, (a + b) / 2, np.maximum(a, b), np.minimum(a, b),
                               (a * b).sum(axis=1, keepdims=True)], axis=1)
    np.testing.assert_allclose(model.predict([a, b]), expected, rtol=1e-6, atol=1e-6)
    assert model.output_shape == (None, 21)


def test_shapes_that_do_not_broadcast_are_refused():
    with pytest.raises(ValueError, match="do not broadcast"):
        L.Multiply().compute_output_shape([(None, 3), (None, 4)])
    with pytest.raises(ValueError, match="summed axes differ"):
        L.Dot(1).compute_output_shape([(None, 3), (None, 4)])
