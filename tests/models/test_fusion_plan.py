"""The fusion plan of Model.call (striate.models.fusion): which runs of layers it fuses, and that a fused run
computes what the layers compute one by one (forward, gradients of the input and of every weight, the moving
statistics), in training and at inference, the folded convolution + batch norm included; one block against
PyTorch as well."""

import numpy as np
import pytest
import torch

import striate
from striate import Tensor, no_grad
from striate import layers as L
from striate.models import Input, Model, Sequential
from striate.models.fusion import AddRelu, BatchNormRelu, ConvolutionBatchNorm, ConvolutionRelu, Step


def node_by_node(model, x, training):
    """The graph run as written: every node by its own layer (the definition the plan must keep)."""
    if isinstance(model, Sequential):
        for layer in model.layers:
            x = layer(x, training=training)
        return x
    values = {id(model._inputs[0]): x}
    for node in model._nodes:
        arguments = [values[id(i)] for i in node.inputs]
        values[id(node)] = node.layer(arguments if len(arguments) > 1 else arguments[0], training=training)
    return values[id(model._outputs)]


def randomize_statistics(model, rng):
    """Moving statistics and batch-norm weights away from their initial ones and zeros, so that folding matters."""
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            channels = layer.moving_mean.shape
            layer.moving_mean.data[...] = rng.normal(0, 0.5, channels)
            layer.moving_variance.data[...] = rng.uniform(0.5, 2.0, channels)
            if layer.gamma is not None:
                layer.gamma.data[...] = rng.uniform(0.5, 1.5, channels)
            if layer.beta is not None:
                layer.beta.data[...] = rng.normal(0, 0.3, channels)


def statistics(model):
    return [w.data.copy() for w in model.non_trainable_weights]


def set_statistics(model, values):
    for weight, value in zip(model.non_trainable_weights, values):
        weight.data[...] = value


def run_with_gradients(model, function, x, training, seed=1):
    """(output, gradients of the input and of every trainable weight, moving statistics after) of
    sum(function(model, x, training) * r), r random."""
    before = statistics(model)
    image = Tensor(x, requires_grad=True)
    y = function(model, image, training)
    upstream = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    gradients = striate.grad((y * upstream).sum(), [image, *model.trainable_weights])
    after = statistics(model)
    set_statistics(model, before)
    return y.numpy(), gradients, after


def conv_bn_relu_block(channels=4):
    inputs = Input((9, 9, 3))
    x = L.Conv2D(channels, 3, padding="same", use_bias=False)(inputs)
    x = L.ReLU()(L.BatchNormalization()(x))
    return Model(inputs, L.GlobalAveragePooling2D()(x))


def residual_block():
    inputs = Input((8, 8, 4))
    y = L.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    y = L.Activation("relu")(L.BatchNormalization(momentum=0.9, epsilon=1e-5)(y))
    y = L.BatchNormalization()(L.Conv2D(4, 3, padding="same", use_bias=True)(y))
    return Model(inputs, L.Activation("relu")(L.Add()([inputs, y])))


def depthwise_block():
    inputs = Input((10, 10, 3))
    x = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, use_bias=False)(inputs)
    x = L.Activation("relu")(L.BatchNormalization(center=False)(x))
    x = L.Conv2D(5, 1, use_bias=False)(x)
    return Model(inputs, L.BatchNormalization(scale=False)(x))


def one_dimensional_and_3d():
    inputs = Input((6, 6, 6, 2))
    x = L.Activation("relu")(L.Conv3D(3, 3)(inputs))
    x = L.Reshape((4 * 4 * 4, 3))(x)
    x = L.BatchNormalization()(L.Conv1D(4, 3, padding="causal")(x))
    return Model(inputs, L.ReLU()(x))


def batch_norm_then_relu():
    inputs = Input((7, 5))
    x = L.Dense(6)(inputs)
    return Model(inputs, L.Activation("relu")(L.BatchNormalization()(x)))


def sequential_stack():
    return Sequential([Input((8, 8, 2)), L.Conv2D(3, 3, use_bias=False), L.BatchNormalization(), L.ReLU(),
                       L.Conv2D(4, 3, strides=2), L.Activation("relu"), L.Flatten(), L.Dense(3)])


def small_map_many_channels():
    """A batch of four 3x3 maps through a 16 -> 16 3x3 convolution: the kernel has more values than the output."""
    inputs = Input((3, 3, 16))
    x = L.BatchNormalization()(L.Conv2D(16, 3, padding="same", use_bias=False)(inputs))
    return Model(inputs, L.ReLU()(x))


MODELS = {  # builder, input shape, the step kinds its plan must hold
    "conv bn relu": (conv_bn_relu_block, (9, 9, 3), {ConvolutionBatchNorm}),
    "residual block": (residual_block, (8, 8, 4), {ConvolutionBatchNorm, AddRelu}),
    "depthwise, pointwise": (depthwise_block, (10, 10, 3), {ConvolutionBatchNorm}),
    "conv3d relu, conv1d bn relu": (one_dimensional_and_3d, (6, 6, 6, 2), {ConvolutionRelu, ConvolutionBatchNorm}),
    "dense bn relu": (batch_norm_then_relu, (7, 5), {BatchNormRelu}),
    "sequential": (sequential_stack, (8, 8, 2), {ConvolutionBatchNorm, ConvolutionRelu}),
    "small map, many channels": (small_map_many_channels, (3, 3, 16), {ConvolutionBatchNorm}),
}


def built(name, seed=0):
    build, shape, kinds = MODELS[name]
    striate.set_random_seed(seed)
    model = build()
    randomize_statistics(model, np.random.default_rng(seed))
    x = np.random.default_rng(seed + 1).standard_normal((4, *shape)).astype(np.float32)
    return model, x, kinds


@pytest.mark.parametrize("name", MODELS)
def test_plan_fuses_the_runs_it_should(name):
    model, _, kinds = built(name)
    assert kinds <= {type(step) for step, _ in model._fusion_plan()}


def fused_call(model, x, training):
    return model(x, training=training)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("name", MODELS)
def test_fused_run_equals_the_layers_one_by_one(name, training):
    model, x, _ = built(name)
    expected, expected_gradients, expected_statistics = run_with_gradients(model, node_by_node, x, training)
    got, got_gradients, got_statistics = run_with_gradients(model, fused_call, x, training)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    for g, e in zip(got_gradients, expected_gradients, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    for g, e in zip(got_statistics, expected_statistics, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", MODELS)
def test_folded_inference_equals_the_layers_one_by_one(name):
    model, x, _ = built(name)
    with no_grad():
        expected = node_by_node(model, Tensor(x), training=False).numpy()
        got = model(x, training=False).numpy()
        predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "folds"), [("conv bn relu", True), ("small map, many channels", False)])
def test_inference_folds_the_batch_norm_into_the_kernel_only_where_the_kernel_is_smaller(name, folds, monkeypatch):
    """conv bn relu: 3x3x3x4 = 108 kernel values against 4 x 9x9 x 4 = 1,296 outputs, folded; small map: 3x3x16x16 =
    2,304 against 4 x 3x3 x 16 = 576, the batch norm after the convolution (both equal the layers one by one, above)."""
    model, x, _ = built(name)
    calls = []
    convolution = next(layer for layer in model.layers if isinstance(layer, L.Conv2D))
    scaled_weights = convolution.scaled_weights
    monkeypatch.setattr(convolution, "scaled_weights", lambda *a: calls.append(a) or scaled_weights(*a))
    model.predict(x, verbose=0)
    assert bool(calls) == folds


def test_frozen_batch_norm_in_training_uses_moving_statistics_and_keeps_gradients():
    """A frozen batch norm runs on its moving statistics even in training; with grad mode on the run is not
    folded, so the convolution's kernel still gets its gradient."""
    model, x, _ = built("conv bn relu")
    model.layers[1].trainable = False  # the batch norm
    expected, expected_gradients, _ = run_with_gradients(model, node_by_node, x, True)
    got, got_gradients, _ = run_with_gradients(model, fused_call, x, True)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert len(got_gradients) == 2  # the image and the kernel
    for g, e in zip(got_gradients, expected_gradients, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_runs_whose_inner_output_is_read_elsewhere_or_not_plain_are_not_fused():
    inputs = Input((6, 6, 2))
    convolved = L.Conv2D(3, 3)(inputs)  # read by the batch norm and by the output: not fusable
    normalized = L.BatchNormalization()(convolved)
    capped = L.ReLU(max_value=6.0)(normalized)  # relu6: not a plain relu
    regularized = L.Activation("relu", activity_regularizer="l2")(L.BatchNormalization()(capped))
    with_activation = L.BatchNormalization()(L.Conv2D(3, 1, activation="tanh")(regularized))
    model = Model(inputs, L.Concatenate()([convolved, with_activation]))
    assert {type(step) for step, _ in model._fusion_plan()} == {Step}


def test_conv_bn_relu_block_equals_pytorch_in_training_and_inference():
    model, x, _ = built("conv bn relu")
    conv, batch_norm = model.layers[0], model.layers[1]
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1, bias=False), torch.nn.BatchNorm2d(4, eps=1e-3),
                                 torch.nn.ReLU())
    with torch.no_grad():
        module[0].weight.copy_(torch.from_numpy(conv.kernel.data.transpose(3, 2, 0, 1).copy()))
        module[1].weight.copy_(torch.from_numpy(batch_norm.gamma.data))
        module[1].bias.copy_(torch.from_numpy(batch_norm.beta.data))
        module[1].running_mean.copy_(torch.from_numpy(batch_norm.moving_mean.data))
        module[1].running_var.copy_(torch.from_numpy(batch_norm.moving_variance.data))
    image = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    for training in (False, True):
        module.train(training)
        expected = module(image).mean(dim=(2, 3)).detach().numpy()
        with no_grad():
            got = model(x, training=training).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_sequential_plan_follows_layers_added_after_a_call():
    model = Sequential([Input((4,)), L.Dense(3)])
    x = np.ones((2, 4), np.float32)
    assert model(x).shape == (2, 3)
    model.add(L.BatchNormalization())
    model.add(L.Activation("relu"))
    assert BatchNormRelu in {type(step) for step, _ in model._fusion_plan()}
    assert model(x).shape == (2, 3) and np.all(model(x).numpy() >= 0)
