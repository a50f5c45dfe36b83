"""The Tensor's contract: dtypes, NumPy interoperability, graph building and gradient accumulation."""

import weakref

import numpy as np
import pytest

from striate import Tensor, no_grad
from striate.core.function import Function


def test_python_numbers_and_integer_arrays_become_float32():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32


def test_float16_arrays_become_float32_and_longer_floats_float64_unless_asked_for():
    values = np.array([0.1, 1.5, -65504.0], dtype=np.float16)
    tensor = Tensor(values)
    assert tensor.dtype == np.float32
    np.testing.assert_array_equal(tensor.data, values.astype(np.float32))  # exact: float16 widens without rounding
    assert (Tensor(np.ones(2, np.float32)) + values[:2]).dtype == np.float32
    assert Tensor(values, dtype=np.float16).dtype == np.float16
    if np.dtype(np.longdouble).itemsize > 8:  # x86's 80-bit float: kept as float64, not cut to float32
        assert Tensor(np.array([1 / 3], dtype=np.longdouble)).dtype == np.float64


def test_float64_arrays_keep_their_precision():
    assert Tensor(np.zeros(3)).dtype == np.float64


def test_python_scalar_does_not_change_the_tensors_precision():
    assert (Tensor(np.ones(2)) * 0.1).dtype == np.float64
    assert (Tensor(np.ones(2, np.float32)) * 0.1).dtype == np.float32
    # 0.1 is used at full float64 precision, not rounded to float32 first
    assert (Tensor(np.ones(1)) * 0.1).item() == 0.1


def test_numpy_sees_the_data_without_copy():
    data = np.arange(6.0).reshape(2, 3)
    t = Tensor(data)
    assert np.asarray(t) is data and t.numpy() is data
    assert t.shape == (2, 3)


def test_array_on_the_left_calls_the_tensors_reflected_operator():
    x = Tensor(np.ones(3), requires_grad=True)
    y = np.array([1.0, 2.0, 3.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


def test_gradient_accumulates_over_two_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_a_tensor_used_twice_receives_both_gradients():
    x = Tensor(np.array([2.0]), requires_grad=True)
    (x * x + x).backward()          # d/dx (x^2 + x) = 2x + 1 = 5
    np.testing.assert_array_equal(x.grad, [5.0])


def test_no_grad_builds_no_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad
    assert (x * 2).requires_grad


def test_backward_through_a_deep_chain_does_not_recurse():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_backward_of_a_constant_is_an_error():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        Tensor(np.ones(1)).backward()


def test_comparisons_give_boolean_arrays():
    np.testing.assert_array_equal(Tensor([1.0, 3.0]) > 2, [False, True])


class _DoubleRecordingItsGradient(Function):
    """y = 2x, whose backward remembers (weakly) the gradient array it returns."""

    returned = []

    def forward(self, x):
        return 2 * x

    def backward(self, grad):
        grad_x = 2 * grad
        self.returned.append(weakref.ref(grad_x))
        return (grad_x,)


def test_a_fresh_input_gradient_becomes_the_leafs_grad_without_a_copy():
    x = Tensor(np.ones((4, 5), np.float32), requires_grad=True)
    _DoubleRecordingItsGradient.apply(x).backward(np.ones((4, 5), np.float32))
    assert x.grad is _DoubleRecordingItsGradient.returned[-1]()
    np.testing.assert_array_equal(x.grad, 2)


class _DoubleReshapedRecordingItsGradient(Function):
    """y = 2x, whose backward returns (and weakly remembers) a fresh gradient array seen through a reshape; with
    keep=True it also keeps the array itself, as an op that needs it later would."""

    returned = []

    def forward(self, x, keep=False):
        self.keep = keep
        return 2 * x

    def backward(self, grad):
        grad_x = 2 * grad.reshape(-1)
        self.returned.append(weakref.ref(grad_x))
        if self.keep:
            self.kept = grad_x
        return (grad_x.reshape(grad.shape),)


def test_a_fresh_input_gradient_seen_through_a_reshape_becomes_the_leafs_grad_without_a_copy():
    x = Tensor(np.ones((4, 5), np.float32), requires_grad=True)
    _DoubleReshapedRecordingItsGradient.apply(x).backward(np.ones((4, 5), np.float32))
    returned = _DoubleReshapedRecordingItsGradient.returned[-1]()
    assert returned is not None and x.grad.base is returned
    np.testing.assert_array_equal(x.grad, 2)


def test_a_reshaped_gradient_whose_array_an_op_keeps_is_copied():
    x = Tensor(np.ones((4, 5), np.float32), requires_grad=True)
    y = _DoubleReshapedRecordingItsGradient.apply(x, keep=True)
    y.backward(np.ones((4, 5), np.float32))
    kept = _DoubleReshapedRecordingItsGradient.returned[-1]()
    assert kept is not None and not np.shares_memory(x.grad, kept)


def test_a_leafs_grad_never_shares_memory_with_the_upstream_gradient_seen_through_a_reshape():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    upstream = np.ones(6, np.float32)
    x.reshape(6).backward(upstream)
    x.grad += 1
    np.testing.assert_array_equal(upstream, 1)


def test_a_leafs_grad_never_shares_memory_with_the_upstream_gradient():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    upstream = np.ones(3, np.float32)
    x.backward(upstream)
    x.grad += 1
    np.testing.assert_array_equal(upstream, 1)


def test_one_gradient_given_to_two_leaves_is_copied_for_one_of_them():
    a, b = Tensor(np.ones(3, np.float32), requires_grad=True), Tensor(np.ones(3, np.float32), requires_grad=True)
    (a + b).backward(np.ones(3, np.float32))  # add passes the same gradient to both inputs
    a.grad += 1
    np.testing.assert_array_equal(b.grad, 1)
