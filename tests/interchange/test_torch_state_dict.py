"""PyTorch out: a zoo network's weights as torchvision's state dict load into PyTorch modules written with
torchvision's names (tests/models/torchvision_mirror.py; torchvision itself is not installed) with
load_state_dict(strict=True), and PyTorch then predicts what striate predicts."""

import importlib.util
import pathlib

import numpy as np
import pytest
import safetensors.torch
import torch
from batch_norm_statistics import with_random_statistics

from striate import models
from striate.interchange import save_torch_state_dict, to_torch_state_dict
from striate.models.vgg import vgg


def load_mirror():
    path = pathlib.Path(__file__).parents[1] / "models" / "torchvision_mirror.py"
    spec = importlib.util.spec_from_file_location("torchvision_mirror", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tv = load_mirror()


def torch_probabilities(module, x):
    with torch.no_grad():
        return torch.softmax(module(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())), dim=1).numpy()


def load_into(module, state_dict):
    module.load_state_dict({name: torch.from_numpy(np.asarray(array)) for name, array in state_dict.items()},
                           strict=True)
    return module.eval()


def test_resnet18_weights_load_into_torchvisions_resnet18_and_predict_the_same(tmp_path):
    model = with_random_statistics(models.resnet18(input_shape=(32, 32, 3), classes=5))
    module = load_into(tv.ResNet(tv.BasicBlock, [2, 2, 2, 2], num_classes=5), to_torch_state_dict(model))
    x = np.random.default_rng(1).standard_normal((3, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(torch_probabilities(module, x), model.predict(x), rtol=1e-4, atol=1e-5)


def test_the_safetensors_file_is_what_pytorch_loads_and_striate_reads_back(tmp_path):
    model = with_random_statistics(models.resnet18(input_shape=(32, 32, 3), classes=4), seed=2)
    path = save_torch_state_dict(model, tmp_path / "resnet18.safetensors")
    state_dict = safetensors.torch.load_file(str(path))
    assert state_dict["conv1.weight"].shape == (64, 3, 7, 7)
    assert state_dict["layer2.0.downsample.1.running_var"].shape == (128,)
    assert state_dict["bn1.num_batches_tracked"].dtype == torch.int64
    module = tv.ResNet(tv.BasicBlock, [2, 2, 2, 2], num_classes=4)
    module.load_state_dict(state_dict, strict=True)
    again = models.resnet18(input_shape=(32, 32, 3), classes=4, weights=path)
    for original, loaded in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(original, loaded)


def test_the_dense_after_a_flatten_gets_pytorchs_channels_first_feature_order():
    # 28x28 -> two 2x2 pools -> 7x7x6: torchvision's pooled size, so its AdaptiveAvgPool2d((7, 7)) changes nothing
    model = vgg((1, 2), input_shape=(28, 28, 3), classes=3, filters=(4, 6), units=8, name="vgg16")
    module = load_into(tv.VGG([4, "M", 6, 6, "M"], num_classes=3, units=8), to_torch_state_dict(model))
    x = np.random.default_rng(3).standard_normal((2, 28, 28, 3)).astype(np.float32)
    np.testing.assert_allclose(torch_probabilities(module, x), model.predict(x), rtol=1e-4, atol=1e-5)


def test_a_network_without_a_torchvision_counterpart_is_refused():
    with pytest.raises(ValueError, match="lenet5 is not one of the zoo networks with a torchvision counterpart"):
        to_torch_state_dict(models.lenet5())
    with pytest.raises(ValueError, match="local response normalization"):
        to_torch_state_dict(models.alexnet(input_shape=(67, 67, 3), classes=3))
