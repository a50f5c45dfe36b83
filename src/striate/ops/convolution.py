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
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from striate.algorithms import Case, algorithm_module, measured
from striate.algorithms.windows import inside, padded_shape, zero_padded
from striate.core.function import Function
from striate.core.runtime import are_deterministic_algorithms_enabled
from striate.ops.activations import IN_PLACE_ACTIVATIONS
from striate.ops.bias_activation import add_bias_and_activate, through_activation_and_bias


class Convolution(Function):
    def forward(self, x, kernel, *bias, padding, strides, dilation, groups, algorithm, activation):
        route = _route(algorithm, x, kernel, bias, padding, strides, dilation, groups, activation)
        self.kernel, self.algorithm, self.inside = kernel, route.algorithm, route.inside
        self.arguments = route.arguments
        self.x = x if route.inside is None else zero_padded(x, padding)
        y = route.forward(self.x, kernel, bias[0] if bias else None)
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


@functools.lru_cache(maxsize=1024)
def _padding_plan(algorithm, shape, kernel_shape, padding, strides, dilation, groups):
    """(module, whether it takes the padding, inside or None) for a convolution whose input of `shape` is
    zero-padded by `padding`: a module that pads with zeros itself takes `padding=`, and inside is None; for
    another, inside is the cells of the padded input that are the unpadded one's (the op pads, or crops, with it).
    A function of the geometry only, kept per geometry (a layer asks the same at every call)."""
    padded = padded_shape(shape, padding)
    module = algorithm_module(algorithm, Case(padded, kernel_shape, strides, dilation, groups))
    if padded == shape:
        return module, False, None
    if getattr(module, "PADS_WITH_ZEROS", False):
        return module, True, None
    return module, False, inside(padding, shape[1:-1])


class _Route(NamedTuple):
    """How the convolution of one case runs (`_route`)."""

    algorithm: Any  # what runs the passes: a module, or "auto"'s per-pass `Auto` for the case
    inside: tuple | None  # where the op pads x itself (for an algorithm that cannot): the unpadded cells; else None
    arguments: dict  # the algorithm's keywords: strides, dilation, groups, and padding where it pads (read only)
    forward: Callable  # (x as the algorithm takes it, kernel, bias or None) -> activation(conv(x) + bias); a
    # transposed convolution's: (x, kernel) -> its output before the bias (`_transposed_route`)


_routes: dict = {}  # decided routes by case; emptied when it holds MAX_ROUTES
MAX_ROUTES = 4096


def _route(algorithm, x, kernel, bias, padding, strides, dilation, groups, activation):
    """The `_Route` of a convolution, a function of the shapes, dtypes and arguments only: the algorithm module and
    whether it takes the padding (`_padding_plan`), and a forward that adds the bias and relu inside the loop of
    the module that runs it where that module does so (`ADDS_BIAS_AND_RELU`: one pass over y less) and the bias
    would not widen y's dtype, else after it (`add_bias_and_activate`). Kept once decided ("auto" decides at its
    measured choice; until then each call asks it), under a key that holds what changes the answer (deterministic
    mode, a changed record of choices): a layer's later calls skip these steps."""
    widens = bool(bias) and not x.dtype == kernel.dtype == bias[0].dtype and (
        np.result_type(x, kernel, bias[0]) != np.result_type(x, kernel))
    key = (algorithm, x.shape, kernel.shape, padding, strides, dilation, groups, activation, bool(bias), widens,
           are_deterministic_algorithms_enabled(), measured.generation())
    route = _routes.get(key)
    if route is not None:
        return route
    module, takes_padding, inside_cells = _padding_plan(algorithm, x.shape, kernel.shape, padding, strides,
                                                        dilation, groups)
    arguments = dict(strides=strides, dilation=dilation, groups=groups)
    if takes_padding:
        arguments["padding"] = padding
    runs_forward = module.forward_module() if hasattr(module, "forward_module") else module
    if (getattr(runs_forward, "ADDS_BIAS_AND_RELU", False) and activation in (None, "relu")
            and (bias or activation) and not widens):
        convolve, relu = runs_forward.conv_forward, activation == "relu"

        def forward(x, kernel, bias):
            return convolve(x, kernel, **arguments, bias=bias, relu=relu)
    else:
        def forward(x, kernel, bias):
            return add_bias_and_activate(module.conv_forward(x, kernel, **arguments), bias, activation)
    return _kept(key, _Route(module, inside_cells, arguments, forward), runs_forward is not None)


def _transposed_route(algorithm, output_shape, kernel_shape, padding, strides, dilation, groups):
    """The `_Route` of a transposed convolution producing `output_shape`: its forward (x, kernel) -> the input
    gradient of the matching convolution, cut to `output_shape` (a view where cropped), by the module "auto"
    decided for that pass (`Auto.decided_input_gradient`) once it has, kept as `_route`'s."""
    key = ("transposed", algorithm, output_shape, kernel_shape, padding, strides, dilation, groups,
           are_deterministic_algorithms_enabled(), measured.generation())
    route = _routes.get(key)
    if route is not None:
        return route
    module, takes_padding, inside_cells = _padding_plan(algorithm, output_shape, kernel_shape, padding, strides,
                                                        dilation, groups)
    arguments = dict(strides=strides, dilation=dilation, groups=groups)
    if takes_padding:
        arguments["padding"] = padding
    decided = module.decided_input_gradient() if hasattr(module, "decided_input_gradient") else None
    if decided is not None:
        def forward(x, kernel):
            return decided(x, kernel, output_shape, strides, dilation, groups, padding)
    elif inside_cells is None:
        def forward(x, kernel):
            return module.conv_input_gradient(x, kernel, output_shape, **arguments)
    else:
        padded = padded_shape(output_shape, padding)

        def forward(x, kernel):
            return module.conv_input_gradient(x, kernel, padded, **arguments)[inside_cells]
    auto_undecided = hasattr(module, "decided_input_gradient") and decided is None
    return _kept(key, _Route(module, inside_cells, arguments, forward), not auto_undecided)


def _kept(key, route, decided):
    """`route`, kept under `key` when decided ("auto" before its measured choice is not)."""
    if decided:
        if len(_routes) >= MAX_ROUTES:
            _routes.clear()
        _routes[key] = route
    return route


class TransposedConvolution(Function):
    """y = act(A^T x + b), cut to `output_shape`: x (N, *out, C_out_of_A) -> y (N, *spatial, C_in_of_A), where A is
    the convolution of an input of `output_shape` zero-padded by `padding` (so y is the inside of the adjoint's
    padded result, the padding's cells dropped), the bias and the activation fused in place as in Convolution."""

    def forward(self, x, kernel, *bias, output_shape, padding, strides, dilation, groups, algorithm, activation):
        self.x, self.kernel, self.padding = x, kernel, padding
        route = _transposed_route(algorithm, output_shape, kernel.shape, padding, strides, dilation, groups)
        self.algorithm, self.inside, self.arguments = route.algorithm, route.inside, route.arguments
        y = np.ascontiguousarray(route.forward(x, kernel))  # the bias and activation go in place (a crop is a view)
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
