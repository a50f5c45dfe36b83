"""Depthwise convolution (one input channel per group) as sums of products over shifted windows, no GEMM.

Same signature and result as `striate.algorithms.direct`, for grouped kernels with one input channel per
group (Cg = 1: depthwise, as MobileNet's 3x3 layers, with any depth multiplier m = C_out / C_in), any rank,
strides and dilation. A matrix product would multiply 1 x m matrices, so instead the forward pass and the
kernel gradient are one sum of products (np.einsum) over the window view of each chunk; so is the input
gradient with stride 1 (the "full" correlation of the zero-padded dy with the flipped kernel); with larger
strides it is one broadcast multiply-add per kernel offset, the lectures' loop run over offsets:

    forward:         y[..., c, j]      += x[window cell k][..., c] * w[k, c, j]
    input gradient:  dx[window cell k] += sum over j of dy[..., c, j] * w[k, c, j]
    kernel gradient: dw[k, c, j]        = sum over images and positions of x[window cell k][..., c] * dy[..., c, j]

The batch runs in cache-sized chunks on two threads (`striate.algorithms.chunking`).
"""

import math

import numpy as np

from striate.algorithms.chunking import batch_chunks, scratch, split_batch
from striate.algorithms.windows import window_view, windows_output_shape

CHUNK_BYTES = 2 * 2**20


def check_case(kernel_shape, groups, name="depthwise"):
    """Raise ValueError unless each group reads one input channel."""
    if kernel_shape[-2] != 1:
        raise ValueError(f"{name} needs one input channel per group (groups == C_in); received a kernel of "
                         f"shape {tuple(kernel_shape)} with groups={groups}, {kernel_shape[-2]} channels per group")


def _cells(offset, out_shape, strides, dilation):
    """The input cells window cell `offset` covers at every output position."""
    return (slice(None), *(slice(o * d, o * d + (n - 1) * s + 1, s)
                           for o, n, s, d in zip(offset, out_shape, strides, dilation)))


def _subscripts(rank, pattern):
    """An einsum pattern with {o} the output axes and {k} the kernel axes of a rank-`rank` convolution."""
    return pattern.format(o="pqr"[:rank], k="ijk"[:rank])


def _chunks(shape, itemsize):
    return batch_chunks(shape[0], math.prod(shape[1:]) * itemsize * 2, budget=CHUNK_BYTES)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, *padded, C), kernel (*k, 1, C * m) -> y (N, *out, C * m)."""
    check_case(kernel.shape, groups)
    rank = kernel.ndim - 2
    kernel_size, channels = kernel.shape[:rank], x.shape[-1]
    multiplier = kernel.shape[-1] // channels
    dtype = np.result_type(x, kernel)
    out_shape = windows_output_shape(x.shape[1:-1], kernel_size, strides, dilation)
    weights = kernel.reshape(-1, channels, multiplier).astype(dtype, copy=False)
    y = np.empty((x.shape[0], *out_shape, channels, multiplier), dtype=dtype)

    windows_to_output = _subscripts(rank, "n{o}{k}c,{k}cm->n{o}cm")

    def forward_chunk(images):
        windows = window_view(x[images], kernel_size, strides, dilation)  # (n, *out, *k, C), no copy
        np.einsum(windows_to_output, windows, weights.reshape(*kernel_size, channels, multiplier), out=y[images])

    split_batch(forward_chunk, _chunks(y.shape, dtype.itemsize), work=y.size * math.prod(kernel_size))
    return y.reshape(x.shape[0], *out_shape, kernel.shape[-1])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, *padded, C): each offset's weighted output gradient added back into its window cells."""
    check_case(kernel.shape, groups)
    rank = kernel.ndim - 2
    kernel_size, channels = kernel.shape[:rank], input_shape[-1]
    multiplier = kernel.shape[-1] // channels
    dtype = np.result_type(grad_output, kernel)
    out_shape = grad_output.shape[1:-1]
    weights = kernel.reshape(-1, channels, multiplier).astype(dtype, copy=False)
    grad = grad_output.reshape(*grad_output.shape[:-1], channels, multiplier)
    if all(s == 1 for s in strides):
        return _full_correlation(grad, weights.reshape(*kernel_size, channels, multiplier), input_shape, dilation)
    grad_input = np.zeros(input_shape, dtype=dtype)

    def input_gradient_chunk(images):
        part, target_chunk = grad[images], grad_input[images]
        product = scratch("depthwise.product", part.shape[:-1], dtype)
        for index, offset in enumerate(np.ndindex(*kernel_size)):
            if multiplier == 1:
                np.multiply(part[..., 0], weights[index, :, 0], out=product)
            else:
                np.einsum("...cm,cm->...c", part, weights[index], out=product)
            target = target_chunk[_cells(offset, out_shape, strides, dilation)]
            np.add(target, product, out=target)

    split_batch(input_gradient_chunk, _chunks(grad.shape, dtype.itemsize), work=grad.size * math.prod(kernel_size))
    return grad_input


def _full_correlation(grad, weights, input_shape, dilation):
    """Stride-1 input gradient: dy (N, *out, C, m) padded by d(k-1) on each side, correlated with the flipped
    kernel (*k, C, m) and summed over the multiplier: one sum of products per chunk, like the forward pass."""
    rank = grad.ndim - 3
    kernel_size = weights.shape[:rank]
    flipped = weights[(slice(None, None, -1),) * rank]
    reach = tuple(d * (k - 1) for k, d in zip(kernel_size, dilation))
    channels, multiplier = grad.shape[-2:]
    grad_input = np.empty(input_shape, dtype=np.result_type(grad, weights))
    gradient_to_input = _subscripts(rank, "n{o}{k}cm,{k}cm->n{o}c")

    def input_gradient_chunk(images):
        part = grad[images].reshape(*grad[images].shape[:-2], channels * multiplier)
        padded = np.pad(part, ((0, 0), *((r, r) for r in reach), (0, 0)))
        windows = window_view(padded, kernel_size, (1,) * rank, dilation)  # (n, *in, *k, C*m)
        windows = windows.reshape(*windows.shape[:-1], channels, multiplier)
        np.einsum(gradient_to_input, windows, flipped, out=grad_input[images])

    split_batch(input_gradient_chunk, _chunks(grad.shape, grad.itemsize), work=grad.size * math.prod(kernel_size))
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (*k, 1, C * m): per offset, the shifted input times the output gradient, summed."""
    check_case(kernel_shape, groups)
    rank = len(kernel_shape) - 2
    kernel_size, channels = kernel_shape[:rank], x.shape[-1]
    multiplier = kernel_shape[-1] // channels
    dtype = np.result_type(x, grad_output)
    grad = grad_output.reshape(*grad_output.shape[:-1], channels, multiplier)

    windows_times_gradient = _subscripts(rank, "n{o}{k}c,n{o}cm->{k}cm")

    def kernel_gradient_chunk(images):
        windows = window_view(x[images], kernel_size, strides, dilation)  # (n, *out, *k, C), no copy
        return np.einsum(windows_times_gradient, windows, grad[images])

    work = grad.size * math.prod(kernel_size)
    grad_kernel = sum(split_batch(kernel_gradient_chunk, _chunks(grad.shape, dtype.itemsize), work))
    return grad_kernel.reshape(kernel_shape)
