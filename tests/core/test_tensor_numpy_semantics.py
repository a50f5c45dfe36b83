"""Tensor as NumPy and PyTorch users expect: `np.array(t, copy=...)` behaves as it does on the array itself,
`==` and `!=` compare elements (as torch.Tensor), and a Tensor is hashed by identity (as torch.Tensor)."""

import numpy as np
import pytest
import torch

import striate
from striate import Tensor


@pytest.mark.parametrize("dtype", [None, np.float32, np.float64])
@pytest.mark.parametrize("copy", [None, True, False])
def test_np_array_shares_or_copies_exactly_as_on_the_array_itself(dtype, copy):
    """The reference is NumPy's own behaviour on the underlying ndarray."""
    t = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    try:
        expected = np.array(t.data, dtype=dtype, copy=copy)
    except ValueError:  # copy=False with a conversion: NumPy refuses, so must the Tensor
        with pytest.raises(ValueError, match="copy=False"):
            np.array(t, dtype=dtype, copy=copy)
        return
    result = np.array(t, dtype=dtype, copy=copy)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)
    assert np.shares_memory(result, t.data) == np.shares_memory(expected, t.data)


def test_a_copy_of_a_models_weight_cannot_write_into_the_model():
    model = striate.Sequential([striate.layers.Dense(2, input_shape=(3,))])
    kernel = model.weights[0]
    before = kernel.data.copy()
    copied = np.array(kernel, copy=True)
    copied[...] = 123.0
    np.testing.assert_array_equal(kernel.data, before)


@pytest.mark.parametrize("other", [0.0, 2.0, [0.0, 2.0, 5.0], "tensor"])
def test_equality_compares_elements_as_pytorch_does(other):
    values = np.array([0.0, 2.0, 3.0], np.float32)
    t = Tensor(values)
    if isinstance(other, str):
        other, other_torch = Tensor([0.0, 2.0, 5.0]), torch.tensor([0.0, 2.0, 5.0])
    else:
        other_torch = torch.tensor(other)
    equal, not_equal = t == other, t != other
    assert isinstance(equal, np.ndarray) and equal.dtype == np.bool_  # a bool array, as striate's < and >
    np.testing.assert_array_equal(equal, (torch.from_numpy(values) == other_torch).numpy())
    np.testing.assert_array_equal(not_equal, (torch.from_numpy(values) != other_torch).numpy())


def test_tensors_are_hashed_by_identity_so_equal_values_are_distinct_keys():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    lookup = {a: "a", b: "b"}
    assert lookup[a] == "a" and lookup[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)


def test_a_model_with_two_equal_weights_keeps_both():
    """Two layers whose weights hold the same values (zeros) stay distinct weights and get separate updates."""
    model = striate.Sequential([striate.layers.Dense(2, kernel_initializer="zeros", input_shape=(2,)),
                                striate.layers.Dense(2, kernel_initializer="zeros")])
    assert len(model.weights) == 4 and len({id(w) for w in model.weights}) == 4
