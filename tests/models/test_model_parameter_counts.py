"""Models pin the lectures' exact parameter counts, and the three ways of building a model agree."""

import numpy as np

import striate
from striate import layers as L


def lenet5(input_shape=(32, 32, 1)):
    return striate.Sequential([
        L.Conv2D(6, 5, activation="tanh", input_shape=input_shape), L.AveragePooling2D(2),
        L.Conv2D(16, 5, activation="tanh"), L.AveragePooling2D(2), L.Flatten(),
        L.Dense(120, activation="tanh"), L.Dense(84, activation="tanh"), L.Dense(10, activation="softmax"),
    ])


def test_lenet5_on_32x32x1_has_61706_parameters_per_layer_as_the_lectures():
    model = lenet5()
    assert [layer.count_params() for layer in model.layers if layer.count_params()] == [156, 2416, 48120, 10164, 850]
    assert model.count_params() == 61706
    assert [layer.output_shape[1:] for layer in model.layers[:4]] == [(28, 28, 6), (14, 14, 6), (10, 10, 16),
                                                                      (5, 5, 16)]


def test_lenet5_on_32x32x3_has_62006_parameters():
    # only conv1 changes: 5*5*3*6 + 6 = 456 instead of 156
    assert lenet5((32, 32, 3)).count_params() == 62006


def test_the_lectures_mnist_network_has_1199882_parameters():
    model = striate.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2), L.Dropout(0.25), L.Flatten(), L.Dense(128, activation="relu"), L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])
    assert model.count_params() == 1199882


def test_summary_prints_totals(capsys):
    lenet5().summary()
    printed = capsys.readouterr().out
    assert "Total params: 61,706" in printed and "(None, 28, 28, 6)" in printed


def test_functional_residual_block_equals_the_same_arithmetic_by_hand():
    inputs = striate.Input((6, 6, 2))
    conv = L.Conv2D(2, 3, padding="same", use_bias=False)
    outputs = L.Add()([inputs, conv(inputs)])
    model = striate.Model(inputs, outputs)
    x = np.random.default_rng(0).standard_normal((1, 6, 6, 2)).astype(np.float32)
    expected = x + striate.functional.conv2d(x, conv.kernel, padding="same").numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    assert model.output_shape == (None, 6, 6, 2) and model.count_params() == 3 * 3 * 2 * 2


def test_functional_inception_style_concatenation_shapes():
    inputs = striate.Input((8, 8, 3))
    branches = [L.Conv2D(4, 1)(inputs), L.Conv2D(5, 3, padding="same")(inputs),
                L.MaxPooling2D(3, strides=1, padding="same")(inputs)]
    model = striate.Model(inputs, L.Concatenate()(branches))
    assert model.output_shape == (None, 8, 8, 12)
    assert model(np.zeros((2, 8, 8, 3), np.float32)).shape == (2, 8, 8, 12)


def test_subclassed_model_tracks_its_layers_and_weights():
    class TwoLayers(striate.Model):
        def __init__(self):
            super().__init__()
            self.hidden = L.Dense(4, activation="relu")
            self.out = L.Dense(2)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    model = TwoLayers()
    assert model(np.ones((3, 5), np.float32)).shape == (3, 2)
    assert model.count_params() == 5 * 4 + 4 + 4 * 2 + 2
    assert len(model.trainable_weights) == 4
