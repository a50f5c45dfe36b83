"""Conv2D and DepthwiseConv2D with an activation (fused into the convolution op or not) against PyTorch."""

import numpy as np
import pytest
import torch

import striate
from oracle import assert_close, channels_first, channels_last, torch_conv_weight
from striate import layers as L

TORCH_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                     "elu": torch.nn.functional.elu, None: lambda t: t}


def check_layer(layer, x, torch_forward):
    """Output and the gradients of input, kernel and bias equal PyTorch's (float32) for a random upstream gradient."""
    inputs = striate.Tensor(x, requires_grad=True)
    y = layer(inputs)
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    torch_x = torch.tensor(x, requires_grad=True)
    torch_kernel, torch_bias = torch.tensor(kernel, requires_grad=True), torch.tensor(bias, requires_grad=True)
    expected = torch_forward(torch_x, torch_kernel, torch_bias)
    assert_close(y, expected, np.float32, "output")
    upstream = np.random.default_rng(1).standard_normal(y.shape, dtype=np.float32)
    y.backward(upstream)
    expected.backward(torch.tensor(upstream))
    assert_close(inputs.grad, torch_x.grad, np.float32, "input gradient")
    assert_close(layer.kernel.grad, torch_kernel.grad, np.float32, "kernel gradient")
    assert_close(layer.bias.grad, torch_bias.grad, np.float32, "bias gradient")


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu", None])
def test_conv2d_layer_with_activation_matches_torch(activation):
    x = np.random.default_rng(0).standard_normal((2, 9, 9, 3), dtype=np.float32)
    layer = L.Conv2D(4, 3, padding="same", activation=activation)

    def torch_forward(t, kernel, bias):
        y = torch.nn.functional.conv2d(channels_first(t), torch_conv_weight(kernel), bias, padding=1)
        return channels_last(TORCH_ACTIVATIONS[activation](y))

    check_layer(layer, x, torch_forward)


def test_conv2d_layer_with_a_custom_activation_applies_it_after_the_op():
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 2), dtype=np.float32)
    layer = L.Conv2D(3, 3, activation=lambda t: t * t)

    def torch_forward(t, kernel, bias):
        return channels_last(torch.nn.functional.conv2d(channels_first(t), torch_conv_weight(kernel), bias) ** 2)

    check_layer(layer, x, torch_forward)


def test_depthwise_conv2d_layer_with_relu_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3), dtype=np.float32)
    layer = L.DepthwiseConv2D(3, padding="same", activation="relu")

    def torch_forward(t, kernel, bias):
        weight = kernel.permute(2, 3, 0, 1).reshape(3, 1, 3, 3)  # (C, 1, kh, kw), multiplier 1
        return channels_last(torch.relu(torch.nn.functional.conv2d(channels_first(t), weight, bias, padding=1,
                                                                   groups=3)))

    check_layer(layer, x, torch_forward)
