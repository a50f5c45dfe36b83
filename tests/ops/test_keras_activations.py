"""The rest of keras.activations (striate.ops.keras_activations) against Keras 3 itself: values and gradients
(Keras' through torch autograd) on inputs kept away from each function's kinks."""

from keras_oracle import keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import numpy as np
import pytest
import torch

import striate
from striate import Tensor

# name, keyword arguments, the kinks to keep away from
CASES = [
    ("relu6", {}, (0.0, 6.0)), ("celu", {"alpha": 0.5}, (0.0,)), ("exponential", {}, ()), ("glu", {}, ()),
    ("hard_tanh", {}, (-1.0, 1.0)), ("hard_silu", {}, (-3.0, 3.0)), ("hard_swish", {}, (-3.0, 3.0)),
    ("hard_shrink", {"threshold": 0.4}, (-0.4, 0.4)), ("soft_shrink", {"threshold": 0.3}, (-0.3, 0.3)),
    ("tanh_shrink", {}, ()), ("log_sigmoid", {}, ()), ("softsign", {}, (0.0,)), ("squareplus", {"b": 2}, ()),
    ("sparse_plus", {}, (-1.0, 1.0)), ("sparse_sigmoid", {}, (-1.0, 1.0)),
    ("threshold", {"threshold": 0.2, "default_value": -0.5}, (0.2,)), ("log_softmax", {}, ()),
]


def away_from(kinks, shape, rng):
    x = rng.uniform(-8, 8, shape)
    for kink in kinks:
        x = np.where(np.abs(x - kink) < 0.05, x + 0.1, x)
    return x


@pytest.mark.parametrize("name, options, kinks", CASES, ids=[case[0] for case in CASES])
def test_activation_and_gradient_equal_keras(name, options, kinks):
    rng = np.random.default_rng(len(name))
    x = away_from(kinks, (3, 4, 6), rng)
    upstream = rng.normal(size=(3, 4, 3 if name == "glu" else 6))

    ours_x = Tensor(x, requires_grad=True)
    ours = getattr(striate.activations, name)(ours_x, **options)
    (ours * Tensor(upstream)).sum().backward()

    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = getattr(keras.activations, name)(theirs_x, **options)
    (theirs * torch.tensor(upstream)).sum().backward()

    np.testing.assert_allclose(ours.numpy(), to_numpy(theirs), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sparsemax_is_the_projection_onto_the_simplex_with_its_jacobian():
    # Keras 3.15's torch sparsemax gives [0.1, 0, 0] for [1.0, 0.8, 0.1] (not a probability vector), so the
    # reference here is independent: tau by bisection on sum(max(x - tau, 0)) = 1, and the gradient from the
    # closed-form Jacobian diag(s) - s s^T / |S| (s: the support) applied to the upstream gradient
    rng = np.random.default_rng(0)
    x, upstream = rng.uniform(-2, 2, (5, 7)), rng.normal(size=(5, 7))
    low, high = x.min(axis=1, keepdims=True) - 1, x.max(axis=1, keepdims=True)
    for _ in range(200):
        tau = (low + high) / 2
        too_much = np.maximum(x - tau, 0).sum(axis=1, keepdims=True) > 1
        low, high = np.where(too_much, tau, low), np.where(too_much, high, tau)
    expected = np.maximum(x - (low + high) / 2, 0)
    support = expected > 0
    expected_grad = support * (upstream - (support * upstream).sum(1, keepdims=True) / support.sum(1, keepdims=True))

    ours_x = Tensor(x, requires_grad=True)
    ours = striate.activations.sparsemax(ours_x)
    (ours * Tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad, expected_grad, atol=1e-12)


def test_sparsemax_gives_a_sparse_probability_vector_worked_by_hand():
    # x = (1.0, 0.8, 0.1): support {1.0, 0.8}: tau = (1.8 - 1) / 2 = 0.4; outputs (0.6, 0.4, 0)
    np.testing.assert_allclose(striate.activations.sparsemax(np.array([[1.0, 0.8, 0.1]])).numpy(), [[0.6, 0.4, 0.0]])


def test_each_name_works_as_a_layer_activation():
    for name, _, _ in CASES:
        if name in ("threshold", "glu"):
            continue
        layer = striate.layers.Dense(4, activation=name)
        assert layer(np.ones((2, 3), np.float32)).shape == (2, 4)
        assert layer.get_config()["activation"] == ("hard_silu" if name == "hard_swish" else name)
