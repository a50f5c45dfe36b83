"""ONNX in: PyTorch networks exported with torch.onnx.export (channels-first) load into striate models that
compute PyTorch's outputs on channels-last inputs; graphs striate cannot express are refused, every unknown
operator named in one error."""

import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from striate import layers as L
from striate.core.errors import FileFormatError
from striate.interchange import load_onnx


def export(module, x, path, **options):
    """torch.onnx.export's TorchScript exporter (the dynamo one needs onnxscript), opset 17, free batch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}}, opset_version=17, **options)
    return path


def with_random_statistics(module, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm2d):
                n = layer.num_features
                layer.running_mean.copy_(torch.randn(n, generator=generator) * 0.3)
                layer.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                layer.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                layer.bias.copy_(torch.randn(n, generator=generator) * 0.3)
    return module.eval()


class SmallCNN(nn.Module):
    """conv + batch norm + relu + max pool, then a linear layer on the flattened (C, H, W) map."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 5 * 6, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.bn(self.conv(x)))), 1))


class ResidualCNN(nn.Module):
    """A ResNet stem (7x7 stride 2, max pool 3 stride 2 pad 1) and one basic block with its identity added."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.bn2(self.conv2(x)) + x)
        return torch.softmax(self.fc(torch.flatten(self.avgpool(x), 1)), dim=1)


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.gru = nn.GRU(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        sequence, _ = self.lstm(x)
        _, last = self.gru(sequence)
        return self.fc(last[-1])


def torch_output(module, x):
    with torch.no_grad():
        return module(x).numpy()


def channels_last(x):
    return x.numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("keep_batch_norm", [False, True], ids=["folded", "batch_norm_kept"])
def test_a_pytorch_cnn_loads_and_computes_pytorchs_outputs(tmp_path, keep_batch_norm):
    torch.manual_seed(0)
    module = with_random_statistics(SmallCNN())
    x = torch.randn(3, 3, 10, 12)
    # eval export folds batch norm into the convolution; PRESERVE without folding keeps the node
    options = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False} if keep_batch_norm else {}
    model = load_onnx(export(module, x, tmp_path / "cnn.onnx", **options))
    assert model.input_shape == (None, 10, 12, 3)
    assert any(isinstance(layer, L.BatchNormalization) for layer in model.layers) == keep_batch_norm
    np.testing.assert_allclose(model.predict(channels_last(x)), torch_output(module, x), rtol=1e-4, atol=1e-5)


def test_a_pytorch_residual_block_loads_with_its_add_and_padded_pool(tmp_path):
    torch.manual_seed(1)
    module = with_random_statistics(ResidualCNN(), seed=1)
    x = torch.randn(2, 3, 32, 32)
    model = load_onnx(export(module, x, tmp_path / "residual.onnx"))
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Add", "ZeroPadding2D", "MaxPooling2D", "GlobalAveragePooling2D"} <= kinds
    np.testing.assert_allclose(model.predict(channels_last(x)), torch_output(module, x), rtol=1e-4, atol=1e-6)


def test_pytorch_lstm_and_gru_load_with_their_gate_orders(tmp_path):
    torch.manual_seed(2)
    module = Recurrent()
    x = torch.randn(3, 7, 4)
    model = load_onnx(export(module, x, tmp_path / "recurrent.onnx"))
    assert [type(layer).__name__ for layer in model.layers] == ["LSTM", "GRU", "Dense"]
    np.testing.assert_allclose(model.predict(x.numpy()), torch_output(module, x), rtol=1e-4, atol=1e-6)


def save_graph(path, nodes, output_shape=("N", 3, 4, 4)):
    """A graph written by hand: input x (N, 3, 4, 4), output y."""
    graph = helper.make_graph(nodes, "handmade",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ("N", 3, 4, 4))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_every_unknown_operator_is_listed_in_one_error(tmp_path):
    path = save_graph(tmp_path / "unknown.onnx", [
        helper.make_node("Relu", ["x"], ["a"], name="first_relu"),
        helper.make_node("Einsum", ["a"], ["b"], name="mixing", equation="nchw->nchw"),
        helper.make_node("Hardmax", ["b"], ["c"], name="winner_1"),
        helper.make_node("Hardmax", ["c"], ["y"], name="winner_2"),
    ])
    with pytest.raises(FileFormatError) as error:
        load_onnx(path)
    message = str(error.value)
    assert "unsupported ONNX operators: Einsum (1 node: mixing); Hardmax (2 nodes: winner_1, winner_2)" in message
    assert "Relu (" not in message


def test_a_node_striate_cannot_express_is_named_with_the_reason(tmp_path):
    # a max pool padded by 1 of an input that may be negative: zeros would win where -inf should not
    path = save_graph(tmp_path / "pool.onnx", [
        helper.make_node("MaxPool", ["x"], ["y"], name="padded_pool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
    ], output_shape=("N", 3, 2, 2))
    with pytest.raises(FileFormatError, match=r"node padded_pool \(MaxPool\): padding \[\(1, 1\), \(1, 1\)\]"):
        load_onnx(path)


def test_a_file_that_is_no_onnx_model_is_a_file_format_error(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x00 this is not a protobuf \xff" * 10)
    with pytest.raises(FileFormatError, match="model.onnx: not a valid ONNX model"):
        load_onnx(path)
    with pytest.raises(FileNotFoundError):
        load_onnx(tmp_path / "missing.onnx")
