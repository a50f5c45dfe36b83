"""The convolution primitives: convolution and its adjoint, the transposed convolution.

Both take a channels-last input and delegate the arithmetic to an algorithm of `striate.algorithms` (direct,
im2col, winograd, fft, ...), which provides the forward product and the two gradients. With A the linear map
x -> conv(x, w):

    Convolution:            y = A x (+ b)   dx = A^T dy            dw = kernel_gradient(x, dy)   db = sum of dy
    TransposedConvolution:  y = A^T x       dx = A dy              dw = kernel_gradient(dy, x)

so a transposed convolution is exactly the input gradient of the matching convolution.

The convolution also takes the rest of a convolution layer, fused: its bias b (one value per output
channel, an optional third input) and an activation whose gradient is a function of its output (relu, tanh,
sigmoid: `IN_PLACE_ACTIVATIONS`). Both are applied in place to the fresh output, y = act(A x + b), which saves
two passes and two activation-sized arrays over separate ops; backward first turns dy into
d(A x + b) = act'(y) dy, then proceeds as above with db = that gradient summed over all but the channels
(`striate.ops.bias_activation`, shared with the dense op).

And it takes the zero padding (one (before, after) pair per spatial axis; other padding modes are the `pad`
op). An algorithm that pads with zeros itself (`PADS_WITH_ZEROS`: im2col, winograd, depthwise, vectorized) is
handed the unpadded x and the padding, so no padded copy of x is made or kept; so is "auto", which pads for a
chosen algorithm that does not; for the others the op pads x with zeros before the algorithm runs and cuts the
padding cells off the input gradient. The transposed convolution takes the same padding, the one of its
matching convolution: its output is the inside of A^T x, the padding's cells dropped (by the algorithm, or cut
off by the op, which then pads its output gradient back with zeros).
"""

import functools

import numpy as np

from striate.algorithms import Case, algorithm_module
from striate.algorithms.windows import inside, padded_shape, zero_padded
from striate.core.function import Function
from striate.ops.activations import IN_PLACE_ACTIVATIONS
from striate.ops.bias_activation import add_bias_and_activate, through_activation_and_bias


class Convolution(Function):
    def forward(self, x, kernel, *bias, padding, strides, dilation, groups, algorithm, activation):
        self.kernel, self.arguments = kernel, dict(strides=strides, dilation=dilation, groups=groups)
        self.algorithm, self.inside = _algorithm_taking_padding(self, algorithm, x.shape, kernel.shape, padding)
        if self.inside is not None:
            x = zero_padded(x, padding)
        self.x = x
        y = _forward_adding_bias_and_relu(self.algorithm, x, kernel, bias[0] if bias else None, activation,
                                          self.arguments)
        if y is None:
            y = self.algorithm.conv_forward(x, kernel, **self.arguments)
            y = add_bias_and_activate(y, bias[0] if bias else None, activation)
        self.activation, self.result = activation, (y if activation is not None else None)
        return y

    def backward(self, grad):
        grad, grad_bias = through_activation_and_bias(self, grad)
        grad_x = grad_kernel = None
        both = getattr(self.algorithm, "conv_gradients", None)
        if self.needs_input_grad[0] and self.needs_input_grad[1] and both is not None:
            grad_x, grad_kernel = both(self.x, grad, self.kernel, **self.arguments)
        else:
            if self.needs_input_grad[0]:
                grad_x = self.algorithm.conv_input_gradient(grad, self.kernel, self.x.shape, **self.arguments)
            if self.needs_input_grad[1]:
                grad_kernel = self.algorithm.conv_kernel_gradient(self.x, grad, self.kernel.shape, **self.arguments)
        if grad_x is not None and self.inside is not None:
            grad_x = grad_x[self.inside]
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_kernel
        return grad_x, grad_kernel, grad_bias


def _algorithm_taking_padding(op, algorithm, shape, kernel_shape, padding):
    """(algorithm module, inside) for a convolution whose input of `shape` is zero-padded by `padding` (one (before,
    after) pair per spatial axis): a module that pads with zeros itself gets `padding=` in op.arguments, and inside
    is None; for another, inside is the cells of the padded input that are the unpadded one's (the caller pads, or
    crops, with it)."""
    arguments = op.arguments
    module, takes_padding, inside_cells = _padding_plan(algorithm, tuple(shape), tuple(kernel_shape), padding,
                                                        arguments["strides"], arguments["dilation"],
                                                        arguments["groups"])
    if takes_padding:
        arguments["padding"] = padding
    return module, inside_cells


@functools.lru_cache(maxsize=1024)
def _padding_plan(algorithm, shape, kernel_shape, padding, strides, dilation, groups):
    """(module, whether it takes the padding, inside or None): `_algorithm_taking_padding`'s answer, a function of
    the geometry only, kept per geometry (a layer asks the same at every call)."""
    padded = padded_shape(shape, padding)
    module = algorithm_module(algorithm, Case(padded, kernel_shape, strides, dilation, groups))
    if padded == shape:
        return module, False, None
    if getattr(module, "PADS_WITH_ZEROS", False):
        return module, True, None
    return module, False, inside(padding, shape[1:-1])


def _forward_adding_bias_and_relu(algorithm, x, kernel, bias, activation, arguments):
    """relu(conv(x) + bias) (each optional) from the algorithm module that runs the forward, which adds them as it
    stores each output (`ADDS_BIAS_AND_RELU`: one pass over y less), or None where that module is not known yet
    ("auto" before its measured choice), does not add them, or the bias would widen y's dtype."""
    if activation not in (None, "relu") or (bias is None and activation is None):
        return None
    module = algorithm.forward_module() if hasattr(algorithm, "forward_module") else algorithm
    if not getattr(module, "ADDS_BIAS_AND_RELU", False):
        return None
    if bias is not None and not x.dtype == kernel.dtype == bias.dtype and (
            np.result_type(x, kernel, bias) != np.result_type(x, kernel)):
        return None
    return module.conv_forward(x, kernel, **arguments, bias=bias, relu=activation == "relu")


class TransposedConvolution(Function):
    """y = act(A^T x + b), cut to `output_shape`: x (N, *out, C_out_of_A) -> y (N, *spatial, C_in_of_A), where A is
    the convolution of an input of `output_shape` zero-padded by `padding` (so y is the inside of the adjoint's
    padded result, the padding's cells dropped), the bias and the activation fused in place as in Convolution."""

    def forward(self, x, kernel, *bias, output_shape, padding, strides, dilation, groups, algorithm, activation):
        self.x, self.kernel, self.padding = x, kernel, padding
        self.arguments = dict(strides=strides, dilation=dilation, groups=groups)
        self.algorithm, self.inside = _algorithm_taking_padding(self, algorithm, output_shape, kernel.shape, padding)
        if self.inside is None:
            y = self.algorithm.conv_input_gradient(x, kernel, output_shape, **self.arguments)
        else:
            y = self.algorithm.conv_input_gradient(x, kernel, padded_shape(output_shape, padding),
                                                   **self.arguments)[self.inside]
        y = np.ascontiguousarray(y)  # the bias and activation go in place (a cropped gradient is a view)
        y = add_bias_and_activate(y, bias[0] if bias else None, activation)
        self.activation, self.result = activation, (y if activation is not None else None)
        return y

    def backward(self, grad):
        grad, grad_bias = through_activation_and_bias(self, grad)
        if self.inside is not None:
            grad = zero_padded(grad, self.padding)
        grad_x = grad_kernel = None
        if self.needs_input_grad[0]:
            grad_x = self.algorithm.conv_forward(grad, self.kernel, **self.arguments)
        if self.needs_input_grad[1]:
            grad_kernel = self.algorithm.conv_kernel_gradient(grad, self.x, self.kernel.shape, **self.arguments)
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_kernel
        return grad_x, grad_kernel, grad_bias


def convolution(x, kernel, strides, dilation, groups=1, algorithm="auto", bias=None, activation=None, padding=None):
    """activation(cross-correlation of x (N, *spatial, C_in), zero-padded, with kernel (*k, C_in/groups, C_out) + bias).

    padding: None (none) or one (before, after) pair of zeros per spatial axis; bias: None or (C_out,);
    activation: None or a name of `IN_PLACE_ACTIVATIONS` ("relu", "tanh", "sigmoid").
    """
    return _apply(Convolution, "convolution", x, kernel, bias, activation, padding, strides, dilation, groups=groups,
                  algorithm=algorithm)


def transposed_convolution(x, kernel, output_shape, strides, dilation, groups=1, algorithm="auto", bias=None,
                           activation=None, padding=None):
    """activation(the adjoint of `convolution` with the same kernel, zero padding `padding` + bias), producing
    `output_shape` (the unpadded input shape of that convolution: the padding's cells are dropped); padding None
    (none) or one (before, after) pair per spatial axis, bias None or (C,), activation None or a name of
    `IN_PLACE_ACTIVATIONS`."""
    return _apply(TransposedConvolution, "transposed_convolution", x, kernel, bias, activation, padding, strides,
                  dilation, output_shape=tuple(output_shape), groups=groups, algorithm=algorithm)


def _apply(function, op, x, kernel, bias, activation, padding, strides, dilation, **options):
    """function.apply(x, kernel[, bias]) with the padding (None: none), strides and dilation as tuples, after
    refusing, naming `op`, an activation the op cannot apply in place."""
    if activation is not None and activation not in IN_PLACE_ACTIVATIONS:
        raise ValueError(f"{op}: activation {activation!r} cannot be fused; expected None or one of "
                         f"{sorted(IN_PLACE_ACTIVATIONS)}")
    if padding is None:
        padding = ((0, 0),) * (len(x.shape) - 2)
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return function.apply(*inputs, padding=tuple(tuple(pair) for pair in padding), strides=tuple(strides),
                          dilation=tuple(dilation), activation=activation, **options)
