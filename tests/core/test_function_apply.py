"""Function.apply: a graph only when a gradient can be asked for; under no_grad the op and all it kept are gone."""

import gc
import weakref

import numpy as np

from striate import Tensor
from striate.core.function import Function
from striate.core.runtime import no_grad


class Scale(Function):
    """a * b, noting every instance made (by weak reference) and keeping its inputs, as a real op's backward would."""

    made: list = []

    def forward(self, a, b):
        Scale.made.append(weakref.ref(self))
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        return grad * self.b, grad * self.a


def test_under_no_grad_nothing_is_recorded_and_the_op_is_freed_at_once():
    x, w = Tensor([1.0, 2.0, 3.0]), Tensor([2.0, 2.0, 2.0], requires_grad=True)
    Scale.made.clear()
    gc.disable()  # freed by its reference count alone, not by a later collection
    try:
        with no_grad():
            y = Scale.apply(x, w)
        assert Scale.made[0]() is None
    finally:
        gc.enable()
    assert not y.requires_grad and y.grad_fn is None and y.grad is None
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 6.0])


def test_with_grad_the_result_links_to_the_op_and_its_inputs():
    x, w = Tensor([1.0, 2.0, 3.0]), Tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = Scale.apply(x, w)
    assert y.requires_grad and isinstance(y.grad_fn, Scale)
    assert y.grad_fn.inputs[0] is x and y.grad_fn.inputs[1] is w
    assert y.grad_fn.needs_input_grad == (False, True)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0, 3.0])  # d(sum x w)/dw = x
    assert x.grad is None


def test_constants_alone_give_a_constant_even_with_grad_enabled():
    y = Scale.apply(Tensor([1.0]), Tensor([3.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_the_result_holds_the_forward_array_itself_and_a_numpy_scalar_as_a_0d_array():
    class Same(Function):
        def forward(self, a):
            return a

    class Total(Function):
        def forward(self, a):
            return a.sum()  # a NumPy scalar, not an array

    x = Tensor(np.arange(4, dtype=np.float64))
    assert Same.apply(x).data is x.data
    total = Total.apply(x)
    assert type(total.data) is np.ndarray and total.shape == () and total.dtype == np.float64
    assert total.item() == 6.0


def test_python_numbers_take_the_tensor_operands_dtype():
    x64 = Tensor(np.ones(2, np.float64))
    assert Scale.apply(x64, 0.1).dtype == np.float64
    assert Scale.apply(Tensor(np.ones(2, np.float32)), 0.1).dtype == np.float32
