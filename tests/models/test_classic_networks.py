"""The classic networks: exact parameter counts of the reference implementations, and each one runs and trains
on a small input (their native sizes are timed by bench/classic_networks.py, not here)."""

import numpy as np
import pytest

import striate
from striate import models


def trainable(model):
    return sum(w.size for w in model.trainable_weights)


@pytest.fixture(scope="module")
def built():
    """Each network at its default settings, built once for the module."""
    return {name: build() for name, build in models.NETWORKS.items()}


@pytest.mark.parametrize("name, expected", [
    ("lenet5", 61_706),           # the lectures' table
    ("alexnet", 62_378_344),      # the paper's layer sizes, one stream (derivation in alexnet.py)
    ("vgg16", 138_357_544),       # keras.applications / torchvision
    ("vgg19", 143_667_240),
    ("resnet18", 11_689_512),     # torchvision
    ("resnet34", 21_797_672),
    ("resnet50", 25_557_032),
    ("googlenet", 6_624_904),     # torchvision googlenet(aux_logits=False)
    ("mobilenet_v1", 4_231_976),  # keras.applications.MobileNet, trainable
])
def test_trainable_parameters_equal_the_reference_implementations(built, name, expected):
    assert trainable(built[name]) == expected


def test_mobilenet_v1_counts_with_batch_norm_statistics_as_keras_reports(built):
    assert built["mobilenet_v1"].count_params() == 4_253_864


def test_alexnet_split_over_two_gpus_has_the_papers_60_million():
    assert models.alexnet(groups=2).count_params() == 60_965_224


def test_mobilenet_width_multiplier_scales_every_layer():
    model = models.mobilenet_v1(alpha=0.5)
    assert model.count_params() == 1_342_536  # keras.applications.MobileNet(alpha=0.5)
    assert [layer.filters for layer in model.layers if layer.name in ("conv1", "conv_pw_13")] == [16, 512]


def test_googlenet_auxiliary_heads_are_off_by_default_and_add_torchvisions_count():
    assert models.googlenet().auxiliary_heads == []
    model = models.googlenet(auxiliary_heads=True)
    weights = {id(w): w.size for m in [model, *model.auxiliary_heads] for w in m.trainable_weights}
    assert sum(weights.values()) == 13_004_888
    assert [head.output_shape for head in model.auxiliary_heads] == [(None, 1000), (None, 1000)]


def test_googlenet_with_the_papers_5x5_branch():
    assert trainable(models.googlenet(five_by_five=True)) == 7_005_832


def test_resnet50_stride_placement_changes_no_parameter():
    assert trainable(models.resnet50(stride_on="1x1")) == 25_557_032


def test_blocks_read_as_the_papers():
    assert [type(layer).__name__ for layer in models.vgg_block(1, 2, 64)] == ["Conv2D", "Conv2D", "MaxPooling2D"]
    inputs = striate.Input((8, 8, 16))
    assert models.residual_block(inputs, 32, strides=2).shape == (None, 4, 4, 32)
    assert models.bottleneck_block(inputs, 8).shape == (None, 8, 8, 32)
    assert models.inception_module(inputs, 1, 2, 3, 4, 5, 6).shape == (None, 8, 8, 1 + 3 + 5 + 6)
    names = [layer.name for layer in models.separable_block(64, block_id=3)]
    assert names == ["conv_dw_3", "conv_dw_3_bn", "conv_dw_3_relu", "conv_pw_3", "conv_pw_3_bn", "conv_pw_3_relu"]


@pytest.mark.parametrize("name, input_shape", [
    ("alexnet", (67, 67, 3)), ("vgg16", (32, 32, 3)), ("resnet18", (32, 32, 3)),
    ("googlenet", (32, 32, 3)), ("mobilenet_v1", (32, 32, 3)),
])
def test_each_network_runs_forward_and_one_training_step_on_a_small_input(name, input_shape):
    striate.set_random_seed(0)
    model = models.NETWORKS[name](input_shape=input_shape, classes=5)
    x = np.random.default_rng(0).standard_normal((2, *input_shape)).astype(np.float32)
    probabilities = model.predict(x)
    assert probabilities.shape == (2, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = [w.data.copy() for w in model.trainable_weights]
    loss = model.train_on_batch(x, np.array([0, 3]))
    assert np.isfinite(loss)
    changed = [not np.array_equal(b, w.data) for b, w in zip(before, model.trainable_weights)]
    assert sum(changed) > len(changed) // 2  # the gradient reached most weights
