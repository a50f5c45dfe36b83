"""gradient_gate: identity forward, max(grad, 0) backward; after relu it is guided backpropagation."""

import numpy as np

import striate.functional as F
from striate import Tensor
from striate.ops.gradient_gate import gradient_gate


def test_forward_is_the_identity_and_backward_keeps_only_positive_gradients():
    x = Tensor(np.array([[1.5, -2.0], [0.0, 3.0]]), requires_grad=True)
    y = gradient_gate(x)
    np.testing.assert_array_equal(y.numpy(), [[1.5, -2.0], [0.0, 3.0]])
    y.backward(np.array([[-1.0, 2.0], [0.5, -0.25]]))
    np.testing.assert_array_equal(x.grad, [[0.0, 2.0], [0.5, 0.0]])


def test_after_relu_the_gradient_is_grad_times_input_positive_times_grad_positive():
    # worked by hand: x = [2, -1, 3, 0.5], upstream g = [-1, 4, 2, 0]
    # relu passes where x > 0: [1, 0, 1, 1]; gate passes where g > 0: [0, 1, 1, 0] -> [0, 0, 2, 0]
    x = Tensor(np.array([2.0, -1.0, 3.0, 0.5]), requires_grad=True)
    gradient_gate(F.relu(x)).backward(np.array([-1.0, 4.0, 2.0, 0.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 2.0, 0.0])


def test_keeps_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = gradient_gate(x)
    y.backward(np.array([1.0, -1.0, 2.0], dtype=np.float32))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
