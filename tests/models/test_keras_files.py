""".keras archives and .weights.h5 files, round trips both ways against Keras 3: Keras saves, striate loads
and predicts the same; striate saves, keras.saving.load_model loads and predicts the same."""

import zipfile

import numpy as np
import pytest

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import FileFormatError
from striate import layers as L

pytestmark = [IGNORE_KERAS_WARNINGS, pytest.mark.filterwarnings("ignore::UserWarning")]
K = keras.layers


# ---- the same four networks in Keras and in striate -----------------------------------------------------------
def keras_lenet5():
    return keras.Sequential([
        keras.Input((32, 32, 1)), K.Conv2D(6, 5, activation="tanh"), K.AveragePooling2D(2),
        K.Conv2D(16, 5, activation="tanh"), K.AveragePooling2D(2), K.Flatten(), K.Dense(120, activation="tanh"),
        K.Dense(84, activation="tanh"), K.Dense(10, activation="softmax")])


def keras_mnist_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)), K.Conv2D(32, 3, activation="relu"), K.Conv2D(64, 3, activation="relu"),
        K.MaxPooling2D(2), K.Dropout(0.25), K.Flatten(), K.Dense(128, activation="relu"), K.Dropout(0.5),
        K.Dense(10, activation="softmax")])


def resnet_block(module, layers):
    """A functional residual block (conv-bn-relu-conv-bn plus a 1x1 projection, added), pooled and
    classified, built with `module`'s Input / Model and `layers`."""
    inputs = module.Input((8, 8, 3))
    y = layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    y = layers.Activation("relu")(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same", use_bias=False)(y))
    shortcut = layers.BatchNormalization()(layers.Conv2D(4, 1, use_bias=False)(inputs))
    y = layers.Activation("relu")(layers.Add()([y, shortcut]))
    y = layers.Concatenate()([layers.GlobalAveragePooling2D()(y), layers.GlobalMaxPooling2D()(y)])
    return module.Model(inputs, layers.Dense(3, activation="softmax")(layers.Dropout(0.2)(y)))


def text_model(module, layers):
    """Tokens -> Embedding -> LSTM (sequences) -> Bidirectional GRU -> Dense, as a Sequential."""
    return module.Sequential([
        module.Input((7,), dtype="int32"), layers.Embedding(30, 6), layers.LSTM(5, return_sequences=True),
        layers.Bidirectional(layers.GRU(4)), layers.Dense(2, activation="softmax")])


def randomize(model, seed=0):
    """Weights far from their initial values (moving statistics included), so a mix-up shows."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) * rng.choice([-1, 1], w.shape)
                       if "variance" not in getattr(w, "path", getattr(w, "name", "")) else
                       rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in model.weights])
    return model


def inputs_for(shape, seed=1):
    rng = np.random.default_rng(seed)
    if shape == (7,):
        return rng.integers(0, 30, (3, 7))
    return rng.standard_normal((3, *shape)).astype(np.float32)


KERAS_MODELS = {"lenet5": (keras_lenet5, (32, 32, 1)), "mnist_cnn": (keras_mnist_cnn, (28, 28, 1)),
                "resnet_block": (lambda: resnet_block(keras, K), (8, 8, 3)),
                "text": (lambda: text_model(keras, K), (7,))}
STRIATE_MODELS = {"lenet5": (lambda: striate.models.lenet5(), (32, 32, 1)),
                  "mnist_cnn": (lambda: striate.models.mnist_cnn(), (28, 28, 1)),
                  "resnet_block": (lambda: resnet_block(striate, L), (8, 8, 3)),
                  "text": (lambda: text_model(striate, L), (7,))}


@pytest.mark.parametrize("name", list(KERAS_MODELS))
def test_a_keras_archive_loads_in_striate_and_predicts_what_keras_predicts(tmp_path, name):
    build, shape = KERAS_MODELS[name]
    theirs = randomize(build())
    theirs.save(tmp_path / "model.keras")
    ours = striate.models.load_model(tmp_path / "model.keras")
    x = inputs_for(shape)
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs.predict(x, verbose=0)), atol=1e-5)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name", list(STRIATE_MODELS))
def test_a_striate_model_saved_as_keras_loads_in_keras_and_predicts_the_same(tmp_path, name):
    build, shape = STRIATE_MODELS[name]
    striate.set_random_seed(0)
    ours = randomize(build())
    ours.save(tmp_path / "model.keras")
    theirs = keras.saving.load_model(tmp_path / "model.keras")
    x = inputs_for(shape)
    np.testing.assert_allclose(to_numpy(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0), atol=1e-5)
    assert [type(layer).__name__ for layer in theirs.layers if type(layer).__name__ != "InputLayer"] == \
        [type(layer).__name__ for layer in ours.layers]
    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]


@pytest.mark.parametrize("name", ["lenet5", "resnet_block", "text"])
def test_weights_files_round_trip_both_ways(tmp_path, name):
    striate.set_random_seed(0)
    ours, theirs = STRIATE_MODELS[name][0](), KERAS_MODELS[name][0]()
    x = inputs_for(STRIATE_MODELS[name][1])
    randomize(ours, seed=3).save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(to_numpy(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0), atol=1e-5)
    randomize(theirs, seed=4).save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs.predict(x, verbose=0)), atol=1e-5)


def test_striate_s_numeric_padding_is_saved_as_the_keras_word_that_matches_it(tmp_path):
    inputs = striate.Input((6, 6, 2))
    block = striate.models.residual_block(inputs, 2, name="block")  # padding=1 around 3x3 kernels: "same"
    ours = randomize(striate.Model(inputs, block))
    ours.save(tmp_path / "block.keras")
    x = inputs_for((6, 6, 2))
    theirs = keras.saving.load_model(tmp_path / "block.keras")
    np.testing.assert_allclose(to_numpy(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0), atol=1e-5)
    strided = striate.Sequential([L.Conv2D(2, 3, strides=2, padding=1, input_shape=(6, 6, 2))])
    with pytest.raises(ValueError, match="pads by 1, which no Keras padding word"):
        strided.save(tmp_path / "strided.keras")


# ---- refusals -------------------------------------------------------------------------------------------------
def test_a_layer_striate_lacks_is_refused_naming_it(tmp_path):
    theirs = keras.Sequential([keras.Input((4,)), K.Dense(3), K.UnitNormalization(name="unit_norm")])
    theirs.save(tmp_path / "model.keras")
    with pytest.raises(FileFormatError, match="layer 'unit_norm' is a Keras UnitNormalization, which striate does "
                                              "not have") as raised:
        striate.models.load_model(tmp_path / "model.keras")
    assert "\n" not in str(raised.value)


def test_a_lambda_layer_is_refused_without_running_its_code(tmp_path):
    theirs = keras.Sequential([keras.Input((4,)), K.Lambda(lambda x: x * 2, name="double")])
    theirs.save(tmp_path / "model.keras")
    with pytest.raises(FileFormatError, match="holds a Lambda .*striate does not run code from files"):
        striate.models.load_model(tmp_path / "model.keras")


def test_an_argument_striate_cannot_honour_is_refused_and_a_neutral_one_dropped(tmp_path):
    theirs = keras.Sequential([keras.Input((4,)), K.Dense(3, kernel_regularizer=None, name="plain")])
    theirs.save(tmp_path / "plain.keras")
    striate.models.load_model(tmp_path / "plain.keras")  # dtype policy, data_format and the like dropped
    with zipfile.ZipFile(tmp_path / "plain.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["config.json"] = files["config.json"].replace(b'"units": 3', b'"units": 3, "lora_rank": 4')
    with zipfile.ZipFile(tmp_path / "lora.keras", "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    with pytest.raises(FileFormatError, match="layer 'plain' \\(Dense\\) has lora_rank=4"):
        striate.models.load_model(tmp_path / "lora.keras")


@pytest.mark.parametrize("damage", ["not a zip", "no weights", "wrong shape"])
def test_a_damaged_archive_is_a_one_line_file_format_error(tmp_path, damage):
    theirs = keras.Sequential([keras.Input((4,)), K.Dense(3)])
    theirs.save(tmp_path / "good.keras")
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(tmp_path / "good.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    if damage == "not a zip":
        path.write_bytes(b"PK but not really")
    else:
        if damage == "no weights":
            del files["model.weights.h5"]
        else:
            files["config.json"] = files["config.json"].replace(b'"units": 3', b'"units": 5')
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in files.items():
                archive.writestr(name, content)
    with pytest.raises(FileFormatError) as raised:
        striate.models.load_model(path)
    assert str(raised.value).startswith(str(path)) and "\n" not in str(raised.value)


def test_a_failed_save_leaves_the_existing_file_as_it_was(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"the previous file")
    model = striate.Sequential([L.LocalResponseNormalization(input_shape=(5, 5, 4))])
    with pytest.raises(ValueError, match="LocalResponseNormalization, which Keras does not have"):
        model.save(path)
    assert path.read_bytes() == b"the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_a_keras_checkpoint_written_during_fit_loads_in_keras(tmp_path):
    striate.set_random_seed(0)
    model = striate.Sequential([L.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(striate.optim.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32), np.arange(8) % 3
    checkpoint = striate.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.keras"), save_best_only=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    theirs = keras.saving.load_model(tmp_path / "e2.keras")
    np.testing.assert_allclose(to_numpy(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), atol=1e-6)


# ---- every layer class both libraries have, one at a time -----------------------------------------------------
LAYER_CASES = {  # name: (input shape, Keras / striate arguments)
    "Conv1D": ((6, 3), dict(filters=2, kernel_size=3, padding="causal")),
    "Conv2D": ((6, 6, 2), dict(filters=2, kernel_size=3, strides=2, padding="same")),
    "Conv3D": ((4, 4, 4, 2), dict(filters=2, kernel_size=3)),
    "Conv1DTranspose": ((4, 2), dict(filters=2, kernel_size=3)),
    "Conv2DTranspose": ((4, 4, 2), dict(filters=2, kernel_size=3, strides=2)),
    "Conv3DTranspose": ((3, 3, 3, 2), dict(filters=2, kernel_size=2)),
    "DepthwiseConv1D": ((6, 2), dict(kernel_size=3)),
    "DepthwiseConv2D": ((6, 6, 2), dict(kernel_size=3, depth_multiplier=2)),
    "SeparableConv1D": ((6, 2), dict(filters=3, kernel_size=3)),
    "SeparableConv2D": ((6, 6, 2), dict(filters=3, kernel_size=3)),
    "Dense": ((3,), dict(units=2, activation="gelu")),
    "SimpleRNN": ((5, 3), dict(units=2, return_sequences=True)),
    "BatchNormalization": ((4, 4, 2), dict(epsilon=0.01)),
    "LayerNormalization": ((3,), {}),
    "GroupNormalization": ((4, 4, 4), dict(groups=2)),
    "Normalization": ((3,), dict(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 3.0])),
    "MaxPooling1D": ((4, 2), {}), "AveragePooling3D": ((4, 4, 4, 2), dict(pool_size=2)),
    "GlobalMaxPooling2D": ((4, 4, 2), dict(keepdims=True)), "GlobalAveragePooling1D": ((4, 2), {}),
    "ZeroPadding1D": ((4, 2), {}), "ZeroPadding3D": ((3, 3, 3, 2), {}), "Cropping1D": ((4, 2), dict(cropping=1)),
    "Cropping2D": ((4, 4, 2), dict(cropping=1)), "UpSampling1D": ((4, 2), {}), "UpSampling2D": ((4, 4, 2), {}),
    "Reshape": ((4,), dict(target_shape=(2, 2))), "Permute": ((2, 3), dict(dims=(2, 1))),
    "RepeatVector": ((3,), dict(n=2)),
    "ReLU": ((3,), dict(max_value=1.0)), "LeakyReLU": ((3,), {}), "PReLU": ((3,), {}), "ELU": ((3,), {}),
    "Softmax": ((3,), {}), "Activation": ((3,), dict(activation="swish")),
    "Rescaling": ((3,), dict(scale=0.5, offset=0.1)), "Resizing": ((4, 4, 2), dict(height=6, width=6)),
    "CenterCrop": ((4, 4, 2), dict(height=2, width=2)), "RandomFlip": ((4, 4, 2), {}),
    "RandomContrast": ((4, 4, 2), dict(factor=0.1)), "SpatialDropout1D": ((4, 2), dict(rate=0.5)),
    "GaussianNoise": ((3,), dict(stddev=0.1)), "Identity": ((3,), {}), "Masking": ((3, 2), {}),
    "TimeDistributed": ((3, 4), dict(layer="Dense")),
}


@pytest.mark.parametrize("name", list(LAYER_CASES))
def test_each_layer_round_trips_through_a_keras_archive_both_ways(tmp_path, name):
    shape, arguments = LAYER_CASES[name]
    if arguments.get("layer") == "Dense":
        arguments = {"layer": K.Dense(2)}
    theirs = randomize(keras.Sequential([keras.Input(shape), getattr(K, name)(**arguments)]))
    theirs.save(tmp_path / "keras.keras")
    ours = striate.models.load_model(tmp_path / "keras.keras")
    x = inputs_for(shape)
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs.predict(x, verbose=0)), atol=1e-5)
    randomize(ours, seed=5).save(tmp_path / "striate.keras")
    again = keras.saving.load_model(tmp_path / "striate.keras")
    np.testing.assert_allclose(to_numpy(again.predict(x, verbose=0)), ours.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("merge", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
                                   "Dot"])
def test_each_merge_layer_round_trips_in_a_functional_model(tmp_path, merge):
    arguments = {"axes": 1} if merge == "Dot" else {}
    inputs = [keras.Input((3,)), keras.Input((3,))]
    theirs = randomize(keras.Model(inputs, getattr(K, merge)(**arguments)([K.Dense(3)(inputs[0]), inputs[1]])))
    theirs.save(tmp_path / "keras.keras")
    ours = striate.models.load_model(tmp_path / "keras.keras")
    x = [inputs_for((3,), seed=1), inputs_for((3,), seed=2)]
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs.predict(x, verbose=0)), atol=1e-5)
    randomize(ours, seed=5).save(tmp_path / "striate.keras")
    again = keras.saving.load_model(tmp_path / "striate.keras")
    np.testing.assert_allclose(to_numpy(again.predict(x, verbose=0)), ours.predict(x, verbose=0), atol=1e-5)
