"""Every loss against keras.losses (torch backend): the value and its gradient in y_pred (torch autograd on
the Keras side), with sample weights and every reduction; the functions, the names and the configs."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import json

import numpy as np
import pytest
import torch

import striate
from striate import losses

pytestmark = IGNORE_KERAS_WARNINGS
N, C = 6, 4


def data(kind, seed=0):
    """(y_true, y_pred) float32 arrays for one kind of problem."""
    rng = np.random.default_rng(seed)
    if kind == "regression":
        return rng.normal(size=(N, C)).astype(np.float32), rng.normal(size=(N, C)).astype(np.float32)
    if kind == "positive":
        return rng.uniform(0.1, 3, size=(N, C)).astype(np.float32), rng.uniform(0.1, 3, size=(N, C)).astype(np.float32)
    if kind == "one_hot":
        probabilities = rng.dirichlet(np.ones(C), size=N).astype(np.float32)
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, N)], probabilities
    if kind == "one_hot_logits":
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, N)], rng.normal(size=(N, C)).astype(np.float32) * 2
    if kind == "distribution":
        return rng.dirichlet(np.ones(C), size=N).astype(np.float32), rng.dirichlet(np.ones(C), size=N).astype(
            np.float32)
    if kind == "binary":
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), rng.uniform(0.02, 0.98, size=(N, 1)).astype(
            np.float32)
    if kind == "binary_flat_labels":
        return rng.integers(0, 2, size=N).astype(np.float32), rng.uniform(0.02, 0.98, size=(N, 1)).astype(np.float32)
    if kind == "binary_logits":
        return rng.integers(0, 2, size=(N, 3)).astype(np.float32), rng.normal(size=(N, 3)).astype(np.float32) * 3
    if kind == "sparse":
        return rng.integers(0, C, size=N), rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    if kind == "sparse_column_logits":
        return rng.integers(0, C, size=(N, 1)), rng.normal(size=(N, C)).astype(np.float32)
    if kind == "sparse_sequence_logits":
        return rng.integers(0, C, size=(N, 3)), rng.normal(size=(N, 3, C)).astype(np.float32)
    if kind == "signs":
        return rng.choice([-1.0, 1.0], size=(N, C)).astype(np.float32), rng.normal(size=(N, C)).astype(np.float32)
    raise ValueError(kind)


# case: (class name, constructor arguments, data kind)
CASES = {
    "mse": ("MeanSquaredError", {}, "regression"),
    "mae": ("MeanAbsoluteError", {}, "regression"),
    "mape": ("MeanAbsolutePercentageError", {}, "regression"),
    "msle": ("MeanSquaredLogarithmicError", {}, "positive"),
    "cosine": ("CosineSimilarity", {}, "regression"),
    "cosine_axis_0": ("CosineSimilarity", dict(axis=0), "regression"),
    "huber": ("Huber", {}, "regression"),
    "huber_delta": ("Huber", dict(delta=0.4), "regression"),
    "log_cosh": ("LogCosh", {}, "regression"),
    "kld": ("KLDivergence", {}, "distribution"),
    "poisson": ("Poisson", {}, "positive"),
    "hinge_binary": ("Hinge", {}, "binary_logits"),
    "hinge_signs": ("Hinge", {}, "signs"),
    "squared_hinge": ("SquaredHinge", {}, "signs"),
    "categorical_hinge": ("CategoricalHinge", {}, "one_hot_logits"),
    "bce": ("BinaryCrossentropy", {}, "binary"),
    "bce_flat_labels": ("BinaryCrossentropy", {}, "binary_flat_labels"),
    "bce_logits_smoothing": ("BinaryCrossentropy", dict(from_logits=True, label_smoothing=0.2), "binary_logits"),
    "binary_focal": ("BinaryFocalCrossentropy", {}, "binary"),
    "binary_focal_balanced_logits": ("BinaryFocalCrossentropy",
                                     dict(apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True,
                                          label_smoothing=0.1), "binary_logits"),
    "cce": ("CategoricalCrossentropy", {}, "one_hot"),
    "cce_logits_smoothing": ("CategoricalCrossentropy", dict(from_logits=True, label_smoothing=0.1),
                             "one_hot_logits"),
    "cce_axis_0": ("CategoricalCrossentropy", dict(from_logits=True, axis=0), "one_hot_logits"),
    "categorical_focal": ("CategoricalFocalCrossentropy", {}, "one_hot"),
    "categorical_focal_logits": ("CategoricalFocalCrossentropy",
                                 dict(alpha=0.5, gamma=3.0, from_logits=True, label_smoothing=0.2), "one_hot_logits"),
    "sparse": ("SparseCategoricalCrossentropy", {}, "sparse"),
    "sparse_column_logits": ("SparseCategoricalCrossentropy", dict(from_logits=True), "sparse_column_logits"),
    "sparse_sequence": ("SparseCategoricalCrossentropy", dict(from_logits=True), "sparse_sequence_logits"),
    "sparse_ignore_class": ("SparseCategoricalCrossentropy", dict(from_logits=True, ignore_class=2),
                            "sparse_sequence_logits"),
}


def striate_value_and_gradient(loss, y_true, y_pred, **call):
    prediction = striate.Tensor(y_pred, requires_grad=True)
    value = loss(y_true, prediction, **call)
    value.sum().backward()
    return value.data, prediction.grad


def keras_value_and_gradient(loss, y_true, y_pred, **call):
    prediction = torch.tensor(y_pred, requires_grad=True)
    value = loss(torch.tensor(y_true), prediction, **call)
    value.sum().backward()
    return to_numpy(value.detach()), prediction.grad.numpy()


def assert_same(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_loss_and_gradient_equal_keras(case):
    class_name, arguments, kind = CASES[case]
    y_true, y_pred = data(kind)
    ours = striate_value_and_gradient(getattr(losses, class_name)(**arguments), y_true, y_pred)
    theirs = keras_value_and_gradient(getattr(keras.losses, class_name)(**arguments), y_true, y_pred)
    assert np.shape(ours[0]) == ()
    assert_same(ours, theirs)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None])
@pytest.mark.parametrize("case", ["huber", "cce_logits_smoothing", "bce_flat_labels", "sparse_column_logits"])
def test_sample_weights_and_reductions_equal_keras(case, reduction):
    class_name, arguments, kind = CASES[case]
    y_true, y_pred = data(kind, seed=1)
    weights = np.random.default_rng(2).uniform(0, 2, size=N).astype(np.float32)
    arguments = {**arguments, "reduction": reduction}
    ours = striate_value_and_gradient(getattr(losses, class_name)(**arguments), y_true, y_pred, sample_weight=weights)
    theirs = keras_value_and_gradient(getattr(keras.losses, class_name)(**arguments), y_true, y_pred,
                                      sample_weight=torch.tensor(weights))
    assert_same(ours, theirs)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
def test_ignored_class_counts_for_nothing_as_keras(reduction):
    y_true, y_pred = data("sparse_sequence_logits", seed=7)
    arguments = dict(from_logits=True, ignore_class=2, reduction=reduction)
    ours = striate_value_and_gradient(losses.SparseCategoricalCrossentropy(**arguments), y_true, y_pred)
    theirs = keras_value_and_gradient(keras.losses.SparseCategoricalCrossentropy(**arguments), y_true, y_pred)
    assert_same(ours, theirs)
    assert np.all(ours[1][y_true == 2] == 0)


FUNCTIONS = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
             "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh", "kl_divergence", "poisson",
             "hinge", "squared_hinge", "categorical_hinge", "binary_crossentropy", "binary_focal_crossentropy",
             "categorical_crossentropy", "categorical_focal_crossentropy"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_gives_keras_per_sample_values(name):
    y_true, y_pred = data("distribution", seed=3)
    ours = getattr(losses, name)(y_true, striate.Tensor(y_pred))
    theirs = to_numpy(getattr(keras.losses, name)(torch.tensor(y_true), torch.tensor(y_pred)))
    assert ours.shape == theirs.shape == (N,)
    np.testing.assert_allclose(ours.data, theirs, rtol=2e-5, atol=1e-6)


def test_short_names_are_the_functions():
    assert losses.mse is losses.MSE is losses.mean_squared_error and losses.mae is losses.mean_absolute_error
    assert losses.mape is losses.mean_absolute_percentage_error and losses.kld is losses.kl_divergence
    assert losses.msle is losses.mean_squared_logarithmic_error and losses.bce is losses.binary_crossentropy


def test_sparse_function_with_ignore_class_equals_keras():
    y_true, y_pred = data("sparse_sequence_logits", seed=4)
    ours = losses.sparse_categorical_crossentropy(y_true, striate.Tensor(y_pred), from_logits=True, ignore_class=1)
    theirs = keras.losses.sparse_categorical_crossentropy(torch.tensor(y_true), torch.tensor(y_pred),
                                                          from_logits=True, ignore_class=1)
    np.testing.assert_allclose(ours.data, to_numpy(theirs), rtol=2e-5, atol=1e-6)


NAMES = ["mse", "MSE", "mae", "mape", "msle", "kld", "KLD", "bce", "huber", "log_cosh", "hinge", "squared_hinge",
         "categorical_hinge", "poisson", "cosine_similarity", "binary_crossentropy", "categorical_crossentropy",
         "binary_focal_crossentropy", "categorical_focal_crossentropy",
         "kl_divergence", "mean_squared_error", "Huber", "CategoricalCrossentropy", "MeanAbsoluteError"]


@pytest.mark.parametrize("name", NAMES)
def test_name_gives_the_loss_keras_gives(name):
    y_true, y_pred = data("distribution", seed=5)
    ours = losses.get(name)(y_true, striate.Tensor(y_pred))
    theirs = keras.losses.get(name)(torch.tensor(y_true), torch.tensor(y_pred))
    theirs = to_numpy(theirs).mean()  # Keras' lower-case names are the per-sample functions
    assert ours.item() == pytest.approx(float(theirs), rel=2e-5)


@pytest.mark.parametrize("case", CASES)
def test_config_round_trips_through_keras(case):
    class_name, arguments, _ = CASES[case]
    ours, theirs = getattr(losses, class_name)(**arguments), getattr(keras.losses, class_name)(**arguments)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in ours_config.items() if k in theirs_config} == theirs_config
    from_keras = losses.deserialize(json.loads(json.dumps(keras.losses.serialize(theirs))))
    assert type(from_keras) is type(ours)  # Keras' configs of Huber and CosineSimilarity leave out delta and axis
    assert {k: v for k, v in from_keras.get_config().items() if k in theirs_config} == theirs_config
    to_keras = keras.losses.deserialize(json.loads(json.dumps(losses.serialize(ours))))
    assert to_keras.get_config() == theirs_config


def test_compile_with_a_loss_name_trains_as_keras():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    ours = striate.Sequential([striate.layers.Dense(2, input_shape=(3,))])
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.5), loss="huber")
    ours.compile(striate.optimizers.SGD(0.5), loss="huber")
    for _ in range(3):
        assert ours.train_on_batch(x, y) == pytest.approx(float(theirs.train_on_batch(x, y)), rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, to_numpy(b), rtol=1e-5, atol=1e-6)


def test_label_smoothing_worked_example():
    # two classes, smoothing 0.2: targets (1, 0) become (0.9, 0.1); p = (0.5, 0.5) gives -log 0.5 whatever t is
    loss = losses.CategoricalCrossentropy(label_smoothing=0.2)
    assert loss(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]], np.float32)).item() == pytest.approx(np.log(2))
    loss = losses.BinaryCrossentropy(label_smoothing=0.2)  # t = 1 becomes 0.9: -(0.9 log 0.9 + 0.1 log 0.1)
    expected = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))
    assert loss(np.array([[1.0]]), np.array([[0.9]], np.float32)).item() == pytest.approx(expected, rel=1e-6)


BAD_ARGUMENTS = {
    "unknown_name": (lambda: losses.get("cross_entropy"), "loss: unknown 'cross_entropy'"),
    "unknown_reduction": (lambda: losses.Huber(reduction="max"), "Huber: reduction must be one of"),
    "shapes_differ": (lambda: losses.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4), np.float32)),
                      r"categorical_crossentropy: y_true and y_pred must have the same shape; received \(2, 3\)"),
    "label_out_of_range": (lambda: losses.sparse_categorical_crossentropy(np.array([0, 5]), np.ones((2, 3))),
                           r"sparse_categorical_crossentropy: labels must lie in \[0, 3\); received values from 0"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
