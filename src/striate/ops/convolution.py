"""The convolution primitives: convolution and its adjoint, the transposed convolution.

Both take an already padded channels-last input (padding is the `pad` op) and delegate the arithmetic to
an algorithm of `striate.algorithms` (direct, im2col, winograd, fft, ...), which provides the forward
product and the two gradients. With A the linear map x -> conv(x, w):

    Convolution:            y = A x       dx = A^T dy              dw = kernel_gradient(x, dy)
    TransposedConvolution:  y = A^T x     dx = A dy                dw = kernel_gradient(dy, x)

so a transposed convolution is exactly the input gradient of the matching convolution.
"""

from striate.algorithms import algorithm_module
from striate.core.function import Function


class Convolution(Function):
    def forward(self, x, kernel, strides, dilation, groups, algorithm):
        self.x, self.kernel = x, kernel
        self.arguments = dict(strides=strides, dilation=dilation, groups=groups)
        self.algorithm = algorithm_module(algorithm)
        return self.algorithm.conv_forward(x, kernel, **self.arguments)

    def backward(self, grad):
        grad_x = grad_kernel = None
        if self.needs_input_grad[0]:
            grad_x = self.algorithm.conv_input_gradient(grad, self.kernel, self.x.shape, **self.arguments)
        if self.needs_input_grad[1]:
            grad_kernel = self.algorithm.conv_kernel_gradient(self.x, grad, self.kernel.shape, **self.arguments)
        return grad_x, grad_kernel


class TransposedConvolution(Function):
    """y = A^T x: x (N, *out, C_out_of_A) -> y of `output_shape` (N, *padded, C_in_of_A)."""

    def forward(self, x, kernel, output_shape, strides, dilation, groups, algorithm):
        self.x, self.kernel = x, kernel
        self.arguments = dict(strides=strides, dilation=dilation, groups=groups)
        self.algorithm = algorithm_module(algorithm)
        return self.algorithm.conv_input_gradient(x, kernel, output_shape, **self.arguments)

    def backward(self, grad):
        grad_x = grad_kernel = None
        if self.needs_input_grad[0]:
            grad_x = self.algorithm.conv_forward(grad, self.kernel, **self.arguments)
        if self.needs_input_grad[1]:
            grad_kernel = self.algorithm.conv_kernel_gradient(grad, self.x, self.kernel.shape, **self.arguments)
        return grad_x, grad_kernel


def convolution(x, kernel, strides, dilation, groups=1, algorithm="auto"):
    """Cross-correlate a padded x (N, *spatial, C_in) with kernel (*k, C_in/groups, C_out)."""
    return Convolution.apply(x, kernel, strides=tuple(strides), dilation=tuple(dilation), groups=groups,
                             algorithm=algorithm)


def transposed_convolution(x, kernel, output_shape, strides, dilation, groups=1, algorithm="auto"):
    """The adjoint of `convolution` with the same kernel, producing `output_shape` (the padded input shape)."""
    return TransposedConvolution.apply(x, kernel, output_shape=tuple(output_shape), strides=tuple(strides),
                                       dilation=tuple(dilation), groups=groups, algorithm=algorithm)
