"""Every zoo network exported to ONNX: ONNX Runtime computes striate's outputs (1e-4 relative), and
striate.load_onnx reads the file back into a model that computes them too.

Small input sizes keep it fast; the last layer's softmax is dropped (compared: the logits, which a wrong
weight moves more than probabilities near uniform), and batch-norm statistics are random (fresh ones, mean 0
and variance 1, would hide a normalization that is skipped)."""

import numpy as np
import onnxruntime
import pytest
from batch_norm_statistics import with_random_statistics

from striate import models
from striate.interchange import export_onnx, load_onnx
from striate.layers import activations

ZOO = {  # name: (builder, small input shape)
    "lenet5": (models.lenet5, (32, 32, 1)),
    "mnist_cnn": (models.mnist_cnn, (28, 28, 1)),
    "alexnet": (models.alexnet, (67, 67, 3)),
    "vgg16": (models.vgg16, (32, 32, 3)),
    "resnet18": (models.resnet18, (32, 32, 3)),
    "resnet50": (models.resnet50, (32, 32, 3)),
    "googlenet": (models.googlenet, (32, 32, 3)),
    "mobilenet_v1": (models.mobilenet_v1, (32, 32, 3)),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (model, its ONNX file, inputs, striate's outputs), each network built and exported once."""
    folder, cache = tmp_path_factory.mktemp("zoo"), {}

    def export(name):
        if name not in cache:
            builder, shape = ZOO[name]
            model = with_random_statistics(builder(input_shape=shape, classes=10))
            model.layers[-1].activation = activations.linear
            path = export_onnx(model, folder / f"{name}.onnx")
            x = np.random.default_rng(1).standard_normal((2, *shape)).astype(np.float32)
            cache[name] = model, path, x, model.predict(x)
        return cache[name]
    return export


def assert_relatively_close(actual, expected, tolerance=1e-4):
    assert actual.shape == expected.shape
    scale = np.abs(expected).max()
    assert np.abs(actual - expected).max() <= tolerance * scale, np.abs(actual - expected).max() / scale


@pytest.mark.parametrize("name", list(ZOO))
def test_onnx_runtime_computes_what_striate_computes(exported, name):
    _, path, x, expected = exported(name)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, {"input": x})
    assert_relatively_close(actual, expected)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "resnet18", "googlenet", "mobilenet_v1"])
def test_an_exported_zoo_network_loads_back_into_the_same_function(exported, name):
    model, path, x, expected = exported(name)
    loaded = load_onnx(path)
    assert loaded.input_shape == model.input_shape
    assert loaded.count_params() == model.count_params()
    assert_relatively_close(loaded.predict(x), expected, tolerance=1e-5)
