"""The fused batch-norm op (striate.ops.normalization) against PyTorch and against the same formula composed of
striate's elementary ops, forward and gradients, with and without the fused relu, in training and inference."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from oracle import assert_close, channels_first, channels_last, check_against_torch
from striate import Tensor, ops
from striate.core.runtime import workers_only
from striate.ops.normalization import batch_moments, batch_norm

EPSILON = 1e-3
SHAPES = [(5, 3), (4, 3, 2), (3, 4, 5, 6), (6, 7, 5, 16), (2, 3, 2, 3, 4),
          (3, 4, 3, 50)]  # 50 channels: the sums row by row (`normalization.WIDE_ROWS`)
CASES = [(shape, training, activation) for shape in SHAPES for training in (True, False)
         for activation in (None, "relu")]


def case_id(case):
    shape, training, activation = case
    return f"{shape}-{'training' if training else 'inference'}-{activation or 'linear'}"


def inputs(shape, seed):
    rng = np.random.default_rng(seed)
    x = 1.5 * rng.standard_normal(shape) + rng.standard_normal(shape[-1])
    gamma, beta = rng.uniform(0.5, 1.5, shape[-1]), rng.standard_normal(shape[-1])
    moving = rng.standard_normal(shape[-1]), rng.uniform(0.5, 2.0, shape[-1])
    return x, gamma, beta, moving


def striate_fused(training, activation, moving):
    def run(x, gamma, beta):
        mean, variance = batch_moments(x.data) if training else (m.astype(x.dtype) for m in moving)
        return batch_norm(x, gamma, beta, mean, variance, EPSILON, batch_statistics=training, activation=activation)

    return run


def striate_composed(training, activation, moving):
    """The unfused formula, one elementary op at a time (the graph records the mean and variance)."""

    def run(x, gamma, beta):
        axes = tuple(range(x.ndim - 1))
        if training:
            mean = x.mean(axis=axes)
            centered = x - mean
            variance = (centered * centered).mean(axis=axes)
        else:
            centered = x - moving[0].astype(x.dtype)
            variance = Tensor(moving[1].astype(x.dtype))
        y = centered / ops.sqrt(variance + EPSILON) * gamma + beta
        return ops.relu(y) if activation == "relu" else y

    return run


def torch_reference(training, activation, moving):
    def run(x, gamma, beta):
        mean, variance = (None, None) if training else (torch.as_tensor(m, dtype=x.dtype) for m in moving)
        y = channels_last(TF.batch_norm(channels_first(x), mean, variance, gamma, beta, training=training,
                                        eps=EPSILON))
        return torch.relu(y) if activation == "relu" else y

    return run


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_fused_batch_norm_matches_torch_forward_and_gradients(case, dtype):
    shape, training, activation = case
    x, gamma, beta, moving = inputs(shape, sum(shape))
    check_against_torch(striate_fused(training, activation, moving), torch_reference(training, activation, moving),
                        [x, gamma, beta], dtype)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_fused_batch_norm_equals_the_composed_ops(case):
    shape, training, activation = case
    x, gamma, beta, moving = inputs(shape, 3 * sum(shape))
    upstream = np.random.default_rng(1).standard_normal(shape)
    results = []
    for build in (striate_fused, striate_composed):
        tensors = [Tensor(a, requires_grad=True, dtype=np.float64) for a in (x, gamma, beta)]
        y = build(training, activation, moving)(*tensors)
        y.backward(upstream)
        results.append([y.data, *(t.grad for t in tensors)])
    for fused, composed, what in zip(*results, ("y", "dx", "dgamma", "dbeta")):
        assert_close(fused, composed, np.float64, what)


def test_fused_batch_norm_split_over_workers_matches_torch():
    """workers_only cuts the batch into chunks whose sums are added in order: still the same values."""
    x, gamma, beta, moving = inputs((8, 6, 6, 5), 11)
    with workers_only():
        check_against_torch(striate_fused(True, "relu", moving), torch_reference(True, "relu", moving),
                            [x, gamma, beta], np.float32)


def test_batch_moments_keep_precision_on_a_large_mean():
    rng = np.random.default_rng(2)
    x = (1e4 + rng.standard_normal((64, 9, 3))).astype(np.float32)
    mean, variance = batch_moments(x)
    exact = x.astype(np.float64).reshape(-1, 3)
    np.testing.assert_allclose(mean, exact.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(variance, exact.var(axis=0), rtol=1e-4)


@pytest.mark.parametrize("channels", [2, 50])  # the sums channel by channel and row by row (WIDE_ROWS)
def test_batch_moments_keep_precision_over_many_rows(channels):
    # 2^18 rows: float32 totals would be off by about 2e-4 in the variance; blocks of SUM_ROWS rows in float32,
    # added in float64, by about 3e-8
    rng = np.random.default_rng(3)
    x = (1000 + rng.random((2**18, 1, channels))).astype(np.float32)
    mean, variance = batch_moments(x)
    exact = x.astype(np.float64).reshape(-1, channels)
    np.testing.assert_allclose(mean, exact.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(variance, exact.var(axis=0), rtol=1e-6)


def test_batch_norm_refuses_an_unknown_activation():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="batch_norm: activation must be one of .*received 'tanh'"):
        batch_norm(x, Tensor(np.ones(3)), Tensor(np.zeros(3)), np.zeros(3), np.ones(3), EPSILON, True, "tanh")
