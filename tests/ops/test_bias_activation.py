"""A layer's bias and activation applied in place on its op's fresh output: the same bits whether the output is
small enough for NumPy's broadcast add (`SMALL_OUTPUT`) or goes through the compiled passes in chunks, and
PyTorch's values."""

import numpy as np
import pytest
import torch

from striate.ops import bias_activation
from striate.ops.bias_activation import add_bias_and_activate

TORCH = {None: lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("shape", [(1, 10), (1, 28, 28, 1), (2, 7, 7, 64), (3, 5, 5, 6)])
def test_small_and_chunked_outputs_get_the_same_bits_and_torchs_values(monkeypatch, shape, activation):
    rng = np.random.default_rng(5)
    y = rng.standard_normal(shape).astype(np.float32)
    y.flat[3] = np.nan
    bias = rng.standard_normal(shape[-1]).astype(np.float32)
    results = []
    for small_output in (10**9, 0):  # every output small, then none
        monkeypatch.setattr(bias_activation, "SMALL_OUTPUT", small_output)
        results.append(add_bias_and_activate(y.copy(), bias, activation))
    np.testing.assert_array_equal(results[0], results[1])
    expected = TORCH[activation](torch.from_numpy(y) + torch.from_numpy(bias)).numpy()
    if activation == "relu":  # relu of NaN is 0 in striate (fmax), NaN in PyTorch
        expected = np.nan_to_num(expected, nan=0.0)
    np.testing.assert_allclose(results[0], expected, rtol=1e-6, atol=1e-7)
