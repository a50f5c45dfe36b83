"""Saliency, guided backpropagation and occlusion, against PyTorch and against models whose answer is known."""

import numpy as np
import pytest
import torch

import striate
from oracle import assert_close
from striate import layers as L
from striate.inspect.attribution import guided_backprop, occlusion, saliency, saliency_map, window_starts


def small_cnn():
    """10x10x2 -> conv 4@3x3 relu -> pool 2 -> conv 6@3x3 same relu -> flatten -> dense 5 relu -> dense 3 softmax."""
    striate.set_random_seed(3)
    return striate.Sequential([
        L.Conv2D(4, 3, activation="relu", input_shape=(10, 10, 2)),
        L.MaxPooling2D(2),
        L.Conv2D(6, 3, padding="same", activation="relu"),
        L.Flatten(),
        L.Dense(5, activation="relu"),
        L.Dense(3, activation="softmax"),
    ])


class GuidedReLU(torch.autograd.Function):
    """Springenberg et al.'s rule written for torch: relu forward; backward grad * (x > 0) * (grad > 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0) * (grad > 0)


def torch_input_gradient(model, image, class_index, relu):
    """d logit_c / d image through the same weights in torch (NCHW inside, channels-last in and out)."""
    conv1, _, conv2, _, dense1, dense2 = [[torch.tensor(w, dtype=torch.float64) for w in layer.get_weights()]
                                          for layer in model.layers]
    x = torch.tensor(image[None], dtype=torch.float64, requires_grad=True)
    y = relu(torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), conv1[0].permute(3, 2, 0, 1), conv1[1]))
    y = torch.nn.functional.max_pool2d(y, 2)
    y = relu(torch.nn.functional.conv2d(y, conv2[0].permute(3, 2, 0, 1), conv2[1], padding=1))
    y = y.permute(0, 2, 3, 1).reshape(1, -1)  # flatten in striate's (H, W, C) order
    y = relu(y @ dense1[0] + dense1[1])
    logits = y @ dense2[0] + dense2[1]
    logits[0, class_index].backward()
    return x.grad[0].numpy()


@pytest.fixture(scope="module")
def cnn_and_image():
    return small_cnn(), np.random.default_rng(0).standard_normal((10, 10, 2)).astype(np.float32)


@pytest.mark.parametrize("class_index", [0, 2])
def test_saliency_of_a_conv_net_equals_torch_autograd_of_the_logit(cnn_and_image, class_index):
    model, image = cnn_and_image
    expected = torch_input_gradient(model, image, class_index, torch.relu)
    assert_close(saliency(model, image, class_index), expected, np.float32, "saliency")


@pytest.mark.parametrize("class_index", [0, 1])
def test_guided_backprop_of_a_conv_net_equals_torch_with_a_guided_relu(cnn_and_image, class_index):
    model, image = cnn_and_image
    expected = torch_input_gradient(model, image, class_index, GuidedReLU.apply)
    guided = guided_backprop(model, image, class_index)
    assert_close(guided, expected, np.float32, "guided backprop")
    assert not np.allclose(guided, saliency(model, image, class_index))  # the gating did change something


def test_saliency_of_a_linear_model_is_the_class_column_of_the_kernel():
    striate.set_random_seed(0)
    for last in ([L.Dense(10)], [L.Dense(10, activation="softmax")], [L.Dense(10), L.Activation("softmax")]):
        model = striate.Sequential([L.Flatten(input_shape=(5, 4, 3)), *last])
        image = np.random.default_rng(1).random((5, 4, 3)).astype(np.float32)
        kernel = model.layers[1].get_weights()[0]
        np.testing.assert_allclose(saliency(model, image, 7), kernel[:, 7].reshape(5, 4, 3), rtol=1e-6)


def test_saliency_map_is_the_largest_absolute_gradient_over_channels():
    gradient = np.array([[[1.0, -3.0], [0.5, 0.25]]])
    np.testing.assert_array_equal(saliency_map(gradient), [[3.0, 0.5]])


def test_guided_backprop_equals_the_gradient_where_relus_pass_and_downstream_weights_are_positive():
    striate.set_random_seed(0)
    model = striate.Sequential([L.Flatten(input_shape=(4, 4, 1)), L.Dense(6, activation="relu"), L.Dense(3)])
    rng = np.random.default_rng(0)
    dense1, dense2 = model.layers[1], model.layers[2]
    dense1.set_weights([rng.standard_normal((16, 6)), np.full(6, 100.0)])  # relu inputs all > 0
    dense2.set_weights([rng.random((6, 3)) + 0.1, np.zeros(3)])              # upstream gradients all > 0
    image = rng.random((4, 4, 1)).astype(np.float32)
    expected = (dense1.get_weights()[0] @ dense2.get_weights()[0][:, 1]).reshape(4, 4, 1)
    np.testing.assert_allclose(guided_backprop(model, image, 1), expected, rtol=1e-5)
    np.testing.assert_allclose(saliency(model, image, 1), expected, rtol=1e-5)


def test_weights_get_no_gradient_and_stay_trainable(cnn_and_image):
    model, image = cnn_and_image
    saliency(model, image[None], 1)
    guided_backprop(model, image, 1)
    assert all(w.grad is None and w.requires_grad for w in model.weights)


# ---- occlusion ---------------------------------------------------------------------------------------------
def region_model():
    """score_0 = sum of the pixels in rows 2..7, columns 3..8 of a 14x14 image; score_1 = 0."""
    model = striate.Sequential([L.Flatten(input_shape=(14, 14, 1)), L.Dense(2, use_bias=False)])
    weights = np.zeros((14, 14, 1, 2))
    weights[2:8, 3:9, 0, 0] = 1.0
    model.layers[1].set_weights([weights.reshape(196, 2)])
    return model


def occlusion_by_hand(image, weights, patch, starts):
    """Each pixel: the mean, over the squares containing it, of the weighted sum the square covers."""
    height, width = image.shape
    result = np.zeros((height, width))
    for i in range(height):
        for j in range(width):
            drops = [np.sum((image * weights)[t : t + patch, s : s + patch])
                     for t in starts for s in starts if t <= i < t + patch and s <= j < s + patch]
            result[i, j] = np.mean(drops)
    return result


@pytest.mark.parametrize("patch, stride", [(3, 1), (4, 3)])
def test_occlusion_is_highest_on_the_region_the_score_reads_and_zero_far_away(patch, stride):
    image = np.random.default_rng(0).random((14, 14, 1)).astype(np.float32) + 0.5
    heat = occlusion(region_model(), image, 0, patch=patch, stride=stride, batch_size=7)
    weights = np.zeros((14, 14))
    weights[2:8, 3:9] = 1.0
    expected = occlusion_by_hand(image[..., 0], weights, patch, window_starts(14, patch, stride))
    np.testing.assert_allclose(heat, expected, rtol=1e-5, atol=1e-5)
    top = np.unravel_index(np.argmax(heat), heat.shape)
    assert 2 <= top[0] < 8 and 3 <= top[1] < 9
    assert np.all(heat[11:, :] == 0) and np.all(heat[:, 12:] == 0)


def test_occlusion_fill_value_counts_and_a_class_that_ignores_the_image_gives_zero():
    image = np.ones((14, 14, 1), dtype=np.float32)
    model = region_model()
    assert np.all(occlusion(model, image, 1, patch=4, stride=2) == 0)
    assert np.all(occlusion(model, image, 0, patch=4, stride=2, fill=1.0) == 0)  # covering with the same values


def test_window_starts_reach_the_last_pixel():
    assert window_starts(14, 4, 3) == [0, 3, 6, 9, 10]
    assert window_starts(14, 4, 5) == [0, 5, 10]
    assert window_starts(4, 4, 2) == [0]


# ---- refused before any work --------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [saliency, guided_backprop,
                                    lambda m, x, c: occlusion(m, x, c, patch=2, stride=1)])
def test_class_index_out_of_range_and_wrong_shape_are_refused(cnn_and_image, method):
    model, image = cnn_and_image
    with pytest.raises(ValueError, match=r"class_index must be an int from 0 to 2 .* received class_index=3"):
        method(model, image, 3)
    with pytest.raises(ValueError, match=r"takes batches of shape \(None, 10, 10, 2\); received .* \(1, 8, 8, 2\)"):
        method(model, image[:8, :8], 0)
    with pytest.raises(ValueError, match="one image"):
        method(model, np.stack([image, image]), 0)


def test_occlusion_patch_larger_than_the_image_is_refused(cnn_and_image):
    model, image = cnn_and_image
    with pytest.raises(ValueError, match="patch must be an int from 1 to 10"):
        occlusion(model, image, 0, patch=11, stride=1)


def test_gradient_methods_refuse_to_run_inside_no_grad(cnn_and_image):
    model, image = cnn_and_image
    with striate.no_grad(), pytest.raises(RuntimeError, match="saliency: gradients are off"):
        saliency(model, image, 0)


def test_guided_backprop_refuses_a_nested_model():
    striate.set_random_seed(0)
    inner = striate.Sequential([L.Dense(3, activation="relu", input_shape=(4,))], name="inner")
    model = striate.Sequential([L.InputLayer((4,)), inner, L.Dense(2)])
    with pytest.raises(ValueError, match=r"contains the models \['inner'\]"):
        guided_backprop(model, np.ones(4, dtype=np.float32), 0)
