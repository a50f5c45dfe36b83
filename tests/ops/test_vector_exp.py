"""exp_float32, the exp that vectorizes inside compiled loops: within 1.4 float32 ulps of e^x (NumPy's exp in
float64, rounded), inf above ln(FLT_MAX), 0 below ln of the smallest normal float32, NaN for NaN."""

import numpy as np
from numba import njit

from striate.ops.vector_exp import HIGHEST, LOWEST, exp_float32


@njit
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_float32(x[i])


def exp_of(values):
    x = np.asarray(values, dtype=np.float32)
    out = np.empty_like(x)
    _exp_all(x, out)
    return out


def test_exp_float32_is_within_one_and_a_half_ulps_of_the_exact_value():
    x = np.concatenate([np.linspace(LOWEST, HIGHEST, 200_001, dtype=np.float32),
                        np.random.default_rng(0).uniform(-3, 3, 100_000).astype(np.float32)])
    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(exp_of(x) - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert ulps.max() < 1.5


def test_exp_float32_overflows_to_inf_flushes_below_the_normals_to_zero_and_keeps_nan():
    got = exp_of([np.inf, 89.0, HIGHEST, -np.inf, -90.0, np.nan, 0.0, -0.0])
    assert got[0] == got[1] == np.inf and np.isfinite(got[2]) and got[2] > 3.3e38
    assert got[3] == got[4] == 0 and np.isnan(got[5]) and got[6] == got[7] == 1
