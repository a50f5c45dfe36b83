"""F.convolve / F.correlate against scipy.signal (method="direct"); their gradients vs finite differences."""

import numpy as np
import pytest
import scipy.signal

import striate.functional as F
from oracle import assert_close, check_finite_differences
from striate import Tensor

MODES = ["valid", "same", "full"]
# (input shape, kernel shape): odd, even and mixed kernels in 1-D, 2-D and 3-D
SHAPES = [
    ((9,), (3,)),
    ((8,), (4,)),
    ((7,), (1,)),
    ((6, 7), (3, 3)),
    ((6, 7), (2, 4)),
    ((7, 6), (3, 2)),
    ((5, 4, 6), (3, 2, 3)),
    ((4, 5, 4), (2, 2, 2)),
]
OPERATIONS = {
    "convolve": (F.convolve, scipy.signal.convolve),
    "correlate": (F.correlate, scipy.signal.correlate),
}
DTYPES = {"float64": np.float64, "float32": np.float32}


def shapes_id(pair):
    return f"x{pair[0]}-k{pair[1]}".replace(" ", "")


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES, ids=[shapes_id(s) for s in SHAPES])
@pytest.mark.parametrize("operation", OPERATIONS.keys())
def test_matches_scipy_signal_direct(operation, shapes, mode, dtype):
    striate_fn, scipy_fn = OPERATIONS[operation]
    rng = np.random.default_rng(sum(shapes[0]) + sum(shapes[1]))
    x, kernel = (rng.standard_normal(s).astype(dtype) for s in shapes)
    out = striate_fn(Tensor(x), Tensor(kernel), mode=mode)
    expected = scipy_fn(x.astype(np.float64), kernel.astype(np.float64), mode=mode, method="direct")
    assert_close(out, expected, dtype, f"{operation} mode={mode}")
    assert out.dtype == dtype


@pytest.mark.parametrize("operation", OPERATIONS.keys())
def test_valid_is_the_default_mode(operation):
    striate_fn, scipy_fn = OPERATIONS[operation]
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal((6, 5)), rng.standard_normal((2, 3))
    assert_close(striate_fn(Tensor(x), Tensor(kernel)), scipy_fn(x, kernel, mode="valid", method="direct"),
                 np.float64, f"{operation} default mode")


@pytest.mark.parametrize("operation", OPERATIONS.keys())
def test_accepts_plain_numpy_arrays(operation):
    striate_fn, scipy_fn = OPERATIONS[operation]
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal(7), rng.standard_normal(3)
    assert_close(striate_fn(x, kernel, mode="same"), scipy_fn(x, kernel, mode="same", method="direct"),
                 np.float64, f"{operation} on arrays")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES, ids=[shapes_id(s) for s in SHAPES])
@pytest.mark.parametrize("operation", OPERATIONS.keys())
def test_gradients_match_finite_differences(operation, shapes, mode):
    striate_fn, _ = OPERATIONS[operation]
    rng = np.random.default_rng(sum(shapes[0]) * 3 + sum(shapes[1]))
    x, kernel = (rng.standard_normal(s) for s in shapes)
    check_finite_differences(lambda a, k: striate_fn(a, k, mode=mode), [x, kernel], max_entries=12)
