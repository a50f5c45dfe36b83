"""Depthwise convolution (one input channel per group): the lectures' loop, compiled, no GEMM.

Same signature and result as `striate.algorithms.direct`, for grouped kernels with one input channel per
group (Cg = 1: depthwise, as MobileNet's 3x3 layers, with any depth multiplier m = C_out / C_in), rank 1 to
3, any strides and dilation. A matrix product would multiply 1 x m matrices, so the three passes are the
loops of `striate.algorithms.depthwise_loops`:

    forward:         y[..., c*m + j]   = sum over window cells k of x[cell k][..., c] * w[k, c*m + j]
    input gradient:  dx[cell k][..., c] += sum over j of dy[..., c*m + j] * w[k, c*m + j]
    kernel gradient: dw[k, c*m + j]     = sum over images and positions of x[cell k][..., c] * dy[..., c*m + j]

Unlike the other algorithms it also takes the zero padding itself (`padding`: one (before, after) pair per
spatial axis, `PADS_WITH_ZEROS`): x and the input gradient are then the unpadded arrays, and the loops treat
cells outside x as zeros, so no padded copy of the activation is ever made. With stride 1 the input gradient is
a forward pass too: the output gradient correlated with the flipped kernel, padded by d(k - 1) - before.

With a depth multiplier m > 1 every input channel is first repeated m times (channel c*m + j reads input
channel c), which makes the case an m = 1 one; the input gradient of the repeats is summed back. The batch
runs in chunks on striate's threads (`striate.algorithms.chunking`); the loops release the GIL.
"""

import math

import numpy as np

from striate.algorithms import depthwise_loops
from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order
from striate.algorithms.windows import three_per_axis, three_spatial_axes, windows_output_shape

CHUNK_BYTES = 2 * 2**20
PADS_WITH_ZEROS = True  # the three functions take `padding` (see the module's docstring)


def check_case(kernel_shape, groups, name="depthwise"):
    """Raise ValueError unless each group reads one input channel."""
    if kernel_shape[-2] != 1:
        raise ValueError(f"{name} needs one input channel per group (groups == C_in); received a kernel of "
                         f"shape {tuple(kernel_shape)} with groups={groups}, {kernel_shape[-2]} channels per group")


def _repeated(x, multiplier):
    """x (N, *spatial, C) with every channel repeated `multiplier` times: channel c*m + j is input channel c."""
    return x if multiplier == 1 else np.repeat(x, multiplier, axis=-1)


def _weights(kernel, dtype):
    """kernel (*k, 1, C*m) as the loops' (k_d, k_h, k_w, C*m)."""
    rank = kernel.ndim - 2
    shape = (*(1,) * (3 - rank), *kernel.shape[:rank], kernel.shape[-1])
    return np.ascontiguousarray(kernel, dtype=dtype).reshape(shape)


def _padding(padding, rank):
    """(before, after) per spatial axis, zeros when `padding` is None."""
    return ((0, 0),) * rank if padding is None else tuple(tuple(pair) for pair in padding)


def _offsets(padding):
    """The loops' offsets: the padding before each of the three spatial axes."""
    return three_per_axis(tuple(before for before, _ in padding), fill=0)


def _chunks(shape, itemsize):
    return batch_chunks(shape[0], math.prod(shape[1:]) * itemsize * 2, budget=CHUNK_BYTES)


def conv_forward(x, kernel, strides, dilation, groups, padding=None):
    """x (N, *spatial, C), zero-padded by `padding`, kernel (*k, 1, C * m) -> y (N, *out, C * m)."""
    check_case(kernel.shape, groups)
    rank = kernel.ndim - 2
    padding = _padding(padding, rank)
    dtype = np.result_type(x, kernel)
    inputs = np.ascontiguousarray(_repeated(x, kernel.shape[-1] // x.shape[-1]), dtype=dtype)
    padded = tuple(n + before + after for n, (before, after) in zip(x.shape[1:-1], padding))
    out_shape = windows_output_shape(padded, kernel.shape[:rank], strides, dilation)
    y = np.empty((x.shape[0], *out_shape, kernel.shape[-1]), dtype=dtype)
    _forward(inputs, _weights(kernel, dtype), y, strides, dilation, _offsets(padding))
    return y


def _forward(inputs, weights, y, strides, dilation, offsets):
    """The forward loop over chunks of images on striate's threads: y (N, *out, C) is written in place."""
    inputs_3d, y_3d = inputs.reshape(three_spatial_axes(inputs.shape)), y.reshape(three_spatial_axes(y.shape))
    strides, dilation = three_per_axis(strides), three_per_axis(dilation)

    def forward_chunk(images):
        depthwise_loops.forward(inputs_3d[images], weights, y_3d[images], strides, dilation, offsets)

    split_batch(forward_chunk, _chunks(y.shape, y.dtype.itemsize), work=y.size * math.prod(weights.shape[:3]))


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, padding=None):
    """dLoss/dx (input_shape, the unpadded shape when `padding` is given): for each input cell, the output
    gradients of the cells that read it times the weights they read it with."""
    check_case(kernel.shape, groups)
    rank = kernel.ndim - 2
    padding = _padding(padding, rank)
    dtype = np.result_type(grad_output, kernel)
    multiplier = kernel.shape[-1] // input_shape[-1]
    grad = np.ascontiguousarray(grad_output, dtype=dtype)
    weights = _weights(kernel, dtype)
    grad_input_shape = (*input_shape[:-1], kernel.shape[-1])
    grad_input = np.empty(grad_input_shape, dtype=dtype)  # every cell written below
    if all(s == 1 for s in strides):
        # dx[a] = sum over k of dy[a + before - k d] w[k]: dy correlated with the flipped kernel
        flipped = np.ascontiguousarray(weights[::-1, ::-1, ::-1])
        reach = [d * (k - 1) - before for d, k, (before, _) in zip(dilation, kernel.shape[:rank], padding)]
        _forward(grad, flipped, grad_input, strides, dilation, three_per_axis(tuple(reach), fill=0))
    else:
        _input_gradient(grad, weights, grad_input, strides, dilation, _offsets(padding))
    if multiplier == 1:
        return grad_input
    return grad_input.reshape(*input_shape, multiplier).sum(axis=-1)


def _input_gradient(grad, weights, grad_input, strides, dilation, offsets):
    """The strided input gradient's loop (`depthwise_loops.input_gradient`, which writes every cell of grad_input)
    over chunks of images on striate's threads."""
    grad_3d = grad.reshape(three_spatial_axes(grad.shape))
    grad_input_3d = grad_input.reshape(three_spatial_axes(grad_input.shape))
    strides, dilation = three_per_axis(strides), three_per_axis(dilation)

    def input_gradient_chunk(images):
        depthwise_loops.input_gradient(grad_3d[images], weights, grad_input_3d[images], strides, dilation, offsets)

    work = grad.size * math.prod(weights.shape[:3])
    split_batch(input_gradient_chunk, _chunks(grad.shape, grad.dtype.itemsize), work)


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, padding=None):
    """dLoss/dkernel (*k, 1, C * m): per window cell, the (zero-padded) input times the output gradient, summed."""
    check_case(kernel_shape, groups)
    rank = len(kernel_shape) - 2
    padding = _padding(padding, rank)
    dtype = np.result_type(x, grad_output)
    inputs = np.ascontiguousarray(_repeated(x, kernel_shape[-1] // x.shape[-1]), dtype=dtype)
    grad = np.ascontiguousarray(grad_output, dtype=dtype)
    inputs_3d, grad_3d = inputs.reshape(three_spatial_axes(inputs.shape)), grad.reshape(three_spatial_axes(grad.shape))
    loop_shape = (*(1,) * (3 - rank), *kernel_shape[:rank], kernel_shape[-1])
    offsets = _offsets(padding)
    strides, dilation = three_per_axis(strides), three_per_axis(dilation)

    def kernel_gradient_chunk(images):
        grad_kernel = np.zeros(loop_shape, dtype=dtype)
        depthwise_loops.add_kernel_gradient(inputs_3d[images], grad_3d[images], grad_kernel, strides, dilation,
                                            offsets)
        return grad_kernel

    work = grad.size * math.prod(loop_shape[:3])
    parts = split_batch(kernel_gradient_chunk, _chunks(grad.shape, dtype.itemsize), work)
    return sum_in_order(parts).reshape(kernel_shape)
