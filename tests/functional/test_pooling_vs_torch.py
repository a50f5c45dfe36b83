"""Max and average pooling (channels-last, Keras semantics) against PyTorch and a NumPy reference.

Keras "same" pooling pads TensorFlow-style (the odd extra cell after); max pooling never picks a padded cell
and average pooling divides by the number of real cells in each window.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate.functional as F
from oracle import (
    assert_close,
    channels_first,
    channels_last,
    check_against_torch,
    tf_same_padding,
    torch_pad_argument,
)
from striate import Tensor

DTYPES = {"float64": np.float64, "float32": np.float32}
STRIATE_POOL = {
    ("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d, ("max", 3): F.max_pool3d,
    ("avg", 1): F.avg_pool1d, ("avg", 2): F.avg_pool2d, ("avg", 3): F.avg_pool3d,
}
TORCH_MAX_POOL = {1: TF.max_pool1d, 2: TF.max_pool2d, 3: TF.max_pool3d}
TORCH_AVG_POOL = {1: TF.avg_pool1d, 2: TF.avg_pool2d, 3: TF.avg_pool3d}


def per_axis(value, nd):
    return tuple(value) if isinstance(value, tuple | list) else (value,) * nd


def pool_geometry(spatial, pool_size, strides, padding):
    nd = len(spatial)
    size = per_axis(pool_size, nd)
    step = size if strides is None else per_axis(strides, nd)
    if padding == "valid":
        pads = [(0, 0)] * nd
    else:
        pads = [tf_same_padding(n, k, s) for n, k, s in zip(spatial, size, step, strict=True)]
    return size, step, pads


def torch_pool(kind, spatial, pool_size, strides, padding):
    """Explicit padding, then torch's pooling with padding 0; average divides by the count of real cells."""
    nd = len(spatial)
    size, step, pads = pool_geometry(spatial, pool_size, strides, padding)

    def run(x):
        xc = channels_first(x)
        if kind == "max":
            padded = TF.pad(xc, torch_pad_argument(pads), value=-float("inf"))
            return channels_last(TORCH_MAX_POOL[nd](padded, size, step))
        summed = TORCH_AVG_POOL[nd](TF.pad(xc, torch_pad_argument(pads)), size, step)
        counted = TORCH_AVG_POOL[nd](TF.pad(torch.ones_like(xc), torch_pad_argument(pads)), size, step)
        return channels_last(summed / counted)

    return run


def pool_case(kind, spatial, pool_size=2, strides=None, padding="valid", channels=2, batch=2):
    return dict(kind=kind, spatial=spatial, pool_size=pool_size, strides=strides, padding=padding,
                channels=channels, batch=batch)


POOL_CASES = [
    case
    for kind in ["max", "avg"]
    for case in [
        pool_case(kind, (8,)),
        pool_case(kind, (9,), pool_size=3, strides=2),  # overlapping windows
        pool_case(kind, (7,), pool_size=2, padding="same"),
        pool_case(kind, (8,), pool_size=3, strides=1, padding="same"),
        pool_case(kind, (6, 8)),
        pool_case(kind, (7, 7), pool_size=3, strides=2),  # overlapping
        pool_case(kind, (7, 9), pool_size=(2, 3), strides=(1, 2)),  # overlapping on the first axis
        pool_case(kind, (6, 8), pool_size=(3, 2), strides=(3, 2)),
        pool_case(kind, (7, 8), pool_size=2, padding="same"),  # odd size: one padded row after
        pool_case(kind, (7, 7), pool_size=3, strides=2, padding="same"),  # symmetric padding
        pool_case(kind, (6, 7), pool_size=(2, 3), strides=1, padding="same"),  # asymmetric, overlapping
        pool_case(kind, (8, 7), pool_size=4, strides=(3, 2), padding="same"),
        pool_case(kind, (4, 4), pool_size=(4, 4), channels=1, batch=1),
        pool_case(kind, (4, 5, 4)),
        pool_case(kind, (5, 5, 4), pool_size=(3, 2, 2), strides=(2, 1, 2)),
        pool_case(kind, (5, 4, 5), pool_size=2, padding="same"),
        pool_case(kind, (5, 5, 5), pool_size=3, strides=2, padding="same", channels=1),
    ]
]


def random_pool_cases(count, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        nd = int(rng.integers(1, 4))
        pool_size = tuple(int(k) for k in rng.integers(1, 4, nd))
        strides = None if rng.random() < 0.3 else tuple(int(s) for s in rng.integers(1, 4, nd))
        spatial = tuple(int(n) for n in rng.integers(3, 8 if nd < 3 else 6, nd))
        cases.append(pool_case(str(rng.choice(["max", "avg"])), spatial, pool_size, strides,
                               str(rng.choice(["valid", "same"])), channels=int(rng.integers(1, 4)),
                               batch=int(rng.integers(1, 3))))
    return cases


POOL_CASES += random_pool_cases(30, seed=12)


def case_id(case):
    return ",".join(f"{k}={v}" for k, v in case.items()).replace(" ", "")


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", POOL_CASES, ids=[case_id(c) for c in POOL_CASES])
def test_pooling_forward_and_gradients_match_torch(case, dtype):
    nd = len(case["spatial"])
    rng = np.random.default_rng(len(case_id(case)))
    x = rng.standard_normal((case["batch"], *case["spatial"], case["channels"]))  # continuous: no ties

    def striate_fn(t):
        return STRIATE_POOL[case["kind"], nd](t, pool_size=case["pool_size"], strides=case["strides"],
                                              padding=case["padding"])

    torch_fn = torch_pool(case["kind"], case["spatial"], case["pool_size"], case["strides"], case["padding"])
    check_against_torch(striate_fn, torch_fn, [x], dtype)


class _NumpyWithPoisonedEmpty:
    """NumPy, except that `empty` returns NaNs (-1 for integers): a cell the loops should write and do not shows."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def empty(shape, dtype=float):
        return np.full(shape, np.nan if np.dtype(dtype).kind == "f" else -1, dtype=dtype)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("spatial,pool_size", [((7, 5), 2), ((6, 8), (3, 2)), ((9,), 4), ((5, 4, 7), (2, 2, 3))])
def test_tiling_windows_write_every_gradient_cell_once_and_zero_the_cells_past_the_last_window(
        kind, spatial, pool_size, monkeypatch):
    """Stride = window: the backward loops write each cell instead of adding into zeros; cells no window reaches
    (the last row of 7 under 2x2 windows) get zero, as in PyTorch."""
    import importlib

    monkeypatch.setattr(importlib.import_module("striate.ops.pooling"), "np", _NumpyWithPoisonedEmpty())
    nd = len(spatial)
    x = np.random.default_rng(3).standard_normal((2, *spatial, 3))

    def striate_fn(t):
        return STRIATE_POOL[kind, nd](t, pool_size=pool_size)

    check_against_torch(striate_fn, torch_pool(kind, spatial, pool_size, None, "valid"), [x], np.float64)


@pytest.mark.parametrize("pool_size,strides", [((2, 2), None), ((3, 3), (1, 1)), ((3, 2), (2, 1))])
def test_max_pool_gives_a_tie_to_the_first_maximum_as_torch(pool_size, strides):
    """Integer images tie often; overlapping windows (stride 1) send several gradients to one cell."""
    x = np.random.default_rng(5).integers(0, 3, (2, 7, 6, 3)).astype(np.float64)

    def striate_fn(t):
        return F.max_pool2d(t, pool_size=pool_size, strides=strides)

    check_against_torch(striate_fn, torch_pool("max", (7, 6), pool_size, strides, "valid"), [x], np.float64)


def test_max_pool_propagates_nan_as_torch():
    x = np.random.default_rng(6).standard_normal((1, 4, 4, 2))
    x[0, 1, 2, 0] = np.nan
    y = F.max_pool2d(x).numpy()
    expected = TF.max_pool2d(torch.tensor(x).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(y[~np.isnan(y)], expected[~np.isnan(expected)])


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_in_one_image_chunks_on_two_threads_matches_torch(kind, monkeypatch):
    from striate.algorithms import chunking
    from striate.core import runtime

    monkeypatch.setattr(chunking, "CHUNK_BYTES", 1)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    x = np.random.default_rng(7).standard_normal((5, 6, 6, 2))

    def striate_fn(t):
        return STRIATE_POOL[kind, 2](t, pool_size=2, strides=1, padding="same")

    check_against_torch(striate_fn, torch_pool(kind, (6, 6), (2, 2), (1, 1), "same"), [x], np.float64)


def test_pool_defaults_are_pool_size_2_strides_pool_size_valid():
    x = np.random.default_rng(0).standard_normal((1, 5, 7, 3))
    assert F.max_pool2d(x).shape == (1, 2, 3, 3)
    assert F.avg_pool2d(x).shape == (1, 2, 3, 3)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_same_pooling_with_symmetric_padding_equals_torch_count_include_pad_false(kind):
    """7 with pool 3, stride 2: SAME pads (1, 1), which torch can express directly."""
    x = np.random.default_rng(5).standard_normal((2, 7, 7, 3))
    assert tf_same_padding(7, 3, 2) == (1, 1)

    def torch_fn(t):
        if kind == "max":
            return channels_last(TF.max_pool2d(channels_first(t), 3, 2, padding=1))
        return channels_last(TF.avg_pool2d(channels_first(t), 3, 2, padding=1, count_include_pad=False))

    striate_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    check_against_torch(lambda t: striate_pool(t, pool_size=3, strides=2, padding="same"), torch_fn, [x])


# ---- a loop-by-loop NumPy reference for asymmetric "same" padding (Keras semantics) -----------------------
def numpy_same_pool2d(x, pool_size, strides, kind, upstream=None):
    """Returns the pooled output and, for average pooling with an upstream gradient, dLoss/dx."""
    n, h, w, c = x.shape
    (ph, pw), (sh, sw) = pool_size, strides
    out_h, out_w = -(-h // sh), -(-w // sw)
    top = max((out_h - 1) * sh + ph - h, 0) // 2
    left = max((out_w - 1) * sw + pw - w, 0) // 2
    out = np.empty((n, out_h, out_w, c))
    grad = np.zeros_like(x)
    for i, j in itertools.product(range(out_h), range(out_w)):
        rows = [r for r in range(i * sh - top, i * sh - top + ph) if 0 <= r < h]
        cols = [q for q in range(j * sw - left, j * sw - left + pw) if 0 <= q < w]
        window = x[:, rows][:, :, cols]
        if kind == "max":
            out[:, i, j] = window.max(axis=(1, 2))
        else:
            out[:, i, j] = window.mean(axis=(1, 2))  # real cells only
            if upstream is not None:
                grad[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] += (
                    upstream[:, i, j][:, None, None, :] / (len(rows) * len(cols)))
    return out, grad


@pytest.mark.parametrize("pool_size,strides", [((2, 2), (2, 2)), ((2, 3), (1, 1)), ((4, 3), (3, 2))])
def test_same_max_pool_asymmetric_padding_matches_numpy_reference(pool_size, strides):
    x = np.random.default_rng(1).standard_normal((2, 7, 8, 2))
    expected, _ = numpy_same_pool2d(x, pool_size, strides, "max")
    out = F.max_pool2d(Tensor(x), pool_size=pool_size, strides=strides, padding="same")
    assert_close(out, expected, np.float64, "max_pool2d same")


@pytest.mark.parametrize("pool_size,strides", [((2, 2), (2, 2)), ((2, 3), (1, 1)), ((4, 3), (3, 2))])
def test_same_avg_pool_divides_by_real_cells_only_numpy_reference(pool_size, strides):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 8, 2))
    t = Tensor(x, requires_grad=True)
    out = F.avg_pool2d(t, pool_size=pool_size, strides=strides, padding="same")
    upstream = rng.standard_normal(out.shape)
    expected, expected_grad = numpy_same_pool2d(x, pool_size, strides, "avg", upstream)
    assert_close(out, expected, np.float64, "avg_pool2d same")
    out.backward(upstream)
    assert_close(t.grad, expected_grad, np.float64, "avg_pool2d same gradient")


def test_same_avg_pool_of_constant_image_is_constant():
    """Dividing by the window size instead of the real-cell count would shrink the border values."""
    out = F.avg_pool2d(Tensor(np.full((1, 5, 5, 1), 3.0)), pool_size=3, strides=1, padding="same")
    np.testing.assert_allclose(out.numpy(), 3.0, rtol=1e-12)


# ---- global pooling ---------------------------------------------------------------------------------------
GLOBAL_SHAPES = [(2, 7, 3), (2, 4, 5, 3), (1, 3, 4, 2, 2), (3, 1, 1, 4)]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("shape", GLOBAL_SHAPES, ids=[str(s) for s in GLOBAL_SHAPES])
def test_global_avg_pool_matches_torch_mean_over_spatial_axes(shape, dtype):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    spatial = tuple(range(1, len(shape) - 1))
    check_against_torch(F.global_avg_pool, lambda t: t.mean(dim=spatial), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("shape", GLOBAL_SHAPES, ids=[str(s) for s in GLOBAL_SHAPES])
def test_global_max_pool_matches_torch_amax_over_spatial_axes(shape, dtype):
    x = np.random.default_rng(sum(shape) + 1).standard_normal(shape)
    spatial = tuple(range(1, len(shape) - 1))
    check_against_torch(F.global_max_pool, lambda t: torch.amax(t, dim=spatial), [x], dtype)
