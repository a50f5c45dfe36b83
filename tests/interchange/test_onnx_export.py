"""striate -> ONNX, layer by layer: ONNX Runtime computes what striate computes for every layer striate
exports (each padding form, groups, dilation, transposed / depthwise / separable convolutions, pooling of 1-3
dimensions, normalizations, recurrent layers, activations), and striate.load_onnx reads it back; a layer ONNX
cannot express is refused by name before any file is written."""

import numpy as np
import onnx
import onnxruntime
import pytest

import striate
from striate import layers as L
from striate.interchange import export_onnx, load_onnx
from striate.interchange.onnx_package import OPSET
from striate.models.mobilenet import relu6


def sequential(shape, *stack):
    return striate.Sequential([L.InputLayer(shape), *stack])


def residual_and_inception():
    inputs = striate.Input((8, 8, 3))
    a = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    b = L.Conv2D(4, 1)(inputs)
    joined = L.Concatenate()([L.Add()([a, b]), b, L.MaxPooling2D(3, strides=1, padding="same")(a)])
    return striate.Model(inputs, L.GlobalAveragePooling2D()(joined))


MODELS = {
    "conv2d every padding form": lambda: sequential(
        (9, 10, 6),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),        # even output: (0, 1) pads
        L.Conv2D(6, (2, 3), padding=((1, 0), (2, 1)), groups=2),             # explicit, asymmetric, grouped
        L.Conv2D(6, 3, padding="full", dilation_rate=(2, 1)),
        L.Conv2D(5, 2, padding=1, strides=(1, 2), activation="tanh"),
        L.Conv2D(3, 4, padding="same", dilation_rate=2)),                     # even kernel, dilated
    "depthwise separable transposed": lambda: sequential(
        (6, 7, 4),
        L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation=relu6),
        L.SeparableConv2D(5, 3, strides=2, padding="same", activation="elu"),
        L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid"),
        L.Conv2DTranspose(4, 4, strides=2, padding="valid", output_padding=1),
        L.Conv2DTranspose(2, 3, strides=1, padding=1, groups=2)),
    "pooling normalization flatten dense": lambda: sequential(
        (11, 12, 5),
        L.BatchNormalization(),
        L.LocalResponseNormalization(depth_radius=1, bias=1.5, alpha=0.3, beta=0.6),
        L.AveragePooling2D(3, strides=2, padding="same"),                    # the mean over real cells only
        L.MaxPooling2D(2, padding="same"),
        L.ZeroPadding2D(((1, 0), (0, 2))),
        L.Flatten(),                                                         # striate's order h, w, c
        L.Dropout(0.5),
        L.Dense(7, activation="softmax")),
    "1-d and 3-d": lambda: sequential(
        (5, 6, 7, 2),
        L.Conv3D(4, 3, padding="same"), L.AveragePooling3D(2), L.MaxPooling3D((1, 2, 1)), L.Flatten(), L.Dense(3)),
    "conv1d and recurrent": lambda: sequential(
        (11, 3),
        L.Conv1D(4, 3, padding="same", dilation_rate=2), L.MaxPooling1D(2), L.AveragePooling1D(2, strides=1),
        L.LSTM(5, return_sequences=True),
        L.GRU(4, return_sequences=True),
        L.GRU(3, reset_after=False, return_sequences=True),
        L.SimpleRNN(3, activation="relu", return_sequences=True),
        L.Dense(2, activation="leaky_relu"),                                 # on (N, T, F): MatMul + Add
        L.LSTM(3, go_backwards=True)),
    "reversed sequence": lambda: sequential(
        (7, 3), L.GRU(4, return_sequences=True, go_backwards=True), L.SimpleRNN(2, return_sequences=True)),
    "activations": lambda: sequential(
        (6,), L.Dense(5), *[L.Activation(name) for name in
                            ("selu", "softplus", "hard_sigmoid", "swish", "mish", "gelu", "elu", "relu", "tanh")]),
    "residual and inception": residual_and_inception,
}


def inputs_for(model, seed=0):
    return np.random.default_rng(seed).standard_normal((3, *model.input_shape[1:])).astype(np.float32)


@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_runtime_computes_what_each_layer_computes(tmp_path, name):
    model = MODELS[name]()
    x = inputs_for(model)
    path = export_onnx(model, tmp_path / "model.onnx")
    (actual,) = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    expected = model.predict(x)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


# not read back: a reversed sequence is a Slice with step -1
@pytest.mark.parametrize("name", [name for name in MODELS if name != "reversed sequence"])
def test_load_onnx_reads_back_what_export_wrote(tmp_path, name):
    model = MODELS[name]()
    x = inputs_for(model, seed=1)
    loaded = load_onnx(export_onnx(model, tmp_path / "model.onnx"))
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_the_file_is_checked_opset_17_with_inferred_shapes_and_a_free_batch(tmp_path):
    model = MODELS["pooling normalization flatten dense"]()
    path = export_onnx(model, tmp_path / "model.onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert [opset.version for opset in proto.opset_import if opset.domain == ""] == [OPSET] and OPSET >= 17
    assert proto.graph.value_info, "shape inference stores the intermediate shapes"
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 11, 12, 5]      # channels-last, as striate
    x = inputs_for(model)[:1]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.concatenate([x] * 5)})[0].shape == (5, 7)


def test_a_flattened_map_keeps_striates_feature_order(tmp_path):
    # one channel-mixing Dense after a flatten: a flatten in ONNX's (c, h, w) order would permute its inputs
    model = sequential((2, 3, 4), L.Conv2D(4, 1, use_bias=False), L.Flatten(), L.Dense(1, use_bias=False))
    model.layers[0].kernel.data[...] = np.eye(4).reshape(1, 1, 4, 4)  # an InputLayer is not one of model.layers
    model.layers[2].kernel.data[...] = np.arange(24, dtype=np.float32).reshape(24, 1)
    x = np.zeros((1, 2, 3, 4), np.float32)
    x[0, 1, 2, 0] = 1.0                                # h=1, w=2, c=0: feature 1 * 12 + 2 * 4 + 0 = 20
    path = export_onnx(model, tmp_path / "model.onnx")
    (actual,) = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    assert actual[0, 0] == 20.0


def test_layers_onnx_cannot_express_are_refused_by_name_and_nothing_is_written(tmp_path):
    model = striate.Sequential([
        L.Embedding(10, 4, input_shape=(5,), name="embedding"),
        L.Conv1D(3, 2, activation=lambda t: t * 2, name="doubling_conv"),
        L.LSTM(3, return_state=True, name="stateful"),
    ])
    path = tmp_path / "model.onnx"
    with pytest.raises(ValueError) as refusal:
        export_onnx(model, path)
    message = str(refusal.value)
    assert "embedding (Embedding): no ONNX form" in message
    assert "doubling_conv (Conv1D): its activation '<lambda>' has no ONNX form" in message
    assert "stateful (LSTM): return_state=True" in message
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_a_subclassed_model_is_refused_before_writing(tmp_path):
    class Doubler(striate.Model):
        def call(self, inputs, training=False):
            return inputs * 2

    with pytest.raises(ValueError, match="subclassed model"):
        export_onnx(Doubler(), tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_model_export_is_keras_spelling_for_onnx(tmp_path):
    model = MODELS["residual and inception"]()
    model.export(tmp_path / "model.onnx", format="onnx")
    x = inputs_for(model)
    (actual,) = onnxruntime.InferenceSession(str(tmp_path / "model.onnx")).run(None, {"input": x})
    np.testing.assert_allclose(actual, model.predict(x), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="format must be 'onnx'; received 'tf_saved_model'"):
        model.export(tmp_path / "model.pb", format="tf_saved_model")


def test_without_the_onnx_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ModuleNotFoundError, match="export_onnx needs the onnx package.*pip install onnx"):
        export_onnx(MODELS["activations"](), tmp_path / "model.onnx")
    with pytest.raises(ModuleNotFoundError, match="load_onnx needs the onnx package"):
        load_onnx(tmp_path / "model.onnx")
