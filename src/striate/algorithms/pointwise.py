"""1x1 ("pointwise") convolution as a single matrix product, without any im2col copy.

Same signature and result as `striate.algorithms.direct`, for kernels of one cell on every axis (any rank,
strides and groups; dilation has no effect on a single cell). Every output position reads one input
position, so on channels-last data the input already is the im2col matrix:

    forward:         y  = X @ W          X = x[:, ::s, ..., :] as (M, C_in),  W = kernel as (C_in, C_out)
    input gradient:  dx[:, ::s, ..., :] = dY @ W^T   (the cells no output reads get zero)
    kernel gradient: dW = X^T @ dY

With stride 1 X is a reshape of x (no copy). Each product runs in chunks of rows on the workers of
`striate.algorithms.chunking` (single-threaded BLAS in each), as the other algorithms do.
"""

import numpy as np

from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order


def _rows_product(left, right, transpose_left=False):
    """left @ right (or left^T @ right) for groups == 1, in chunks of rows on the workers.

    With left^T the row chunks' partial products are summed (the kernel gradient).
    """
    chunks = batch_chunks(left.shape[0], (left.shape[1] + right.shape[-1]) * left.itemsize)
    work = left.shape[0] * left.shape[1] * right.shape[-1]
    if transpose_left:
        return sum_in_order(split_batch(lambda rows: left[rows].T @ right[rows], chunks, work))
    out = np.empty((left.shape[0], right.shape[-1]), dtype=np.result_type(left, right))

    def product(rows):
        np.dot(left[rows], right, out=out[rows])

    split_batch(product, chunks, work)
    return out


def check_case(kernel_shape, name="pointwise"):
    """Raise ValueError unless every kernel axis has one cell."""
    kernel_size = tuple(kernel_shape[:-2])
    if any(k != 1 for k in kernel_size):
        raise ValueError(f"{name} needs a 1x1 kernel (one cell per axis); received kernel_size={kernel_size}")


def _reached(shape, strides):
    """The input cells an output reads: every s-th from the first, as many as there are outputs."""
    rank = len(shape) - 2
    return (slice(None), *(slice(0, (n - 1) // s * s + 1, s) for n, s in zip(shape[1 : 1 + rank], strides)))


def _grouped(matrix, groups):
    """(M, G * c) -> (G, M, c)."""
    return matrix.reshape(matrix.shape[0], groups, -1).transpose(1, 0, 2)


def _grouped_kernel(kernel, groups, dtype):
    """(1, ..., Cg, C_out) -> (G, Cg, Cog)."""
    per_group_in = kernel.shape[-2]
    flat = kernel.reshape(per_group_in, groups, -1).transpose(1, 0, 2)
    return flat.astype(dtype, copy=False)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, *spatial, C_in), kernel (1, ..., Cg, C_out) -> y (N, *out, C_out)."""
    check_case(kernel.shape)
    dtype = np.result_type(x, kernel)
    inputs = x[_reached(x.shape, strides)]
    out_shape = inputs.shape[:-1]
    rows = inputs.reshape(-1, x.shape[-1])
    if groups == 1:
        y = _rows_product(rows.astype(dtype, copy=False), kernel.reshape(kernel.shape[-2], -1).astype(dtype))
    else:
        y = (_grouped(rows, groups) @ _grouped_kernel(kernel, groups, dtype)).transpose(1, 0, 2)
    return y.reshape(*out_shape, kernel.shape[-1])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, *spatial, C_in): dY @ W^T written to the cells the outputs read, zeros elsewhere."""
    check_case(kernel.shape)
    dtype = np.result_type(grad_output, kernel)
    rows = grad_output.reshape(-1, grad_output.shape[-1])
    if groups == 1:
        weights = np.ascontiguousarray(kernel.reshape(kernel.shape[-2], -1).T, dtype=dtype)
        values = _rows_product(rows.astype(dtype, copy=False), weights)
    else:
        values = (_grouped(rows, groups) @ _grouped_kernel(kernel, groups, dtype).transpose(0, 2, 1))
        values = values.transpose(1, 0, 2)
    values = values.reshape(*grad_output.shape[:-1], input_shape[-1])
    if all(s == 1 for s in strides) and values.shape == tuple(input_shape):
        return values
    grad_input = np.zeros(input_shape, dtype=dtype)
    grad_input[_reached(input_shape, strides)] = values
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (1, ..., Cg, C_out) = X^T @ dY."""
    check_case(kernel_shape)
    inputs = x[_reached(x.shape, strides)]
    rows = inputs.reshape(-1, x.shape[-1])
    grad_rows = grad_output.reshape(-1, grad_output.shape[-1])
    if groups == 1:
        return _rows_product(rows, grad_rows, transpose_left=True).reshape(kernel_shape)
    grad = _grouped(rows, groups).transpose(0, 2, 1) @ _grouped(grad_rows, groups)  # (G, Cg, Cog)
    return np.ascontiguousarray(grad.transpose(1, 0, 2)).reshape(kernel_shape)
