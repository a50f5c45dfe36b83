"""The dense (fully connected) primitive: a Dense layer's product, bias and activation in one op.

    x (..., K), W (K, U), b (U,) -> y (..., U):   y = act(x W + b)        over the last axis of x
    backward:   dz = act'(y) dy     dx = dz W^T     dW = x^T dz     db = dz summed over all but the last axis

with x and dz taken as rows (M, K) and (M, U), M the product of the leading axes. The activation is None or one
whose gradient is a function of its output (relu, tanh, sigmoid: `IN_PLACE_ACTIVATIONS`); bias and activation are
applied in place to the fresh product (`striate.ops.bias_activation`, as the convolution applies them), so a
Dense layer is one op where matmul, add and the activation were three: two output-sized arrays and two passes
fewer, and, at batch 1, where each op costs more in Python than in arithmetic, two ops' bookkeeping fewer.
"""

import math

from striate.algorithms import chunking
from striate.core.function import Function
from striate.ops.activations import IN_PLACE_ACTIVATIONS
from striate.ops.bias_activation import add_bias_and_activate, through_activation_and_bias


class Dense(Function):
    def forward(self, x, kernel, *bias, activation):
        self.x_shape, self.kernel = x.shape, kernel
        self.rows = x.reshape(-1, x.shape[-1])
        z = chunking.matmul(self.rows, kernel)
        # (N, positions, U): the batch first, as the in-place helpers cut it into chunks of images
        self.batch_shape = (x.shape[0] if x.ndim > 1 else 1, math.prod(x.shape[1:-1]), z.shape[-1])
        y = add_bias_and_activate(z.reshape(self.batch_shape), bias[0] if bias else None, activation)
        self.activation, self.result = activation, (y if activation is not None else None)
        return y.reshape(*x.shape[:-1], kernel.shape[-1])

    def backward(self, grad):
        grad_z, grad_bias = through_activation_and_bias(self, grad.reshape(self.batch_shape))
        rows = grad_z.reshape(-1, grad_z.shape[-1])
        grad_x = chunking.matmul(rows, self.kernel.T).reshape(self.x_shape) if self.needs_input_grad[0] else None
        grad_kernel = chunking.matmul(self.rows.T, rows) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_kernel
        return grad_x, grad_kernel, grad_bias


def dense(x, kernel, bias=None, activation=None):
    """activation(x @ kernel + bias) over the last axis of x (..., K), kernel (K, U), bias (U,) or None, as one op;
    activation None or a name of `IN_PLACE_ACTIVATIONS` ("relu", "tanh", "sigmoid")."""
    if activation is not None and activation not in IN_PLACE_ACTIVATIONS:
        raise ValueError(f"dense: activation {activation!r} cannot be fused; expected None or one of "
                         f"{sorted(IN_PLACE_ACTIVATIONS)}")
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return Dense.apply(*inputs, activation=activation)
