"""The compiled activation loops compute what NumPy's activation functions compute, value for value."""

import numpy as np
import pytest
import torch

from striate.ops import activation_loops
from striate.ops.activations import IN_PLACE_ACTIVATIONS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_bias_relu_is_fmax_of_the_sum_and_zero_also_for_nan(dtype):
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((5, 12)).astype(dtype)
    rows[1, 3] = np.nan
    bias_row = np.tile(rng.standard_normal(4).astype(dtype), 3)
    expected = np.fmax(rows + bias_row, 0)
    activation_loops.add_bias_relu(rows, bias_row)
    np.testing.assert_array_equal(rows, expected)
    assert rows[1, 3] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_bias_is_numpys_broadcast_add_also_on_rows_of_one_channel(dtype):
    rng = np.random.default_rng(3)
    for rows_shape in ((7, 1), (4, 12)):
        rows = rng.standard_normal(rows_shape).astype(dtype)
        rows[0, 0] = np.inf
        bias_row = rng.standard_normal(rows_shape[1]).astype(dtype)
        expected = rows + bias_row
        activation_loops.add_bias(rows, bias_row)
        np.testing.assert_array_equal(rows, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", sorted(activation_loops.KINDS))
def test_gradient_is_numpys_value_for_value_and_row_sums_are_float64_sums(activation, dtype):
    rng = np.random.default_rng(1)
    values, gradient = IN_PLACE_ACTIVATIONS[activation]
    y = values(rng.standard_normal((6, 10)).astype(dtype))
    y[0, :3] = 0  # relu's kink: the gradient there is 0, as y > 0 is false
    grad = rng.standard_normal((6, 10)).astype(dtype)
    out, row_sums = np.empty_like(y), np.zeros(10)
    activation_loops.gradient_and_row_sums(activation_loops.KINDS[activation], grad, y, out, row_sums, dtype(1))
    expected = gradient(grad, y)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(row_sums, expected.astype(np.float64).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_gradient_passes_the_gradient_where_the_output_is_positive_as_torch(dtype):
    rng = np.random.default_rng(2)
    y = np.maximum(rng.standard_normal(1000), 0).astype(dtype)
    y[:4] = [0.0, -0.0, 1e-30, np.finfo(dtype).tiny]  # the kink (both zeros) and the smallest positive outputs
    grad = rng.standard_normal(1000).astype(dtype)
    out = np.empty_like(grad)
    activation_loops.relu_gradient(grad, y, out, dtype(1))
    expected = torch.ops.aten.threshold_backward(torch.from_numpy(grad), torch.from_numpy(y), 0).numpy()
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == dtype


def test_relu_gradient_keeps_a_nan_gradient_as_numpys_multiply_by_the_mask():
    grad = np.array([np.nan, np.nan, 1.0], dtype=np.float32)
    y = np.array([1.0, 0.0, -1.0], dtype=np.float32)
    out = np.empty_like(grad)
    activation_loops.relu_gradient(grad, y, out, np.float32(1))
    np.testing.assert_array_equal(out, np.multiply(grad, y > 0))  # nan * 1, nan * 0 (nan), 1 * 0


@pytest.mark.parametrize("dtype", [np.float16, np.int32])
def test_relu_and_add_relu_on_dtypes_the_loops_do_not_take_are_numpys(dtype):
    from striate import ops
    from striate.core.tensor import Tensor

    rng = np.random.default_rng(3)
    a_values = (rng.standard_normal((4, 3, 2)) * 4).astype(dtype)
    b_values = (rng.standard_normal((4, 3, 2)) * 4).astype(dtype)
    y = ops.add_relu(Tensor(a_values, dtype=dtype), Tensor(b_values, dtype=dtype))
    np.testing.assert_array_equal(y.data, np.fmax(a_values + b_values, 0))
    if dtype == np.float16:  # asked for by name (a float16 array alone becomes a float32 Tensor)
        a = Tensor(a_values, requires_grad=True, dtype=dtype)
        ops.add_relu(a, Tensor(b_values, dtype=dtype)).backward(np.ones_like(a_values))
        np.testing.assert_array_equal(a.grad, (a_values + b_values > 0).astype(dtype))
        a.grad = None
        ops.relu(a).backward(np.ones_like(a_values))
        np.testing.assert_array_equal(a.grad, (a_values > 0).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_is_torchs_softmax_also_for_rows_with_nan_and_infinities(dtype):
    rng = np.random.default_rng(4)
    x = (3 * rng.standard_normal((6, 10))).astype(dtype)
    x[1, 2], x[2, 0], x[3, 5], x[4] = np.nan, np.inf, -np.inf, -np.inf  # row 3: one -inf among finite values
    out = np.empty_like(x)
    activation_loops.softmax_rows(x, out)
    expected = torch.softmax(torch.from_numpy(x), dim=-1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)
    assert np.isnan(out[[1, 2, 4]]).all() and out[3, 5] == 0 and np.isfinite(out[[0, 3, 5]]).all()
