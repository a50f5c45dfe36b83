"""batch_norm (Keras semantics, channels-last) and local_response_norm (TensorFlow's) vs PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate.functional as F
from oracle import assert_close, channels_first, channels_last, check_against_torch
from striate import Tensor

DTYPES = {"float64": np.float64, "float32": np.float32}
SHAPES = [(4, 3), (2, 5, 3), (2, 4, 3, 5), (3, 2, 3, 2, 2)]


def torch_batch_norm(training, epsilon, moving_mean=None, moving_variance=None):
    """torch normalizes over (N, C, *spatial) axis 1; striate over the last axis."""

    def run(x, gamma=None, beta=None):
        mean = None if moving_mean is None else torch.as_tensor(moving_mean, dtype=x.dtype)
        var = None if moving_variance is None else torch.as_tensor(moving_variance, dtype=x.dtype)
        out = TF.batch_norm(channels_first(x), mean, var, gamma, beta, training=training, eps=epsilon)
        return channels_last(out)

    return run


def moving_statistics(rng, channels, dtype):
    return rng.standard_normal(channels).astype(dtype), rng.uniform(0.5, 2.0, channels).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("affine", [True, False], ids=["gamma-beta", "no-gamma-beta"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_batch_norm_training_output_and_gradients_match_torch(shape, affine, dtype):
    rng = np.random.default_rng(sum(shape))
    x = 2.0 * rng.standard_normal(shape) + 0.5
    gamma, beta = rng.uniform(0.5, 1.5, shape[-1]), rng.standard_normal(shape[-1])
    moving_mean, moving_variance = moving_statistics(rng, shape[-1], dtype)

    def striate_fn(x, gamma=None, beta=None):
        return F.batch_norm(x, moving_mean, moving_variance, gamma, beta, training=True)

    inputs = [x, gamma, beta] if affine else [x]
    check_against_torch(striate_fn, torch_batch_norm(True, 1e-3), inputs, dtype)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("momentum,epsilon", [(0.99, 1e-3), (0.9, 1e-5)])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_batch_norm_training_updates_moving_statistics_keras_style_in_place(shape, momentum, epsilon, dtype):
    rng = np.random.default_rng(sum(shape) + 7)
    x = (3.0 * rng.standard_normal(shape) - 1.0).astype(dtype)
    moving_mean, moving_variance = moving_statistics(rng, shape[-1], dtype)
    mean_before, variance_before = moving_mean.copy(), moving_variance.copy()
    axes = tuple(range(len(shape) - 1))
    batch_mean = x.astype(np.float64).mean(axis=axes)
    batch_variance = x.astype(np.float64).var(axis=axes)  # biased, as Keras

    out = F.batch_norm(Tensor(x), moving_mean, moving_variance, training=True, momentum=momentum,
                       epsilon=epsilon)

    expected_out = torch_batch_norm(True, epsilon)(torch.tensor(x)).numpy()
    assert_close(out, expected_out, dtype, "batch_norm output")
    assert_close(moving_mean, momentum * mean_before + (1 - momentum) * batch_mean, dtype, "moving mean")
    assert_close(moving_variance, momentum * variance_before + (1 - momentum) * batch_variance, dtype,
                 "moving variance")


def test_batch_norm_defaults_are_momentum_0_99_epsilon_1e_3():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    moving_mean, moving_variance = np.zeros(4), np.ones(4)
    out = F.batch_norm(Tensor(x), moving_mean, moving_variance, training=True)
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(moving_mean, 0.01 * x.mean(0), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(moving_variance, 0.99 + 0.01 * x.var(0), rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("affine", [True, False], ids=["gamma-beta", "no-gamma-beta"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_batch_norm_inference_uses_moving_statistics_and_leaves_them_alone(shape, affine, dtype):
    rng = np.random.default_rng(sum(shape) + 3)
    x = rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 1.5, shape[-1]), rng.standard_normal(shape[-1])
    moving_mean, moving_variance = moving_statistics(rng, shape[-1], dtype)
    mean_before, variance_before = moving_mean.copy(), moving_variance.copy()

    def striate_fn(x, gamma=None, beta=None):
        return F.batch_norm(x, moving_mean, moving_variance, gamma, beta, training=False)

    torch_fn = torch_batch_norm(False, 1e-3, mean_before, variance_before)
    check_against_torch(striate_fn, torch_fn, [x, gamma, beta] if affine else [x], dtype)
    np.testing.assert_array_equal(moving_mean, mean_before)
    np.testing.assert_array_equal(moving_variance, variance_before)


# ---- local response normalization -------------------------------------------------------------------------
def torch_lrn(depth_radius, bias, alpha, beta):
    """TF: x / (bias + alpha * sum_{c-r..c+r} x^2)^beta == torch's LRN with size 2r+1 and alpha * size."""
    size = 2 * depth_radius + 1

    def run(x):
        if x.dim() == 2:  # torch needs (N, C, spatial...)
            return TF.local_response_norm(x[:, :, None], size, alpha * size, beta, bias)[:, :, 0]
        return channels_last(TF.local_response_norm(channels_first(x), size, alpha * size, beta, bias))

    return run


LRN_CASES = [
    dict(shape=(2, 4, 5, 7), depth_radius=2, bias=1.0, alpha=0.5, beta=0.75),
    dict(shape=(2, 3, 3, 6), depth_radius=5, bias=1.0, alpha=1.0, beta=0.5),  # the defaults; radius > C
    dict(shape=(1, 3, 8), depth_radius=1, bias=2.0, alpha=1e-2, beta=0.75),
    dict(shape=(2, 2, 3, 2, 5), depth_radius=1, bias=0.5, alpha=0.3, beta=1.2),
    dict(shape=(3, 6), depth_radius=2, bias=1.0, alpha=0.2, beta=0.5),
    dict(shape=(2, 3, 3, 4), depth_radius=0, bias=1.5, alpha=0.4, beta=0.6),
]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", LRN_CASES, ids=[",".join(f"{k}={v}" for k, v in c.items())
                                                 for c in LRN_CASES])
def test_local_response_norm_matches_torch(case, dtype):
    x = np.random.default_rng(len(case["shape"])).standard_normal(case["shape"])
    params = {k: case[k] for k in ("depth_radius", "bias", "alpha", "beta")}
    check_against_torch(lambda t: F.local_response_norm(t, **params), torch_lrn(**params), [x], dtype)


def test_local_response_norm_defaults_are_radius_5_bias_1_alpha_1_beta_half():
    x = np.random.default_rng(9).standard_normal((2, 3, 3, 8))
    out = F.local_response_norm(Tensor(x))
    expected = torch_lrn(5, 1.0, 1.0, 0.5)(torch.tensor(x)).numpy()
    assert_close(out, expected, np.float64, "local_response_norm with defaults")
