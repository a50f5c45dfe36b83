"""normalize_groups on values far from zero: its one-pass sums about each channel's first value keep the precision
that sums about zero lose (at mean 1e8 in float64, E[x^2] - E[x]^2 has no correct digit left), checked against
NumPy's two-pass mean and variance of each block."""

import numpy as np
import pytest

from striate import ops
from striate.core.tensor import Tensor


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e8])
def test_normalize_groups_matches_two_pass_statistics_far_from_zero(offset):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 30, 3, 4)) + offset  # (N, P, G, K): 2 samples, 3 groups of 4 channels
    gamma, beta = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y = ops.normalize_groups(Tensor(x), Tensor(gamma), Tensor(beta), 1e-3).data
    mean = x.mean(axis=(1, 3), keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=(1, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
