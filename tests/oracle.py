"""The two oracles every gradient test of striate uses.

- `check_against_torch`: run a striate function and the equivalent PyTorch function on the same arrays,
  compare the outputs, backpropagate the same (seeded, random) upstream gradient through both and compare
  the gradient of every differentiable input.
- `check_finite_differences`: compare striate's analytic gradients with float64 central differences of
  `sum(output * upstream)`; independent of PyTorch.

Layout conversion (channels-last <-> NCHW) is the job of the `torch_fn` the caller passes; the helpers at the
bottom (`channels_first`, `channels_last`, `torch_conv_weight`, ...) keep those lambdas short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import striate

# relative tolerance per dtype; the absolute tolerance is this times the magnitude of the expected values
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def _as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, striate.Tensor):
        return value.numpy()
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def assert_close(actual: Any, expected: Any, dtype: Any, what: str, rtol: float | None = None,
                 atol: float | None = None) -> None:
    """allclose with a tolerance scaled to the dtype and to the magnitude of `expected`."""
    actual = _as_numpy(actual)
    expected = _as_numpy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    tol = TOLERANCE[np.dtype(dtype)]
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(
        actual.astype(np.float64),
        expected.astype(np.float64),
        rtol=tol if rtol is None else rtol,
        atol=tol * scale if atol is None else atol,
        err_msg=what,
    )


def _differentiable(inputs: Sequence[Any], constant: Sequence[int]) -> list[bool]:
    return [_is_float_array(a) and i not in constant for i, a in enumerate(inputs)]


def check_against_torch(
    striate_fn: Callable[..., Any],
    torch_fn: Callable[..., torch.Tensor],
    inputs: Sequence[Any],
    dtype: Any = np.float64,
    *,
    constant: Sequence[int] = (),
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Forward output and every input gradient of `striate_fn` must match `torch_fn`.

    Args:
        striate_fn, torch_fn: called with one argument per entry of `inputs`. A float array becomes
            `striate.Tensor(a, requires_grad=True)` / `torch.tensor(a, requires_grad=True)` (cast to `dtype`);
            other arrays (integer labels, boolean masks) are passed as they are to striate and as
            `torch.as_tensor` to torch; anything else is passed unchanged to both.
        constant: indices of float inputs that are passed without a gradient (plain arrays to striate).
        seed: seeds the random upstream gradient backpropagated through both outputs.
        check_dtype: the striate output and gradients must have `dtype`.

    Returns (striate output, torch output) as arrays.
    """
    dtype = np.dtype(dtype)
    arrays = [np.asarray(a, dtype=dtype) if _is_float_array(a) else a for a in inputs]
    wants_grad = _differentiable(arrays, constant)

    striate_inputs = [
        striate.Tensor(a, requires_grad=True) if g else a for a, g in zip(arrays, wants_grad, strict=True)
    ]
    torch_inputs = [
        torch.tensor(a, requires_grad=g) if isinstance(a, np.ndarray) and (g or _is_float_array(a))
        else torch.as_tensor(a) if isinstance(a, np.ndarray) else a
        for a, g in zip(arrays, wants_grad, strict=True)
    ]

    striate_out = striate_fn(*striate_inputs)
    torch_out = torch_fn(*torch_inputs)
    actual = _as_numpy(striate_out)
    expected = _as_numpy(torch_out)
    assert_close(actual, expected, dtype, "forward output", rtol, atol)
    if check_dtype:
        assert actual.dtype == dtype, f"forward output has dtype {actual.dtype}, inputs were {dtype}"

    if not any(wants_grad):
        return actual, expected
    upstream = np.random.default_rng(seed).standard_normal(expected.shape).astype(dtype)
    striate_out.backward(upstream)
    torch_out.backward(torch.tensor(upstream))
    for index, (s_in, t_in, g) in enumerate(zip(striate_inputs, torch_inputs, wants_grad, strict=True)):
        if not g:
            continue
        expected_grad = t_in.grad.numpy() if t_in.grad is not None else np.zeros(t_in.shape, dtype)
        assert s_in.grad is not None, f"input {index}: striate computed no gradient"
        assert_close(s_in.grad, expected_grad, dtype, f"gradient of input {index}", rtol, atol)
        if check_dtype:
            grad_dtype = np.asarray(s_in.grad).dtype
            assert grad_dtype == dtype, f"gradient of input {index} has dtype {grad_dtype}"
    return actual, expected


def check_finite_differences(
    striate_fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    *,
    constant: Sequence[int] = (),
    max_entries: int = 24,
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """striate's analytic gradients must match float64 central differences of `sum(output * upstream)`.

    At most `max_entries` entries of each input (a seeded random subset) are perturbed, which keeps big
    inputs fast. `atol` is scaled by the magnitude of the analytic gradient.
    """
    arrays = [np.asarray(a, dtype=np.float64) if _is_float_array(a) else a for a in inputs]
    wants_grad = _differentiable(arrays, constant)
    rng = np.random.default_rng(seed)

    leaves = [striate.Tensor(a, requires_grad=True) if g else a
              for a, g in zip(arrays, wants_grad, strict=True)]
    out = striate_fn(*leaves)
    assert _as_numpy(out).dtype == np.float64, f"float64 inputs gave a {_as_numpy(out).dtype} output"
    upstream = rng.standard_normal(_as_numpy(out).shape)
    out.backward(upstream)

    def objective(perturbed: list[Any]) -> float:
        values = [striate.Tensor(a) if g else a for a, g in zip(perturbed, wants_grad, strict=True)]
        with striate.no_grad():
            return float(np.sum(_as_numpy(striate_fn(*values)) * upstream))

    for index, (leaf, g) in enumerate(zip(leaves, wants_grad, strict=True)):
        if not g:
            continue
        assert leaf.grad is not None, f"input {index}: striate computed no gradient"
        analytic = np.asarray(leaf.grad).reshape(-1)
        size = arrays[index].size
        picked = np.arange(size) if size <= max_entries else rng.choice(size, max_entries, replace=False)
        numeric = np.empty(len(picked))
        for k, flat in enumerate(picked):
            plus = [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]
            minus = [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]
            plus[index].reshape(-1)[flat] += eps
            minus[index].reshape(-1)[flat] -= eps
            numeric[k] = (objective(plus) - objective(minus)) / (2 * eps)
        scale = max(1.0, float(np.max(np.abs(analytic)))) if analytic.size else 1.0
        np.testing.assert_allclose(
            analytic[picked], numeric, rtol=rtol, atol=atol * scale,
            err_msg=f"gradient of input {index} vs central differences (entries {picked.tolist()})",
        )


# ---- layout helpers for the torch side -------------------------------------------------------------------
def channels_first(t: torch.Tensor) -> torch.Tensor:
    """(N, *spatial, C) -> (N, C, *spatial)."""
    return t.movedim(-1, 1)


def channels_last(t: torch.Tensor) -> torch.Tensor:
    """(N, C, *spatial) -> (N, *spatial, C)."""
    return t.movedim(1, -1)


def torch_conv_weight(kernel: torch.Tensor) -> torch.Tensor:
    """striate conv kernel (*k, C_in // groups, C_out) -> torch weight (C_out, C_in // groups, *k)."""
    n = kernel.dim()
    return kernel.permute(n - 1, n - 2, *range(n - 2)).contiguous()  # torch wants a contiguous weight


def torch_conv_transpose_weight(kernel: torch.Tensor) -> torch.Tensor:
    """striate conv-transpose kernel (*k, C_out, C_in) -> torch conv_transpose weight (C_in, C_out, *k)."""
    n = kernel.dim()
    return kernel.permute(n - 1, n - 2, *range(n - 2)).contiguous()  # torch wants a contiguous weight


def torch_pad_argument(pads: Sequence[tuple[int, int]]) -> list[int]:
    """Per-axis (before, after) pairs, first axis first -> torch.nn.functional.pad's last-axis-first list."""
    flat: list[int] = []
    for before, after in reversed(list(pads)):
        flat += [before, after]
    return flat


def tf_same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding of one axis: out = ceil(n / s); the extra cell (if odd) goes after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2
