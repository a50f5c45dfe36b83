"""preprocess_input against the definitions written out here: torchvision's Normalize on [0, 1] tensors, Keras'
caffe (BGR minus the ImageNet means) and tf ([-1, 1]) modes, by worked examples."""

import numpy as np
import pytest
import torch

from striate.applications import preprocess_input


def test_torch_mode_is_torchvisions_normalize_of_the_image_in_0_1():
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 4, 3)).astype(np.float32)
    nchw = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()) / 255
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    expected = ((nchw - mean) / std).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(preprocess_input(x, mode="torch"), expected, rtol=1e-5, atol=1e-5)


def test_caffe_mode_reverses_the_channels_and_subtracts_the_bgr_means():
    pixel = np.array([[[10.0, 20.0, 30.0]]])                  # R, G, B
    expected = [[[30 - 103.939, 20 - 116.779, 10 - 123.68]]]  # B, G, R, each minus its mean
    np.testing.assert_allclose(preprocess_input(pixel), expected, rtol=1e-6)  # caffe: Keras' default


def test_tf_mode_maps_0_255_onto_minus_1_1():
    np.testing.assert_allclose(preprocess_input(np.array([0, 127.5, 255]), mode="tf"), [-1, 0, 1])


def test_uint8_input_gives_float32_and_the_input_is_left_unchanged():
    x = np.full((1, 2, 2, 3), 255, dtype=np.uint8)
    out = preprocess_input(x, mode="torch")
    assert out.dtype == np.float32 and x.dtype == np.uint8 and (x == 255).all()
    np.testing.assert_allclose(out[0, 0, 0], (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225],
                               rtol=1e-6)


@pytest.mark.parametrize("arguments, message", [
    ({"mode": "imagenet"}, "mode must be one of ('caffe', 'tf', 'torch'); received 'imagenet'"),
    ({"mode": "torch", "data_format": "channels_first"}, "striate is channels-last; received data_format="),
])
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        preprocess_input(np.zeros((1, 2, 2, 3)), **arguments)


def test_per_channel_modes_need_three_channels():
    with pytest.raises(ValueError, match=r"centres 3 colour channels \(last axis\); received shape \(1, 4, 4, 1\)"):
        preprocess_input(np.zeros((1, 4, 4, 1)), mode="torch")
