"""The embedding op's gradient: rows added in the order of the indices, as NumPy's np.add.at adds them."""

import numpy as np
import pytest

from striate.core.tensor import Tensor
from striate.ops import embedding


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_gradient_equals_np_add_at_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    table = Tensor(rng.standard_normal((50, 16)).astype(dtype), requires_grad=True)
    indices = rng.integers(0, 50, (64, 40))  # 2560 rows into 50: each row of the table summed about 51 times
    upstream = rng.standard_normal((64, 40, 16)).astype(dtype)
    output = embedding(indices, table)
    output.backward(upstream)
    expected = np.zeros((50, 16), dtype)
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, 16))
    np.testing.assert_array_equal(output.data, table.data[indices])
    assert table.grad.dtype == dtype
    np.testing.assert_array_equal(table.grad, expected)
