"""Losses with Keras semantics against PyTorch: cross_entropy, binary_cross_entropy, mse.

cross_entropy averages over the batch; binary_cross_entropy and mse over all elements. With
from_logits=False, Keras clips probabilities to [1e-7, 1 - 1e-7] before the log.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate.functional as F
from oracle import assert_close, check_against_torch
from striate import Tensor

DTYPES = {"float64": np.float64, "float32": np.float32}
EPSILON = 1e-7
CE_SHAPES = [(4, 5), (1, 3), (3, 10)]


def one_hot(labels, classes):
    return np.eye(classes)[labels]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("shape", CE_SHAPES, ids=[str(s) for s in CE_SHAPES])
def test_cross_entropy_from_logits_with_integer_labels_matches_torch(shape, dtype):
    rng = np.random.default_rng(shape[1])
    logits = 2 * rng.standard_normal(shape)
    labels = rng.integers(0, shape[1], shape[0])
    check_against_torch(lambda z, y: F.cross_entropy(z, y, from_logits=True),
                        lambda z, y: TF.cross_entropy(z, y), [logits, labels], dtype)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("shape", CE_SHAPES, ids=[str(s) for s in CE_SHAPES])
def test_cross_entropy_from_logits_is_the_default(shape, dtype):
    rng = np.random.default_rng(shape[1] + 1)
    logits = rng.standard_normal(shape)
    labels = rng.integers(0, shape[1], shape[0])
    check_against_torch(F.cross_entropy, TF.cross_entropy, [logits, labels], dtype)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("shape", CE_SHAPES, ids=[str(s) for s in CE_SHAPES])
def test_cross_entropy_from_logits_with_one_hot_labels_matches_torch(shape, dtype):
    rng = np.random.default_rng(shape[1] + 2)
    logits = 2 * rng.standard_normal(shape)
    targets = one_hot(rng.integers(0, shape[1], shape[0]), shape[1])
    check_against_torch(lambda z, y: F.cross_entropy(z, y, from_logits=True),
                        lambda z, y: TF.cross_entropy(z, y), [logits, targets], dtype, constant=[1])


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_cross_entropy_from_logits_with_soft_labels_matches_torch(dtype):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((3, 4))
    targets = rng.dirichlet(np.ones(4), 3)
    check_against_torch(F.cross_entropy, TF.cross_entropy, [logits, targets], dtype, constant=[1])


def torch_keras_probability_ce(logits, targets):
    """Keras from_logits=False on p = softmax(z): -sum(y * log(clip(p))) averaged over the batch."""
    p = torch.clamp(torch.softmax(logits, dim=-1), EPSILON, 1 - EPSILON)
    if targets.dtype in (torch.int64, torch.int32):
        return -torch.log(p.gather(1, targets[:, None].long())).mean()
    return -(targets * torch.log(p)).sum(dim=-1).mean()


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("label_form", ["integer", "one-hot"])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=[str(s) for s in CE_SHAPES])
def test_cross_entropy_from_probabilities_of_a_softmax_matches_keras_semantics(shape, label_form, dtype):
    """Gradients flow through softmax into the logits, where Keras' renormalization p / sum(p) is a no-op."""
    rng = np.random.default_rng(shape[1] + 3)
    logits = rng.standard_normal(shape)
    labels = rng.integers(0, shape[1], shape[0])
    targets = labels if label_form == "integer" else one_hot(labels, shape[1])
    check_against_torch(lambda z, y: F.cross_entropy(F.softmax(z), y, from_logits=False),
                        torch_keras_probability_ce, [logits, targets], dtype, constant=[1])


@pytest.mark.parametrize("label_form", ["integer", "one-hot"])
def test_cross_entropy_from_probabilities_clips_zero_probability_to_epsilon(label_form):
    probabilities = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    labels = np.array([1, 1])  # the first sample gives probability 0 to its class
    targets = labels if label_form == "integer" else one_hot(labels, 3)
    loss = F.cross_entropy(Tensor(probabilities), targets, from_logits=False).numpy()
    expected = (-np.log(EPSILON) - np.log(1 - EPSILON)) / 2
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("label_form", ["integer", "one-hot"])
def test_cross_entropy_with_extreme_logits_stays_finite_and_matches_torch(label_form, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [3.0, 1e4, 1e4]])
    labels = np.array([1, 1, 0])
    targets = labels if label_form == "integer" else one_hot(labels, 3)
    loss, _ = check_against_torch(F.cross_entropy, TF.cross_entropy, [logits, targets], dtype, constant=[1])
    assert np.isfinite(loss)


# ---- binary cross entropy ---------------------------------------------------------------------------------
BCE_SHAPES = [(5, 1), (4, 3), (2, 3, 2)]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("soft_targets", [False, True], ids=["hard-targets", "soft-targets"])
@pytest.mark.parametrize("shape", BCE_SHAPES, ids=[str(s) for s in BCE_SHAPES])
def test_binary_cross_entropy_from_logits_matches_torch(shape, soft_targets, dtype):
    rng = np.random.default_rng(sum(shape))
    logits = 3 * rng.standard_normal(shape)
    targets = rng.random(shape) if soft_targets else rng.integers(0, 2, shape).astype(np.float64)
    check_against_torch(lambda z, y: F.binary_cross_entropy(z, y, from_logits=True),
                        TF.binary_cross_entropy_with_logits, [logits, targets], dtype, constant=[1])


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("soft_targets", [False, True], ids=["hard-targets", "soft-targets"])
@pytest.mark.parametrize("shape", BCE_SHAPES, ids=[str(s) for s in BCE_SHAPES])
def test_binary_cross_entropy_from_probabilities_is_the_default_and_matches_torch(shape, soft_targets, dtype):
    rng = np.random.default_rng(sum(shape) + 1)
    probabilities = rng.uniform(0.02, 0.98, shape)  # inside the clip range: clipping is inactive
    targets = rng.random(shape) if soft_targets else rng.integers(0, 2, shape).astype(np.float64)
    check_against_torch(F.binary_cross_entropy, TF.binary_cross_entropy, [probabilities, targets], dtype,
                        constant=[1])


def test_binary_cross_entropy_from_probabilities_clips_to_epsilon():
    probabilities = np.array([0.0, 1.0, 0.5, 1.0])
    targets = np.array([1.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(Tensor(probabilities), targets).numpy()
    expected = np.mean([-np.log(EPSILON), -np.log(EPSILON), -np.log(0.5), -np.log(1 - EPSILON)])
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_binary_cross_entropy_from_extreme_logits_stays_finite(dtype):
    logits = np.array([[1e4, -1e4], [-1e4, 1e4], [50.0, -50.0]])
    targets = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    loss, _ = check_against_torch(lambda z, y: F.binary_cross_entropy(z, y, from_logits=True),
                                  TF.binary_cross_entropy_with_logits, [logits, targets], dtype, constant=[1])
    assert np.isfinite(loss)


# ---- mean squared error -----------------------------------------------------------------------------------
MSE_SHAPES = [(4,), (3, 2), (2, 3, 4)]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("shape", MSE_SHAPES, ids=[str(s) for s in MSE_SHAPES])
def test_mse_matches_torch_for_both_arguments(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    check_against_torch(F.mse, TF.mse_loss, [rng.standard_normal(shape), rng.standard_normal(shape)], dtype)


def test_mse_with_constant_target_array():
    y_pred = np.array([[1.0, 2.0], [3.0, 5.0]])
    y_true = np.array([[1.5, 2.0], [2.0, 4.0]])
    t = Tensor(y_pred, requires_grad=True)
    loss = F.mse(t, y_true)
    loss.backward()
    assert_close(loss, np.mean((y_pred - y_true) ** 2), np.float64, "mse")
    assert_close(t.grad, 2 * (y_pred - y_true) / y_pred.size, np.float64, "mse gradient")
