"""Regularizers against keras.regularizers (values and gradients), `layer.losses` against Keras' on the same
weights, and training with regularizers and constraints against Keras' train_on_batch."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import numpy as np
import pytest
import torch

import striate
from striate import constraints, regularizers
from striate import layers as L

pytestmark = IGNORE_KERAS_WARNINGS

# name: (striate regularizer, Keras regularizer), the same arguments
SAME_AS_KERAS = {
    "l1": (lambda: regularizers.L1(0.03), lambda: keras.regularizers.L1(0.03)),
    "l2": (lambda: regularizers.L2(0.2), lambda: keras.regularizers.L2(0.2)),
    "l1_l2": (lambda: regularizers.L1L2(l1=0.01, l2=0.05), lambda: keras.regularizers.L1L2(l1=0.01, l2=0.05)),
    "l1_l2_only_l2": (lambda: regularizers.l1_l2(l2=0.1), lambda: keras.regularizers.l1_l2(l2=0.1)),
    "l1_default": (lambda: regularizers.get("l1"), lambda: keras.regularizers.get("l1")),
    "orthogonal_rows": (lambda: regularizers.OrthogonalRegularizer(0.1),
                        lambda: keras.regularizers.OrthogonalRegularizer(0.1)),
    "orthogonal_columns": (lambda: regularizers.OrthogonalRegularizer(0.3, mode="columns"),
                           lambda: keras.regularizers.OrthogonalRegularizer(0.3, mode="columns")),
}


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_penalty_and_gradient_equal_keras(case):
    make_striate, make_keras = SAME_AS_KERAS[case]
    weight = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    ours = striate.Tensor(weight, requires_grad=True)
    penalty = make_striate()(ours)
    penalty.backward()
    theirs = torch.tensor(weight, requires_grad=True)
    expected = make_keras()(theirs)
    expected.backward()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-6)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_config_round_trips_through_keras(case):
    make_striate, make_keras = SAME_AS_KERAS[case]
    ours, theirs = make_striate(), make_keras()
    serialized, expected = regularizers.serialize(ours), keras.regularizers.serialize(theirs)
    assert {**serialized, "config": None} == {**expected, "config": None}
    assert_same_config(serialized["config"], expected["config"])  # Keras keeps L1's factor in float32
    assert_same_config(keras.regularizers.deserialize(serialized).get_config(), theirs.get_config())
    assert_same_config(regularizers.deserialize(expected).get_config(), ours.get_config())


def assert_same_config(ours, theirs):
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert ours[key] == (value if isinstance(value, str) else pytest.approx(value, rel=1e-6))


def test_worked_example_of_keras_docstring():
    # Keras' Regularizer docstring: kernel ones (5, 5) with L1(0.01) gives 0.25; the output 2 * 5 = 10 everywhere
    # with L2(0.01) gives 0.01 * 25 * 100 = 25, divided by the batch size 5: 5.0
    layer = L.Dense(5, kernel_initializer="ones", kernel_regularizer=regularizers.L1(0.01),
                    activity_regularizer=regularizers.L2(0.01))
    layer(np.full((5, 5), 2.0, dtype=np.float32))
    assert [p.item() for p in layer.losses] == pytest.approx([5.0, 0.25])


def test_names_and_aliases_are_keras():
    assert regularizers.l1 is regularizers.L1 and regularizers.l1_l2 is regularizers.L1L2
    assert isinstance(regularizers.get("l2"), regularizers.L2) and regularizers.get("l2").l2 == 0.01
    assert regularizers.get(None) is None
    function = lambda w: (w * w).sum()  # noqa: E731 (any callable is a regularizer, as in Keras)
    assert regularizers.get(function) is function
    assert striate.regularizers.L2 is regularizers.L2


def test_activity_losses_are_forgotten_at_the_next_forward_pass():
    model = striate.Sequential([L.InputLayer((3,)), L.Dense(2, activity_regularizer="l2")])
    model(np.ones((4, 3), np.float32))
    model(np.ones((4, 3), np.float32))
    assert len(model.losses) == 1


def test_frozen_layer_has_no_weight_penalty():
    layer = L.Dense(2, kernel_regularizer="l2", bias_regularizer="l1", input_shape=(3,))
    layer(np.ones((1, 3), np.float32))
    assert len(layer.losses) == 2
    layer.trainable = False
    assert layer.losses == []


# ---- layers with regularizers and constraints, trained as Keras trains them ---------------------------------
def dense_models():
    options = dict(kernel_regularizer=("L2", 0.01), bias_regularizer=("L1", 0.02), activity_regularizer=("L2", 0.003),
                   kernel_constraint=("MaxNorm", 0.5))

    def make(library):
        arguments = {key: _object(library, key, *value) for key, value in options.items()}
        return [library.layers.Dense(6, activation="tanh", **arguments),
                library.layers.Dense(2, kernel_regularizer=library.regularizers.L1L2(0.01, 0.01),
                                     bias_constraint=library.constraints.NonNeg())]

    return make(striate), make(keras), (8, 5)


def conv_models():
    def make(library):
        R, C = library.regularizers, library.constraints  # noqa: N806
        return [library.layers.Conv2D(3, 3, kernel_regularizer=R.L2(0.05), kernel_constraint=C.UnitNorm(axis=[0, 1, 2]),
                                      activity_regularizer=R.L1(0.001)),
                library.layers.BatchNormalization(gamma_regularizer=R.L2(0.1), beta_constraint=C.NonNeg()),
                library.layers.DepthwiseConv2D(2, depthwise_regularizer=R.L1(0.01),
                                               depthwise_constraint=C.MinMaxNorm(0.2, 0.6, rate=0.5, axis=[0, 1])),
                library.layers.SeparableConv2D(2, 2, pointwise_regularizer=R.L2(0.02), bias_regularizer=R.L2(0.1),
                                               pointwise_constraint=C.MaxNorm(0.7, axis=[0, 1, 2])),
                library.layers.Flatten(), library.layers.Dense(2)]

    return make(striate), make(keras), (4, 7, 7, 2)


def recurrent_models():
    def make(library):
        R, C = library.regularizers, library.constraints  # noqa: N806
        return [library.layers.Embedding(10, 4, embeddings_regularizer=R.L2(0.05),
                                         embeddings_constraint=C.MaxNorm(1.0, axis=1)),
                library.layers.LSTM(3, kernel_regularizer=R.L2(0.01), recurrent_regularizer=R.L1(0.01),
                                    bias_regularizer=R.L2(0.1), recurrent_constraint=C.MaxNorm(0.8),
                                    activity_regularizer=R.L2(0.01)),
                library.layers.Dense(2)]

    return make(striate), make(keras), (4, 5)


def _object(library, key, class_name, value):
    module = library.constraints if key.endswith("constraint") else library.regularizers
    return getattr(module, class_name)(value)


@pytest.mark.parametrize("models", [dense_models, conv_models, recurrent_models])
def test_training_with_penalties_and_constraints_equals_keras(models):
    ours_layers, keras_layers, input_shape = models()
    rng = np.random.default_rng(3)
    if len(input_shape) == 2 and models is recurrent_models:
        x = rng.integers(0, 10, size=input_shape)
    else:
        x = rng.normal(size=input_shape).astype(np.float32)
    y = rng.normal(size=(input_shape[0], 2)).astype(np.float32)
    theirs = keras.Sequential([keras.Input(input_shape[1:], dtype="int32" if x.dtype.kind == "i" else "float32"),
                               *keras_layers])
    ours = striate.Sequential(ours_layers)
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.125), "mse")
    ours.compile(striate.optimizers.SGD(0.125), "mse")
    for step in range(3):
        expected = theirs.train_on_batch(x, y)
        loss = ours.train_on_batch(x, y)
        loss = loss[0] if isinstance(loss, list | tuple) else (loss["loss"] if isinstance(loss, dict) else loss)
        assert loss == pytest.approx(float(expected), rel=1e-5), f"step {step + 1}"
        for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(a, to_numpy(b), rtol=1e-4, atol=1e-6, err_msg=f"step {step + 1}")
    penalties = sum(p.item() for p in ours.losses)
    assert penalties == pytest.approx(float(sum(to_numpy(p) for p in theirs.losses)), rel=1e-5)


def test_layer_config_carries_regularizers_and_constraints():
    layer = L.Conv2D(4, 3, kernel_regularizer=regularizers.L2(0.5), bias_constraint=constraints.NonNeg(),
                     activity_regularizer="l1")
    config = layer.get_config()
    assert config["kernel_regularizer"] == keras.regularizers.serialize(keras.regularizers.L2(0.5))
    assert config["bias_constraint"]["class_name"] == "NonNeg" and config["bias_regularizer"] is None
    assert config["activity_regularizer"]["class_name"] == "L1"
    rebuilt = L.Conv2D(**{**config, "name": "copy"})
    assert rebuilt.kernel_regularizer.l2 == 0.5 and isinstance(rebuilt.bias_constraint, constraints.NonNeg)


BAD_ARGUMENTS = {
    "negative_l1": (lambda: regularizers.L1(-0.1), "L1: l1 must be a finite number >= 0; received l1=-0.1"),
    "unknown_name": (lambda: regularizers.get("l3"), "regularizers.get: unknown name; .* received 'l3'"),
    "orthogonal_mode": (lambda: regularizers.OrthogonalRegularizer(mode="diagonal"),
                        "OrthogonalRegularizer: mode must be 'rows' or 'columns'; received 'diagonal'"),
    "orthogonal_rank_3": (lambda: regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2))),
                          r"OrthogonalRegularizer: the input must have rank 2; received shape \(2, 2, 2\)"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()


SAMPLE_NORMALIZATION_AND_PRELU = [
    ("LayerNormalization", dict(gamma_regularizer=("L2", 0.1), beta_regularizer=("L1", 0.2))),
    ("GroupNormalization", dict(groups=2, gamma_regularizer=("L1", 0.3), beta_regularizer=("L2", 0.4))),
    ("PReLU", dict(alpha_regularizer=("L2", 0.5))),
]


@IGNORE_KERAS_WARNINGS
@pytest.mark.parametrize("name, options", SAMPLE_NORMALIZATION_AND_PRELU)
def test_layer_and_group_normalization_and_prelu_weight_penalties_equal_keras(name, options):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 3, 4)).astype(np.float32)
    ours = getattr(L, name)(**{k: _object(striate, "regularizers", *v) if isinstance(v, tuple) else v
                               for k, v in options.items()})
    theirs = getattr(keras.layers, name)(**{k: _object(keras, "regularizers", *v) if isinstance(v, tuple) else v
                                            for k, v in options.items()})
    ours(x), theirs(x)
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    ours.set_weights(weights), theirs.set_weights(weights)
    np.testing.assert_allclose(sum(float(loss.item()) for loss in ours.losses),
                               sum(float(to_numpy(loss)) for loss in theirs.losses), rtol=1e-5)
