"""2-D convolution as one matrix product per chunk, each kernel row unrolled into a banded (Toeplitz) matrix.

Same signature and result as `striate.algorithms.direct`, for 2-D kernels with groups = 1, any strides and
dilation. A 1-D cross-correlation along the width is a product with a banded matrix (Goodfellow et al. 9.1:
a Toeplitz matrix, each row the kernel shifted by the stride). Unroll every kernel row i that way, over the
whole padded width and all input channels:

    T[i, (w*s_w + j*d_w)*C_in + c, w*C_out + f] = kernel[i, j, c, f]      T: (k_h, W_pad*C_in, W_out*C_out)

and gather, for every output row h, the k_h input rows it reads, each flattened to W_pad*C_in values:

    R[n, h, i, :] = x[n, h*s_h + i*d_h, :, :]                             R: (N*H_out, k_h*W_pad*C_in)

Then one product gives the output rows already laid out channels-last:

    forward:         y (N*H_out, W_out*C_out) = R @ T
    input gradient:  dR = dy @ T^T, each of its k_h row blocks added back into the input row it came from
    kernel gradient: dT = R^T @ dy, and dkernel[i, j, c, f] = sum over w of dT at the band entries above

The products multiply W_pad/k_w times more zeros than an im2col product multiplies numbers, but R is k_w
times smaller than im2col's columns and the products are wide, so for thin layers (LeNet: 1 or 6 input
channels, widths 32 and 14) this is the fastest way through BLAS. `AUTO_TABLE` picks it for thin layers
whose padded width is at most 8 kernel widths. The batch runs in chunks on two threads (`striate.algorithms.chunking`).
"""


import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from striate.algorithms.chunking import batch_chunks, matmul_into, scratch, split_batch
from striate.algorithms.windows import windows_output_shape


def check_case(kernel_shape, groups, name="toeplitz"):
    """Raise ValueError unless the case is a 2-D convolution without groups."""
    if len(kernel_shape) != 4 or groups != 1:
        raise ValueError(f"{name} needs a 2-D kernel and groups=1; received a kernel of shape {tuple(kernel_shape)} "
                         f"with groups={groups}")


@functools.lru_cache(maxsize=64)
def _band_indices(padded_width, kernel_shape, out_width, stride, dilation):
    """(rows, columns) of the band entries in one T[i], each of shape (k_w, C_in, C_out, W_out); read-only, and
    computed once per geometry (a training step asks for them four times)."""
    _, kernel_width, channels_in, channels_out = kernel_shape
    j, c, f, w = np.ix_(range(kernel_width), range(channels_in), range(channels_out), range(out_width))
    rows = (w * stride + j * dilation) * channels_in + c
    columns = w * channels_out + f
    indices = tuple(np.ascontiguousarray(a) for a in np.broadcast_arrays(rows, columns))
    for array in indices:
        array.flags.writeable = False
    return indices


def _banded(kernel, padded_width, out_width, stride, dilation, dtype):
    """T (k_h * W_pad*C_in, W_out*C_out), zero outside the band."""
    kernel_height, _, channels_in, channels_out = kernel.shape
    rows, columns = _band_indices(padded_width, tuple(kernel.shape), out_width, stride, dilation)
    banded = np.zeros((kernel_height, padded_width * channels_in, out_width * channels_out), dtype=dtype)
    for i in range(kernel_height):
        banded[i][rows, columns] = kernel[i][..., None]
    return banded.reshape(-1, out_width * channels_out)


def _row_view(x, kernel_height, out_height, stride, dilation):
    """R as a read-only view (n, H_out, k_h, W_pad*C_in) of x (n, H_pad, W_pad, C_in), no copy."""
    images, height, width, channels = x.shape
    x = np.ascontiguousarray(x)
    row = width * channels * x.itemsize
    return as_strided(x, shape=(images, out_height, kernel_height, width * channels),
                      strides=(height * row, stride * row, dilation * row, x.itemsize), writeable=False)


def _fill_rows(x, kernel_height, out_height, stride, dilation, dtype):
    """R of a chunk copied into this thread's buffer: (n*H_out, k_h*W_pad*C_in)."""
    view = _row_view(x, kernel_height, out_height, stride, dilation)
    rows = scratch("toeplitz.rows", view.shape, dtype)
    np.copyto(rows, view)
    return rows.reshape(-1, kernel_height * view.shape[-1])


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, H_pad, W_pad, C_in), kernel (k_h, k_w, C_in, C_out) -> y (N, H_out, W_out, C_out)."""
    check_case(kernel.shape, groups)
    dtype = np.result_type(x, kernel)
    out_height, out_width = windows_output_shape(x.shape[1:3], kernel.shape[:2], strides, dilation)
    banded = _banded(kernel, x.shape[2], out_width, strides[1], dilation[1], dtype)
    y = np.empty((x.shape[0], out_height, out_width * kernel.shape[-1]), dtype=dtype)

    def forward_chunk(images):
        rows = _fill_rows(x[images], kernel.shape[0], out_height, strides[0], dilation[0], dtype)
        matmul_into(rows, banded, y[images].reshape(-1, y.shape[-1]))

    chunks = batch_chunks(x.shape[0], out_height * banded.shape[0] * dtype.itemsize)
    split_batch(forward_chunk, chunks, work=x.shape[0] * out_height * banded.size)
    return y.reshape(x.shape[0], out_height, out_width, kernel.shape[-1])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, H_pad, W_pad, C_in): dR = dy @ T^T, its row blocks added back into the rows they came from."""
    check_case(kernel.shape, groups)
    dtype = np.result_type(grad_output, kernel)
    batch, out_height, out_width, _ = grad_output.shape
    kernel_height = kernel.shape[0]
    row_length = input_shape[2] * input_shape[3]
    banded_transposed = _banded(kernel, input_shape[2], out_width, strides[1], dilation[1], dtype).T
    grad_input = np.zeros((batch, input_shape[1], row_length), dtype=dtype)

    def input_gradient_chunk(images):
        grad = grad_output[images].reshape(-1, banded_transposed.shape[0])
        grad_rows = scratch("toeplitz.grad_rows", (grad.shape[0], banded_transposed.shape[1]), dtype)
        matmul_into(grad, banded_transposed, grad_rows)
        grad_rows = grad_rows.reshape(-1, out_height, kernel_height, row_length)
        target_chunk = grad_input[images]
        for i in range(kernel_height):
            start = i * dilation[0]
            target = target_chunk[:, start : start + (out_height - 1) * strides[0] + 1 : strides[0]]
            np.add(target, grad_rows[:, :, i], out=target)

    chunks = batch_chunks(batch, out_height * kernel_height * row_length * dtype.itemsize)
    split_batch(input_gradient_chunk, chunks, work=batch * out_height * banded_transposed.size)
    return grad_input.reshape(input_shape)


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (k_h, k_w, C_in, C_out): dT = R^T @ dy summed over chunks, then summed along each band."""
    check_case(kernel_shape, groups)
    dtype = np.result_type(x, grad_output)
    batch, out_height, out_width, channels_out = grad_output.shape
    kernel_height = kernel_shape[0]

    def kernel_gradient_chunk(images):
        rows = _fill_rows(x[images], kernel_height, out_height, strides[0], dilation[0], dtype)
        return rows.T @ grad_output[images].reshape(rows.shape[0], -1)

    row_length = x.shape[2] * x.shape[3]
    chunks = batch_chunks(batch, out_height * kernel_height * row_length * dtype.itemsize)
    work = batch * out_height * kernel_height * row_length * out_width * channels_out
    grad_banded = sum(split_batch(kernel_gradient_chunk, chunks, work))
    grad_banded = grad_banded.reshape(kernel_height, row_length, out_width * channels_out)
    band_rows, band_columns = _band_indices(x.shape[2], tuple(kernel_shape), out_width, strides[1], dilation[1])
    grad = np.stack([grad_banded[i][band_rows, band_columns].sum(axis=-1) for i in range(kernel_height)])
    return grad.astype(dtype, copy=False)

