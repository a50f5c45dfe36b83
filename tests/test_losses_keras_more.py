"""Keras 3.15's segmentation, metric-learning, noise-robust and sequence losses (Dice, Tversky, Circle,
CategoricalGeneralizedCrossEntropy, CTC) against keras.losses (torch backend), in float64: the value for every
reduction, with and without sample weights, and its gradient in y_pred (torch autograd on the Keras side)."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import json

import numpy as np
import pytest
import torch

import striate
from striate import losses
from test_losses_keras import keras_value_and_gradient, striate_value_and_gradient

pytestmark = IGNORE_KERAS_WARNINGS
N = 8


def unit_rows(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def data(kind, seed=0):
    """(y_true, y_pred) float64 (labels int64) for one kind of problem."""
    rng = np.random.default_rng(seed)
    if kind == "probabilities":
        return rng.integers(0, 2, size=(N, 5)).astype(np.float64), rng.uniform(0.02, 0.98, size=(N, 5))
    if kind == "masks":
        return rng.integers(0, 2, size=(N, 3, 4, 1)).astype(np.float64), rng.uniform(0, 1, size=(N, 3, 4, 1))
    if kind == "embeddings":  # label 3 occurs once: no positive pair, a loss of 0, masked out of the mean
        return np.array([0, 0, 1, 1, 1, 2, 2, 3]), unit_rows(rng.normal(size=(N, 5)))
    if kind == "short_embeddings":  # norm 0.9: the self-distance 1 - 0.81 stays away from the max(d, 0) kink
        return rng.integers(0, 3, size=N), 0.9 * unit_rows(rng.normal(size=(N, 5)))
    if kind == "sparse":
        return rng.integers(0, 4, size=N), rng.dirichlet(np.ones(4), size=N)
    if kind == "sequences":  # labels 1..4 packed at the front, 0 (the blank) padding; logits (N, T, 5)
        lengths = rng.integers(0, 5, size=N)
        labels = np.zeros((N, 4), np.int64)
        for row, length in enumerate(lengths):
            labels[row, :length] = rng.integers(1, 5, size=length)
        labels[0, :4] = [2, 2, 3, 3]  # repeats need a blank between them
        return labels, rng.normal(size=(N, 9, 5)) * 2
    raise ValueError(kind)


# case: (class name, constructor arguments, data kind)
CASES = {
    "dice": ("Dice", {}, "probabilities"),
    "dice_per_mask": ("Dice", dict(axis=(1, 2, 3)), "masks"),
    "dice_last_axis": ("Dice", dict(axis=-1), "probabilities"),
    "tversky": ("Tversky", {}, "probabilities"),
    "tversky_weighted_per_mask": ("Tversky", dict(alpha=0.3, beta=0.7, axis=(1, 2)), "masks"),
    "circle": ("Circle", {}, "embeddings"),
    "circle_with_diagonal": ("Circle", dict(gamma=10.0, margin=0.25, remove_diagonal=False), "short_embeddings"),
    "generalized_cross_entropy": ("CategoricalGeneralizedCrossEntropy", {}, "sparse"),
    "generalized_cross_entropy_q": ("CategoricalGeneralizedCrossEntropy", dict(q=0.8), "sparse"),
    "ctc": ("CTC", {}, "sequences"),
}
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None]


def assert_same(ours, theirs, tolerance=1e-6):
    assert np.shape(ours[0]) == np.shape(theirs[0])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=tolerance, atol=tolerance)


# Keras' torch backend computes ops.matmul and ops.maximum(x, 0.0) of float64 inputs in float32, and its CTC
# gradient comes back through float32 too: those two are compared to float32's precision (times Circle's gamma);
# CTC meets torch.nn.functional.ctc_loss in float64 to 1e-6 below
FLOAT32_IN_KERAS = ("Circle", "CTC")
FLOAT32_TOLERANCE = 2e-5


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weights"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES)
def test_loss_and_gradient_equal_keras(case, reduction, weighted):
    class_name, arguments, kind = CASES[case]
    y_true, y_pred = data(kind)
    weights = np.random.default_rng(2).uniform(0, 2, size=N) if weighted else None
    ours = getattr(losses, class_name)(**arguments, reduction=reduction)
    theirs = getattr(keras.losses, class_name)(**arguments, reduction=reduction, dtype="float64")
    assert_same(striate_value_and_gradient(ours, y_true, y_pred, sample_weight=weights),
                keras_value_and_gradient(theirs, y_true, y_pred,
                                         sample_weight=None if weights is None else torch.tensor(weights)),
                FLOAT32_TOLERANCE if class_name in FLOAT32_IN_KERAS else 1e-6)


FUNCTIONS = {  # name: (data kind, keyword arguments)
    "dice": ("masks", dict(axis=(1, 2, 3))),
    "tversky": ("masks", dict(alpha=0.8, beta=0.1)),
    "circle": ("embeddings", {}),
    "categorical_generalized_cross_entropy": ("sparse", dict(q=0.3)),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_gives_keras_values(name):
    kind, arguments = FUNCTIONS[name]
    y_true, y_pred = data(kind, seed=3)
    ours = getattr(losses, name)(y_true, striate.Tensor(y_pred), **arguments)
    theirs = to_numpy(getattr(keras.losses, name)(torch.tensor(y_true), torch.tensor(y_pred), **arguments))
    assert ours.shape == theirs.shape
    tolerance = FLOAT32_TOLERANCE if name == "circle" else 1e-6
    np.testing.assert_allclose(ours.data, theirs, rtol=tolerance, atol=tolerance)


def test_circle_against_separate_references_equals_keras():
    rng = np.random.default_rng(4)
    labels, embeddings = rng.integers(0, 3, size=5), unit_rows(rng.normal(size=(5, 4)))
    ref_labels, ref_embeddings = rng.integers(0, 3, size=7), unit_rows(rng.normal(size=(7, 4)))
    prediction = striate.Tensor(embeddings, requires_grad=True)
    ours = losses.circle(labels, prediction, ref_labels=ref_labels, ref_embeddings=ref_embeddings, gamma=30,
                         remove_diagonal=False)
    ours.sum().backward()
    torch_prediction = torch.tensor(embeddings, requires_grad=True)
    theirs = keras.losses.circle(torch.tensor(labels), torch_prediction, ref_labels=torch.tensor(ref_labels),
                                 ref_embeddings=torch.tensor(ref_embeddings), gamma=30, remove_diagonal=False)
    theirs.sum().backward()
    assert_same((ours.data, prediction.grad), (to_numpy(theirs.detach()), torch_prediction.grad.numpy()),
                FLOAT32_TOLERANCE)


def test_ctc_function_equals_torch_ctc_loss_in_float64():
    # keras.losses.ctc (the function) computes in float32; torch.nn.functional.ctc_loss is the float64 oracle
    y_true, y_pred = data("sequences", seed=5)
    prediction = striate.Tensor(y_pred, requires_grad=True)
    ours = losses.ctc(y_true, prediction)
    ours.sum().backward()
    torch_prediction = torch.tensor(y_pred, requires_grad=True)
    log_probabilities = torch.log_softmax(torch_prediction, dim=-1).transpose(0, 1)  # (T, N, C)
    theirs = torch.nn.functional.ctc_loss(log_probabilities, torch.tensor(y_true), torch.full((N,), y_pred.shape[1]),
                                          torch.tensor(np.count_nonzero(y_true, axis=1)), reduction="none")
    theirs.sum().backward()
    assert_same((ours.data, prediction.grad), (theirs.detach().numpy(), torch_prediction.grad.numpy()))


def test_ctc_worked_example_two_frames():
    # label (1,) in 2 frames: the alignments 1-1, 1-blank, blank-1; with uniform logits over 2 classes each
    # has probability 1/4: -log(3/4)
    value = losses.ctc(np.array([[1]]), np.zeros((1, 2, 2)))
    np.testing.assert_allclose(value.data, [-np.log(0.75)], rtol=1e-12)


def test_ctc_labels_that_do_not_fit_give_inf_and_no_gradient():
    # 1, 1, 1 needs 5 frames (a blank between repeats); torch gives inf too (and a gradient of NaN)
    prediction = striate.Tensor(np.random.default_rng(6).normal(size=(2, 4, 3)), requires_grad=True)
    value = losses.ctc(np.array([[1, 1, 1], [1, 2, 0]]), prediction)
    value.sum().backward()
    assert np.isinf(value.data[0]) and np.isfinite(value.data[1])
    assert np.all(prediction.grad[0] == 0) and np.any(prediction.grad[1] != 0)


def test_dice_worked_example_from_keras_docstring():
    y_true = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]).reshape(2, 2, 2, 1)
    y_pred = np.array([[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]]).reshape(2, 2, 2, 1)
    # sample 0: 1 - 2 * 1 / (2 + 2) = 0.5; sample 1: 1 - 2 * 0.4 / (2 + 1.3) = 0.757575...
    np.testing.assert_allclose(losses.dice(y_true, y_pred, axis=(1, 2, 3)).data, [0.5, 1 - 0.8 / 3.3], rtol=1e-6)
    # whole batch: 1 - 2 * 1.4 / (4 + 3.3)
    assert losses.Dice()(y_true, y_pred).item() == pytest.approx(1 - 2.8 / 7.3, rel=1e-6)


def test_generalized_cross_entropy_worked_example():
    # p[label] = 0.25 and 0.81 with q = 0.5: (1 - 0.5) / 0.5 = 1 and (1 - 0.9) / 0.5 = 0.2
    y_pred = np.array([[0.75, 0.25], [0.19, 0.81]])
    values = losses.categorical_generalized_cross_entropy(np.array([[1], [1]]), y_pred, q=0.5)
    np.testing.assert_allclose(values.data, [1.0, 0.2], rtol=1e-12)


NAMES = {"dice": "Dice", "tversky": "Tversky", "circle": "Circle", "ctc": "CTC",
         "categorical_generalized_cross_entropy": "CategoricalGeneralizedCrossEntropy"}


@pytest.mark.parametrize("name", [*NAMES, *NAMES.values()])
def test_name_gives_the_class_with_keras_defaults(name):
    ours = losses.get(name)
    class_name = NAMES.get(name, name)
    assert type(ours).__name__ == class_name
    assert ours.get_config() == getattr(keras.losses, class_name)().get_config()


def through_json(config):
    return json.loads(json.dumps(config))


@pytest.mark.parametrize("case", CASES)
def test_config_round_trips_through_keras(case):
    class_name, arguments, _ = CASES[case]
    ours, theirs = getattr(losses, class_name)(**arguments), getattr(keras.losses, class_name)(**arguments)
    theirs_config = theirs.get_config()
    assert ours.get_config() == theirs_config
    from_keras = losses.deserialize(through_json(keras.losses.serialize(theirs)))
    assert type(from_keras) is type(ours) and through_json(from_keras.get_config()) == through_json(theirs_config)
    # keras.losses.deserialize does not know CategoricalGeneralizedCrossEntropy (it returns the name): the
    # general deserializer does
    to_keras = keras.saving.deserialize_keras_object(through_json(losses.serialize(ours)))
    assert type(to_keras) is type(theirs)
    assert through_json(to_keras.get_config()) == through_json(theirs_config)


def test_compile_with_dice_by_name_trains_as_keras():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(8, 3)).astype(np.float32), rng.integers(0, 2, size=(8, 2)).astype(np.float32)
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="sigmoid")])
    ours = striate.Sequential([striate.layers.Dense(2, activation="sigmoid", input_shape=(3,))])
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.5), loss="dice")
    ours.compile(striate.optimizers.SGD(0.5), loss="dice")
    for _ in range(3):
        assert ours.train_on_batch(x, y) == pytest.approx(float(theirs.train_on_batch(x, y)), rel=1e-5)


BAD_ARGUMENTS = {
    "q_outside_0_1": (lambda: losses.CategoricalGeneralizedCrossEntropy(q=1.0),
                      r"CategoricalGeneralizedCrossEntropy: q must lie in \(0, 1\); received q=1.0"),
    "label_out_of_range": (lambda: losses.categorical_generalized_cross_entropy(np.array([0, 4]), np.ones((2, 3)), 0.5),
                           r"categorical_generalized_cross_entropy: labels must lie in \[0, 3\); received values "
                           "from 0 to 4"),
    "ctc_labels_not_packed": (lambda: losses.ctc(np.array([[1, 0, 2]]), np.zeros((1, 5, 3))),
                              r"ctc: each row's labels must come first, 0 \(the blank\) only after them; "
                              r"received \[\[1, 0, 2\]\]"),
    "circle_labels_per_embedding": (lambda: losses.circle(np.array([0, 1]), np.ones((3, 2))),
                                    r"circle: expects embeddings \(N, D\) with labels \(N,\).*received \(3, 2\) "
                                    r"with \(2,\)"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
