"""Shape errors explain themselves: the chain of layers with their shapes, the formula that failed, a hint."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate import models
from striate.inspect.plan import plan
from striate.inspect.shapes import ShapeError


def test_a_kernel_larger_than_what_reaches_it_shows_the_chain_and_the_formula():
    with pytest.raises(ShapeError) as caught:
        striate.Sequential([L.Conv2D(8, 5, input_shape=(12, 12, 1), name="c1"), L.MaxPooling2D(2, name="p1"),
                            L.Conv2D(8, 5, name="c2")], name="small")
    message = str(caught.value)
    assert "small: layer c2 (Conv2D) does not fit what reaches it" in message
    assert "input" in message and "(None, 12, 12, 1)" in message
    assert "c1 (Conv2D)" in message and "(None, 8, 8, 8)" in message and "(None, 4, 4, 8)" in message
    assert "-> c2 (Conv2D)" in message
    assert "floor((4 + 0 - 5) / 1) + 1 = 0" in message
    assert "hint: the input is too small for these layers: the smallest square input they accept is 14x14x1" in message


def test_a_dense_layer_built_for_another_flattened_size_shows_both_products():
    model = models.lenet5()  # built for 32x32x1: flatten gives 5 * 5 * 16 = 400
    with pytest.raises(ShapeError) as caught:
        model(np.zeros((2, 36, 36, 1), np.float32))
    message = str(caught.value)
    assert "layer fc1 (Dense) does not fit" in message and "flatten (Flatten)" in message
    assert "fc1: built for 400 input features (kernel (400, 120)); received 576" in message
    assert "flatten: 6 * 6 * 16 = 576 features; fc1 was built for 5 * 5 * 16 = 400" in message
    assert "GlobalAveragePooling2D instead of Flatten" in message


def test_channels_first_input_to_a_built_model_gets_the_nchw_hint():
    with pytest.raises(ShapeError, match=r"did you pass NCHW\? striate is channels-last") as caught:
        models.lenet5()(np.zeros((2, 1, 32, 32), np.float32))
    assert "its kernel (5, 5, 1, 6) was built for 1 input channels" in str(caught.value)


def test_channels_first_input_shape_at_build_gets_the_nchw_hint():
    with pytest.raises(ShapeError, match=r"did you pass NCHW\?.*x.transpose\(0, 2, 3, 1\)"):
        models.vgg16(input_shape=(3, 224, 224))


def test_functional_models_explain_too():
    model = models.resnet18(input_shape=(32, 32, 3), classes=4)
    with pytest.raises(ShapeError, match=r"resnet18: layer conv1_conv \(Conv2D\)[\s\S]*did you pass NCHW"):
        model(np.zeros((1, 3, 32, 32), np.float32))


def test_plan_raises_the_same_explanation():
    with pytest.raises(ShapeError, match=r"flatten: 1 \* 1 \* 512 = 512 features; fc1 was built for 2 \* 2 \* 512"):
        plan(models.vgg16(input_shape=(64, 64, 3), classes=2), (32, 32, 3))


def test_shape_errors_are_value_errors_and_other_errors_pass_unchanged():
    assert issubclass(ShapeError, ValueError)

    class Refuses(L.Layer):
        def call(self, inputs, training=False):
            raise ValueError("refused for another reason")

    model = striate.Sequential([L.Dense(2, input_shape=(3,)), Refuses()])
    with pytest.raises(ValueError, match="^refused for another reason$"):
        model(np.zeros((1, 3), np.float32))
