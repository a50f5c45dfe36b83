"""Published weights in: PyTorch networks written out with torchvision's module names (torchvision_mirror.py),
random weights and batch-norm statistics, saved with safetensors.torch -> striate.models.NAME(weights=...)
gives PyTorch's predictions; bad files are refused with errors naming the tensor and both shapes."""

import pickle

import numpy as np
import pytest
import safetensors.torch
import torch
import torchvision_mirror as tv

from striate import models
from striate.models.resnet import resnet
from striate.models.vgg import vgg


def save(module, path, keep=lambda name: True):
    """Write module's state dict (the tensors whose name passes `keep`) as safetensors; returns the path."""
    state = {name: tensor.contiguous() for name, tensor in module.state_dict().items() if keep(name)}
    safetensors.torch.save_file(state, path)
    return path


def random_images(shape, seed=0):
    """NHWC float32 images and the same as an NCHW torch tensor."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return x, torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def torch_probabilities(module, x):
    with torch.no_grad():
        return torch.softmax(module(x), dim=1).numpy()


def nhwc(tensor):
    return tensor.detach().numpy().transpose(0, 2, 3, 1)


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    torch.manual_seed(0)
    module = tv.randomize_batch_norm_statistics(tv.ResNet(tv.BasicBlock, [2, 2, 2, 2], num_classes=5))
    return module, save(module, tmp_path_factory.mktemp("weights") / "resnet18.safetensors")


def test_resnet18_with_torchvision_weights_predicts_as_pytorch(resnet18_file):
    module, path = resnet18_file
    model = models.resnet18(input_shape=(32, 32, 3), classes=5, weights=path)
    x, x_torch = random_images((3, 32, 32, 3))
    np.testing.assert_allclose(model.predict(x), torch_probabilities(module, x_torch), rtol=1e-4, atol=1e-5)


def test_resnet18_without_top_gives_pytorchs_feature_maps_and_their_average(resnet18_file):
    module, path = resnet18_file
    x, x_torch = random_images((2, 64, 64, 3), seed=1)
    with torch.no_grad():
        expected = nhwc(module.features(x_torch))
    features = models.resnet18(input_shape=(64, 64, 3), include_top=False, weights=path)
    assert features.output_shape == (None, 2, 2, 512)
    np.testing.assert_allclose(features.predict(x), expected, rtol=1e-4, atol=1e-4)
    pooled = models.resnet18(input_shape=(64, 64, 3), include_top=False, pooling="avg", weights=path)
    np.testing.assert_allclose(pooled.predict(x), expected.mean(axis=(1, 2)), rtol=1e-4, atol=1e-4)


def test_bottleneck_resnets_load_their_projections_as_pytorch(tmp_path):
    # ResNet-50's blocks, one per stage (resnet50 itself is (3, 4, 6, 3) of the same names)
    torch.manual_seed(1)
    module = tv.randomize_batch_norm_statistics(tv.ResNet(tv.Bottleneck, [1, 1, 1, 1], num_classes=3), seed=1)
    model = resnet((1, 1, 1, 1), bottleneck=True, input_shape=(32, 32, 3), classes=3,
                   weights=save(module, tmp_path / "bottlenecks.safetensors"))
    x, x_torch = random_images((2, 32, 32, 3), seed=2)
    np.testing.assert_allclose(model.predict(x), torch_probabilities(module, x_torch), rtol=1e-4, atol=1e-5)


def test_a_small_vgg_permutes_the_flattened_nchw_map_into_the_first_dense_layer(tmp_path):
    # 28x28 -> two 2x2 pools -> 7x7x6, torchvision's pooled size, so AdaptiveAvgPool2d((7, 7)) changes nothing
    torch.manual_seed(2)
    module = tv.VGG([4, "M", 6, 6, "M"], num_classes=3, units=8).eval()
    path = save(module, tmp_path / "vgg.safetensors")
    model = vgg((1, 2), input_shape=(28, 28, 3), classes=3, filters=(4, 6), units=8, weights=path)
    x, x_torch = random_images((4, 28, 28, 3), seed=3)
    np.testing.assert_allclose(model.predict(x), torch_probabilities(module, x_torch), rtol=1e-4, atol=1e-5)


def test_vgg16_without_top_reads_torchvisions_feature_names(tmp_path):
    torch.manual_seed(3)
    features = tv.vgg_features(tv.VGG16_CFG)
    path = tmp_path / "vgg16.safetensors"
    safetensors.torch.save_file({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    model = models.vgg16(input_shape=(32, 32, 3), include_top=False, pooling="max", weights=path)
    x, x_torch = random_images((2, 32, 32, 3), seed=4)
    with torch.no_grad():
        expected = features(x_torch).amax(dim=(2, 3)).numpy()
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-4)


def test_alexnet_with_torchvision_weights_is_torchvisions_variant(tmp_path):
    torch.manual_seed(4)
    module = tv.AlexNet()
    path = tmp_path / "alexnet.safetensors"
    safetensors.torch.save_file({f"features.{k}": v for k, v in module.features.state_dict().items()}, path)
    model = models.alexnet(input_shape=(63, 63, 3), include_top=False, weights=path)
    assert [layer.name for layer in model.layers if layer.weights] == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    x, x_torch = random_images((2, 63, 63, 3), seed=5)
    with torch.no_grad():
        expected = nhwc(module.features(x_torch))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-4)
    # the whole network, classifier included, has torchvision's parameter count
    assert sum(p.numel() for p in module.parameters()) == 61_100_840
    assert models.alexnet(variant="torchvision").count_params() == 61_100_840


def test_googlenet_with_torchvision_weights_predicts_as_pytorch(tmp_path):
    torch.manual_seed(5)
    module = tv.randomize_batch_norm_statistics(tv.GoogLeNet(num_classes=4), seed=5)
    extra = {"aux1.fc2.weight": torch.zeros(4, 1024)}  # torchvision's published file has auxiliary heads: unused
    path = tmp_path / "googlenet.safetensors"
    safetensors.torch.save_file({**module.state_dict(), **extra}, path)
    model = models.googlenet(input_shape=(64, 64, 3), classes=4, weights=path)
    x, x_torch = random_images((2, 64, 64, 3), seed=6)
    np.testing.assert_allclose(model.predict(x), torch_probabilities(module, x_torch), rtol=1e-4, atol=1e-5)


# ---- bad input ------------------------------------------------------------------------------------------
def test_a_missing_tensor_is_named_with_the_shape_the_model_needs(resnet18_file, tmp_path):
    module, _ = resnet18_file
    path = save(module, tmp_path / "partial.safetensors", keep=lambda name: name != "layer3.1.bn2.running_var")
    with pytest.raises(ValueError, match=r"layer3\.1\.bn2\.running_var is missing \(the model needs shape \(256,\)\)"):
        models.resnet18(input_shape=(32, 32, 3), classes=5, weights=path)


def test_a_misshaped_tensor_is_named_with_both_shapes(resnet18_file):
    _, path = resnet18_file
    with pytest.raises(ValueError, match=r"fc\.weight has shape \(5, 512\) in the file; the model needs \(10, 512\)"):
        models.resnet18(input_shape=(32, 32, 3), classes=10, weights=path)


def test_weights_of_a_deeper_network_are_refused_naming_the_unused_tensors(tmp_path):
    torch.manual_seed(6)
    path = save(tv.ResNet(tv.BasicBlock, [3, 4, 6, 3], num_classes=2), tmp_path / "resnet34.safetensors")
    with pytest.raises(ValueError, match=r"the file has 80 tensor\(s\) resnet18 does not use: layer1\.2\.bn1\.bias"):
        models.resnet18(input_shape=(32, 32, 3), classes=2, weights=path)


def test_vgg_with_top_at_a_size_torchvision_did_not_pool_to_says_what_to_do(tmp_path):
    torch.manual_seed(7)
    path = save(tv.VGG([4, "M", 6, 6, "M"], num_classes=3, units=8), tmp_path / "vgg.safetensors")
    with pytest.raises(ValueError, match=r"classifier\.0\.weight has shape \(8, 294\) in the file; the model needs "
                                         r"\(8, 600\) \(this layer takes the flattened last feature map"):
        vgg((1, 2), input_shape=(40, 40, 3), classes=3, filters=(4, 6), units=8, weights=path)


class Alarm:
    """Unpickling this creates `path`: proof that a loader unpickled the file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("filename", ["resnet18.pth", "resnet18.pt", "disguised.safetensors"])
def test_a_pytorch_pickle_is_refused_without_being_unpickled(tmp_path, filename):
    alarm = tmp_path / "unpickled"
    path = tmp_path / filename
    if filename.endswith(".safetensors"):
        path.write_bytes(pickle.dumps(Alarm(alarm), protocol=2))
    else:
        torch.save({"conv1.weight": torch.zeros(1), "payload": Alarm(alarm)}, path)
    with pytest.raises(ValueError, match="PyTorch pickle") as caught:
        models.resnet18(input_shape=(32, 32, 3), weights=path)
    assert not alarm.exists()
    lines = str(caught.value).splitlines()[1:]
    assert lines == ["    import torch, safetensors.torch",
                     f"    state_dict = torch.load({str(path)!r}, map_location='cpu', weights_only=True)",
                     "    safetensors.torch.save_file({k: v.contiguous() for k, v in state_dict.items()}, "
                     f"{path.stem + '.safetensors'!r})"]


def test_the_conversion_lines_in_the_message_do_convert_a_pickle(tmp_path, monkeypatch):
    torch.manual_seed(8)
    module = tv.randomize_batch_norm_statistics(tv.ResNet(tv.BasicBlock, [2, 2, 2, 2], num_classes=2))
    torch.save(module.state_dict(), tmp_path / "resnet18.pth")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as caught:
        models.resnet18(input_shape=(32, 32, 3), classes=2, weights="resnet18.pth")
    exec("\n".join(line.strip() for line in str(caught.value).splitlines()[1:]), {})  # the three lines, as given
    model = models.resnet18(input_shape=(32, 32, 3), classes=2, weights="resnet18.safetensors")
    x, x_torch = random_images((2, 32, 32, 3), seed=9)
    np.testing.assert_allclose(model.predict(x), torch_probabilities(module, x_torch), rtol=1e-4, atol=1e-5)


def test_paper_alexnet_refuses_torchvision_weights(tmp_path):
    with pytest.raises(ValueError, match="variant='torchvision' only; received variant='paper'"):
        models.alexnet(variant="paper", weights=tmp_path / "alexnet.safetensors")


def test_include_top_false_drops_exactly_the_classifier():
    # the full network's counts are pinned in test_classic_networks.py
    without_top = models.resnet18(input_shape=(32, 32, 3), include_top=False)
    trainable = sum(w.size for w in without_top.trainable_weights)
    assert trainable == 11_689_512 - (512 * 1000 + 1000)
    assert without_top.output_shape == (None, 1, 1, 512)
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'; received 'mean'"):
        models.vgg16(include_top=False, pooling="mean")
