"""Activation functions (gelu, swish/silu, softplus, selu, mish, hard_sigmoid) and activation layers (ReLU,
LeakyReLU, PReLU, ELU, Softmax) against Keras 3: the same outputs and gradients, the Keras side through torch
autograd."""

import numpy as np
import pytest
import torch
from keras_layer_check import check_against_keras

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import activations, ops
from striate import layers as L
from striate.core.function import Function
from striate.core.tensor import Tensor

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def inputs(shape=(4, 5, 6), seed=0, scale=3.0):
    return np.random.default_rng(seed).normal(0, scale, shape).astype(np.float32)


@pytest.mark.parametrize("name, options", [
    ("gelu", {}), ("gelu", {"approximate": True}), ("swish", {}), ("silu", {}), ("softplus", {}), ("selu", {}),
    ("mish", {}), ("hard_sigmoid", {}),
])
def test_activation_function_matches_keras(name, options):
    x = inputs()
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = getattr(keras.activations, name)(theirs_x, **options)
    ours_x = Tensor(x, requires_grad=True)
    ours = getattr(activations, name)(ours_x, **options)
    np.testing.assert_allclose(ours.numpy(), to_numpy(theirs), rtol=1e-5, atol=1e-5)
    upstream = inputs(seed=1, scale=1.0)
    (theirs * torch.tensor(upstream)).sum().backward()
    ours.backward(upstream)
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_gelu_is_x_times_the_normal_cdf_written_out():
    from scipy.stats import norm

    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(activations.gelu(Tensor(x)).numpy(), x * norm.cdf(x), rtol=1e-12, atol=1e-12)


def test_gelu_gradient_matches_float64_finite_differences():
    x = np.linspace(-3, 3, 13)
    for approximate in (False, True):
        ours = Tensor(x, requires_grad=True)
        activations.gelu(ours, approximate=approximate).sum().backward()
        step = 1e-6
        numeric = (activations.gelu(Tensor(x + step), approximate).numpy()
                   - activations.gelu(Tensor(x - step), approximate).numpy()) / (2 * step)
        np.testing.assert_allclose(ours.grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["gelu", "swish", "silu", "softplus", "selu", "mish", "hard_sigmoid"])
def test_activation_names_work_in_a_dense_layer(name):
    x = inputs((3, 4))
    layer = L.Dense(2, activation=name)
    keras_layer = KL.Dense(2, activation=name)
    check_against_keras(layer, keras_layer, x)


@pytest.mark.parametrize("options", [
    {}, {"max_value": 6.0}, {"negative_slope": 0.1}, {"threshold": 0.5}, {"negative_slope": 0.2, "threshold": 1.0},
    {"max_value": 2.0, "negative_slope": 0.3, "threshold": 0.5},
])
def test_relu_layer_matches_keras(options):
    check_against_keras(L.ReLU(**options), KL.ReLU(**options), inputs())


def test_leaky_relu_elu_softmax_layers_match_keras():
    check_against_keras(L.LeakyReLU(), KL.LeakyReLU(), inputs())
    check_against_keras(L.LeakyReLU(negative_slope=0.05), KL.LeakyReLU(negative_slope=0.05), inputs())
    check_against_keras(L.ELU(alpha=0.7), KL.ELU(alpha=0.7), inputs())
    check_against_keras(L.Softmax(), KL.Softmax(), inputs())
    check_against_keras(L.Softmax(axis=1), KL.Softmax(axis=1), inputs())


@pytest.mark.parametrize("shared_axes", [None, [1, 2], [1]])
def test_prelu_matches_keras_weights_and_gradients(shared_axes):
    x = inputs((3, 4, 5, 2))
    ours = L.PReLU(shared_axes=shared_axes)
    check_against_keras(ours, KL.PReLU(shared_axes=shared_axes), x)
    expected = {None: 40, (1, 2): 2, (1,): 10}[None if shared_axes is None else tuple(shared_axes)]
    assert ours.count_params() == expected


def test_activation_layer_configs_rebuild_the_layer():
    for layer in (L.ReLU(max_value=6.0, negative_slope=0.1), L.LeakyReLU(0.2), L.PReLU(shared_axes=[1, 2]),
                  L.ELU(0.5), L.Softmax(axis=1)):
        config = layer.get_config()
        twin = type(layer)(**{**config, "name": config["name"] + "_twin"})
        assert {k: v for k, v in twin.get_config().items() if k != "name"} == \
               {k: v for k, v in config.items() if k != "name"}


class IdentityWithDoubledGradient(Function):
    """x forward, 2 * grad backward: a wrong gradient behind a right output."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return (2 * grad,)


def test_the_keras_check_catches_a_wrong_output_and_a_wrong_gradient():
    with pytest.raises(AssertionError, match="outputs differ"):
        check_against_keras(L.ReLU(max_value=5.0), KL.ReLU(max_value=6.0), inputs())
    with pytest.raises(AssertionError, match="gradient of input 0 differs"):
        check_against_keras(L.Lambda(IdentityWithDoubledGradient.apply), KL.Identity(), inputs())
    with pytest.raises(AssertionError, match="gradient of .*alpha differs"):
        check_against_keras(PReLUWithDoubledAlphaGradient(), KL.PReLU(), inputs())


class PReLUWithDoubledAlphaGradient(L.PReLU):
    def call(self, inputs, training=False):
        return ops.relu(inputs) - IdentityWithDoubledGradient.apply(self.alpha) * ops.relu(-inputs)
