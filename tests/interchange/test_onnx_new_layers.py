"""striate -> ONNX for the Keras layers striate added (activation layers, reshaping, merging, noise,
normalization, preprocessing, augmentation, the 1-D / 3-D convolution forms): ONNX Runtime computes what
striate's predict computes, to 1e-4 relative, for a tiny model around each layer; striate.load_onnx reads back
those whose ONNX operators it reads."""

import warnings

import numpy as np
import onnxruntime
import pytest
import torch
from torch import nn

import striate
from striate import layers as L
from striate.interchange import export_onnx, load_onnx


def sequential(shape, *stack):
    return striate.Sequential([L.InputLayer(shape), *stack])


def with_random_weights(model, seed=0):
    """Every trainable weight drawn at random (biases, gammas, betas and PReLU's alpha included), so none is
    trivial; statistics (Normalization's) stay as adapted."""
    rng = np.random.default_rng(seed)
    for weight in model.trainable_weights:
        weight.data[...] = rng.uniform(-1, 1, weight.data.shape).astype(weight.data.dtype)
    return model


def two_inputs(merge_layer, shapes=((4, 5, 3), (4, 5, 3)), before=None):
    """A functional model merging two inputs; `before` (a layer per input) runs first (a Conv2D puts the
    graph's tensor channels-first)."""
    inputs = [striate.Input(shape) for shape in shapes]
    tensors = [layer(tensor) for layer, tensor in zip(before, inputs)] if before else inputs
    return striate.Model(inputs, merge_layer(tensors))


def adapted_normalization():
    layer = L.Normalization()
    layer.adapt(np.random.default_rng(3).standard_normal((20, 4, 5, 3)) * 2 + 1)
    return sequential((4, 5, 3), L.Conv2D(3, 1), layer)


# name -> a model; after a Conv the graph holds the map channels-first, so each spatial layer is tried in both
# layouts
MODELS = {
    "ReLU default": lambda: sequential((4, 5, 3), L.Conv2D(3, 1), L.ReLU()),
    "ReLU max_value slope threshold": lambda: sequential(
        (6,), L.Dense(8), L.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.2)),
    "ReLU6 and leaky": lambda: sequential((6,), L.Dense(8), L.ReLU(max_value=6.0), L.Dense(5),
                                          L.ReLU(negative_slope=0.25)),
    "LeakyReLU ELU": lambda: sequential((4, 5, 3), L.Conv2D(3, 1), L.LeakyReLU(0.15), L.ELU(alpha=0.7)),
    "PReLU per channel and per cell": lambda: sequential(
        (4, 5, 3), L.Conv2D(3, 1), L.PReLU(shared_axes=[1, 2]), L.Conv2D(2, 1), L.PReLU()),
    "Softmax on an axis and on two": lambda: sequential(
        (4, 5, 3), L.Conv2D(3, 1), L.Softmax(axis=1), L.Softmax(axis=[1, 3])),
    "Softmax channels": lambda: sequential((4, 5, 3), L.Conv2D(3, 1), L.Softmax()),
    "Reshape Permute": lambda: sequential(
        (4, 5, 3), L.Conv2D(6, 1), L.Reshape((10, -1)), L.Permute((2, 1)), L.Dense(2)),
    "RepeatVector": lambda: sequential((6,), L.Dense(4), L.RepeatVector(3), L.Dense(2)),
    "UpSampling1D 2D 3D nearest": lambda: sequential(
        (2, 3, 4, 2), L.UpSampling3D((2, 1, 3)), L.Conv3D(2, 1), L.Reshape((4, 3, 24)), L.UpSampling2D((2, 3)),
        L.Conv2D(2, 1), L.Reshape((8, 18)), L.UpSampling1D(2)),
    "UpSampling2D bilinear": lambda: sequential((3, 4, 2), L.Conv2D(2, 1), L.UpSampling2D(3, interpolation="bilinear")),
    "Cropping 1D 2D 3D": lambda: sequential(
        (5, 6, 7, 2), L.Cropping3D(((1, 0), (2, 1), (1, 1))), L.Conv3D(2, 1), L.Reshape((4, 3, 10)),
        L.Cropping2D(((0, 1), (1, 1))), L.Reshape((3, 10)), L.Cropping1D((1, 0))),
    "ZeroPadding 1D 3D": lambda: sequential(
        (2, 3, 4, 2), L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), L.Conv3D(2, 1), L.Reshape((15, 12)),
        L.ZeroPadding1D((2, 1)), L.Conv1D(3, 2), L.ZeroPadding1D(1)),
    "Identity and the noise layers": lambda: sequential(
        (4, 5, 3), L.Identity(), L.GaussianNoise(0.5), L.Conv2D(3, 1), L.GaussianDropout(0.3),
        L.SpatialDropout2D(0.5), L.Reshape((20, 3)), L.SpatialDropout1D(0.5)),
    "SpatialDropout3D": lambda: sequential((2, 3, 4, 2), L.SpatialDropout3D(0.5), L.Conv3D(2, 1)),
    "random augmentations": lambda: sequential(
        (6, 6, 3), L.RandomFlip(), L.RandomRotation(0.2), L.RandomTranslation(0.1, 0.1), L.RandomZoom(0.2),
        L.RandomContrast(0.5), L.RandomCrop(6, 6), L.Conv2D(2, 1)),
    "Subtract channels-first": lambda: striate.Model(
        inputs := striate.Input((4, 5, 3)), L.Subtract()([L.Conv2D(3, 1)(inputs), inputs])),
    "Multiply of three": lambda: striate.Model(
        inputs := [striate.Input((5,)) for _ in range(3)], L.Multiply()(inputs)),
    "Maximum Minimum Average Multiply": lambda: striate.Model(
        inputs := striate.Input((4, 5, 3)),
        L.Average()([L.Maximum()(pair := [L.Conv2D(3, 1)(inputs), L.Conv2D(3, 1)(inputs)]), L.Minimum()(pair),
                     L.Multiply()(pair)])),
    "Multiply broadcast": lambda: two_inputs(L.Multiply(), shapes=((4, 5, 3), (1, 5, 1)),
                                             before=[L.Conv2D(3, 1), L.Identity()]),
    "Dot": lambda: two_inputs(L.Dot(axes=(2, 1)), shapes=((3, 4), (4, 5))),
    "Dot normalized vectors": lambda: two_inputs(L.Dot(axes=1, normalize=True), shapes=((6,), (6,))),
    "LayerNormalization": lambda: sequential(
        (4, 5, 3), L.Conv2D(3, 1), L.LayerNormalization(), L.LayerNormalization(axis=[1, 3], epsilon=1e-5),
        L.LayerNormalization(axis=2, center=False, scale=False)),
    "GroupNormalization": lambda: sequential(
        (4, 5, 6), L.Conv2D(6, 1), L.GroupNormalization(groups=3), L.Reshape((20, 6)),
        L.GroupNormalization(groups=-1, center=False)),
    "Rescaling": lambda: sequential(
        (4, 5, 3), L.Rescaling(1 / 255, offset=-0.5), L.Conv2D(3, 1), L.Rescaling([1.0, 2.0, -3.0], [0.1, 0.2, 0.3])),
    "Normalization adapted": adapted_normalization,
    "Normalization given invert": lambda: sequential(
        (4, 5, 3), L.Conv2D(3, 1), L.Normalization(mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 1.0], invert=True)),
    "Resizing bilinear and nearest": lambda: sequential(
        (7, 9, 2), L.Resizing(5, 13), L.Conv2D(2, 1), L.Resizing(8, 4, interpolation="nearest")),
    "Resizing nearest up": lambda: sequential((4, 6, 2), L.Resizing(7, 9, interpolation="nearest")),
    "Resizing to aspect": lambda: sequential(
        (7, 9, 2), L.Resizing(4, 4, crop_to_aspect_ratio=True), L.Conv2D(2, 1),
        L.Resizing(3, 6, pad_to_aspect_ratio=True, fill_value=0.5)),
    "CenterCrop": lambda: sequential((7, 9, 2), L.CenterCrop(4, 5), L.Conv2D(2, 1), L.CenterCrop(3, 6)),
    "Conv1D causal": lambda: sequential(
        (9, 3), L.Conv1D(4, 3, padding="causal", dilation_rate=2), L.Conv1D(2, 2, padding="causal")),
    "Conv1DTranspose": lambda: sequential(
        (6, 3), L.Conv1DTranspose(4, 3, strides=2, padding="same"), L.Conv1DTranspose(2, 4, strides=3,
                                                                                      output_padding=1)),
    "Conv3DTranspose": lambda: sequential(
        (3, 4, 3, 2), L.Conv3DTranspose(3, 3, strides=(2, 1, 2), padding="same", activation="relu")),
    "DepthwiseConv1D SeparableConv1D": lambda: sequential(
        (9, 3), L.DepthwiseConv1D(3, padding="same", depth_multiplier=2),
        L.SeparableConv1D(4, 3, strides=2, dilation_rate=1, activation="tanh")),
    "global pooling 1D 3D keepdims": lambda: striate.Model(
        inputs := striate.Input((3, 4, 5, 2)),
        L.Concatenate()([L.Reshape((1, 2))(L.GlobalAveragePooling3D()(inputs)),
                         L.Reshape((1, 2))(L.GlobalMaxPooling3D(keepdims=True)(inputs)),
                         L.GlobalMaxPooling1D(keepdims=True)(L.Reshape((60, 2))(inputs)),
                         L.GlobalAveragePooling1D(keepdims=True)(L.Reshape((60, 2))(inputs))])),
    "activations": lambda: sequential(
        (6,), L.Dense(5), *[L.Activation(name) for name in
                            ("gelu", "swish", "silu", "softplus", "selu", "mish", "hard_sigmoid")]),
}

# striate.load_onnx reads these back (its readers cover their operators)
READ_BACK = ["ReLU default", "ReLU6 and leaky", "LeakyReLU ELU", "PReLU per channel and per cell",
             "Softmax channels", "Reshape Permute", "UpSampling1D 2D 3D nearest", "UpSampling2D bilinear",
             "Cropping 1D 2D 3D", "ZeroPadding 1D 3D", "Identity and the noise layers", "SpatialDropout3D",
             "random augmentations", "Subtract channels-first", "Maximum Minimum Average Multiply",
             "LayerNormalization", "Rescaling", "Normalization adapted", "Normalization given invert",
             "Resizing bilinear and nearest", "Resizing nearest up", "CenterCrop", "Conv1D causal",
             "Conv1DTranspose", "Conv3DTranspose", "DepthwiseConv1D SeparableConv1D",
             "activations"]


def inputs_for(model, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [model.input_shape] if not isinstance(model.input_shape, list) else model.input_shape
    return [rng.standard_normal((3, *shape[1:])).astype(np.float32) for shape in shapes]


def feeds(xs):
    names = ["input"] if len(xs) == 1 else [f"input_{i}" for i in range(len(xs))]
    return dict(zip(names, xs))


def predict(model, xs):
    return model.predict(xs[0] if len(xs) == 1 else xs)


@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_runtime_computes_what_striate_computes(tmp_path, name):
    model = with_random_weights(MODELS[name]())
    xs = inputs_for(model)
    path = export_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, feeds(xs))
    expected = predict(model, xs)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("name", READ_BACK)
def test_load_onnx_reads_back_what_export_wrote(tmp_path, name):
    model = with_random_weights(MODELS[name]())
    xs = inputs_for(model, seed=1)
    loaded = load_onnx(export_onnx(model, tmp_path / "model.onnx"))
    expected = predict(model, xs)
    np.testing.assert_allclose(predict(loaded, xs), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_a_lambda_and_a_resizing_random_crop_are_refused_by_name_and_nothing_is_written(tmp_path):
    model = sequential((6, 6, 3), L.Lambda(lambda t: t * 2, name="doubling"), L.RandomCrop(4, 4, name="crop"),
                       L.Conv2D(2, 1))
    path = tmp_path / "model.onnx"
    with pytest.raises(ValueError) as refusal:
        export_onnx(model, path)
    message = str(refusal.value)
    assert "2 layer(s) ONNX cannot express" in message
    assert "doubling (Lambda): no ONNX form" in message
    assert "crop (RandomCrop): in inference it returns its input (None, 6, 6, 3) unchanged" in message
    assert list(tmp_path.iterdir()) == []


# ---- ONNX from PyTorch (torch.onnx.export, channels-first) read by the new readers ---------------------------
class Activations(nn.Module):
    """LeakyReLU and ELU of slopes other than striate's activations', a softmax over the height."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = nn.functional.elu(nn.functional.leaky_relu(self.conv(x), 0.1), alpha=0.5)
        return torch.softmax(y, dim=2) + torch.softmax(y, dim=1)


class SequenceOfPixels(nn.Module):
    """(N, C, H, W) viewed as (N, C, H * W), transposed to (N, H * W, C), a Linear, a LayerNorm over the last
    axis and one over (C, H, W) of the map."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.map_norm = nn.LayerNorm([4, 5, 6])
        self.linear = nn.Linear(4, 3)
        self.norm = nn.LayerNorm(3)

    def forward(self, x):
        y = self.map_norm(self.conv(x))
        return self.norm(self.linear(y.reshape(y.shape[0], 4, 30).transpose(1, 2)))


class Resampled(nn.Module):
    """Nearest upsampling by 2 (asymmetric, floor), bilinear by 1.5 (pytorch_half_pixel)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)

    def forward(self, x):
        y = nn.functional.interpolate(self.conv(x), scale_factor=2, mode="nearest")
        return nn.functional.interpolate(y, scale_factor=1.5, mode="bilinear", align_corners=False)


class Arithmetic(nn.Module):
    """Two branches combined by max, min, product and difference; constants as a per-channel scale and shift."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 4, 3, padding=1)
        self.register_buffer("scale", torch.tensor([0.5, -1.0, 2.0, 3.0]).reshape(1, 4, 1, 1))

    def forward(self, x):
        a, b = self.a(x), self.b(x)
        return (torch.maximum(a, b) - torch.minimum(a, b) * a) * self.scale / 4 - 0.25


class Windows(nn.Module):
    """A PReLU per channel and one shared, a slice of height and width, zero padding of the width."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.prelu, self.shared_prelu = nn.PReLU(4), nn.PReLU()

    def forward(self, x):
        y = self.shared_prelu(self.prelu(self.conv(x)))[:, :, 1:, :-2]
        return nn.functional.pad(y, (1, 2))


class SmoothActivations(nn.Module):
    """gelu (exported as Div, Erf, Add, Mul, Mul), silu (Sigmoid, Mul) and mish (Softplus, Tanh, Mul)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return nn.functional.mish(nn.functional.silu(nn.functional.gelu(self.conv(x) * 2)))


@pytest.mark.parametrize("module", [Activations, SequenceOfPixels, Resampled, Arithmetic, Windows,
                                    SmoothActivations])
def test_load_onnx_reads_what_pytorch_exports(tmp_path, module):
    torch.manual_seed(0)
    net = module().eval()
    with torch.no_grad():
        for parameter in net.parameters():  # LayerNorm's weight and bias too, so none is trivial
            parameter.uniform_(-1, 1)
    x = torch.randn(2, 3, 5, 6)
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}}, opset_version=17)
    with torch.no_grad():
        expected = net(x).numpy()
    actual = load_onnx(path).predict(x.numpy().transpose(0, 2, 3, 1))
    if expected.ndim == 4:  # a map comes back channels-last
        expected = expected.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
