"""2-D convolution as one matrix product per chunk, the kernel rows unrolled into banded (Toeplitz) matrices.

Same signature and result as `striate.algorithms.direct`, for 2-D kernels with groups = 1, any strides and
dilation. A 1-D cross-correlation along the width is a product with a banded matrix (Goodfellow et al. 9.1:
a Toeplitz matrix, each row the kernel shifted by the stride). Cut each output row into tiles of B output
columns; a tile reads a window of (B - 1)*s_w + (k_w - 1)*d_w + 1 = V input columns, and the same banded
matrix serves every tile. Unroll every kernel row i that way, over all input channels:

    T[i, (u*s_w + j*d_w)*C_in + c, u*C_out + f] = kernel[i, j, c, f]      T: (k_h, V*C_in, B*C_out), u < B

and gather, for every output row h and tile t, the k_h input row windows it reads, each V*C_in values:

    R[n, h, t, i, :] = x[n, h*s_h + i*d_h, t*B*s_w : t*B*s_w + V, :]     R: (N*H_out*W_out/B, k_h*V*C_in)

Then one product gives the output rows already laid out channels-last:

    forward:         y (N*H_out*W_out/B, B*C_out) = R @ T
    input gradient:  dR = dy @ T^T, each of its k_h row blocks added back into the input row it came from
    kernel gradient: dT = R^T @ dy, and dkernel[i, j, c, f] = sum over u of dT at the band entries above

The product multiplies V/k_w times more numbers than im2col's (the band's zeros), on a matrix R that holds
each input value about V/B times. B = 1 is im2col; B = W_out (one tile per row) is the classic Toeplitz
product, with the widest matrices and the most zeros. For thin layers (LeNet: 1 or 6 input channels, 6 or 16
filters) im2col's products are too narrow for BLAS, and whole rows waste most multiplies on zeros: `tile_width`
takes the narrowest tile (of at least 2 columns) whose product has TILE_COLUMNS columns (LeNet's first layer:
B = 7 of 28, the product 42 wide, 2.2 times im2col's multiplies). The input gradient keeps whole rows: its
product's inner dimension is B*C_out, and BLAS wants that long. `AUTO_TABLE` picks this algorithm for thin
layers with 5x5 or larger kernels, and for the forward pass and kernel gradient of layers with one input channel
(the first layer on grey images). The batch runs in chunks on striate's threads (`striate.algorithms.chunking`).
"""


import functools

import numpy as np

from striate.algorithms import toeplitz_loops
from striate.algorithms.chunking import batch_chunks, matmul_into, scratch, split_batch, sum_in_order
from striate.algorithms.windows import windows_output_shape


def check_case(kernel_shape, groups, name="toeplitz"):
    """Raise ValueError unless the case is a 2-D convolution without groups."""
    if len(kernel_shape) != 4 or groups != 1:
        raise ValueError(f"{name} needs a 2-D kernel and groups=1; received a kernel of shape {tuple(kernel_shape)} "
                         f"with groups={groups}")


TILE_COLUMNS = 32  # the narrowest tile whose product has this many columns (B*C_out >= TILE_COLUMNS)


def tile_width(out_width, channels_out):
    """B: the smallest divisor of W_out from 2 up with B*C_out >= TILE_COLUMNS (W_out itself when none has).

    Not 1, which is im2col's product: its kernel gradient R^T @ dy is a (k_h k_w C_in) x C_out matrix summed over
    every output position, which BLAS runs slowly (the MNIST CNN's first layer, 9 x 32 over 86,528 positions:
    1.81 ms, against 0.99 ms with B = 2 and 64 columns; its forward 1.15 against 1.05).
    """
    return next(tile for tile in range(min(2, out_width), out_width + 1)
                if out_width % tile == 0 and (tile * channels_out >= TILE_COLUMNS or tile == out_width))


def window_width(tile, kernel_width, stride, dilation):
    """V: the input columns a tile of B output columns reads."""
    return (tile - 1) * stride + (kernel_width - 1) * dilation + 1


@functools.lru_cache(maxsize=64)
def _band_indices(window, kernel_shape, tile, stride, dilation):
    """(rows, columns) of the band entries in one T[i], each of shape (k_w, C_in, C_out, B); read-only, and
    computed once per geometry (a training step asks for them several times)."""
    _, kernel_width, channels_in, channels_out = kernel_shape
    j, c, f, u = np.ix_(range(kernel_width), range(channels_in), range(channels_out), range(tile))
    rows = (u * stride + j * dilation) * channels_in + c
    columns = u * channels_out + f
    indices = tuple(np.ascontiguousarray(a) for a in np.broadcast_arrays(rows, columns))
    for array in indices:
        array.flags.writeable = False
    return indices


def _banded(kernel, window, tile, stride, dilation, dtype):
    """T (k_h * V*C_in, B*C_out), zero outside the band."""
    kernel_height, _, channels_in, channels_out = kernel.shape
    rows, columns = _band_indices(window, tuple(kernel.shape), tile, stride, dilation)
    banded = np.zeros((kernel_height, window * channels_in, tile * channels_out), dtype=dtype)
    for i in range(kernel_height):
        banded[i][rows, columns] = kernel[i][..., None]
    return banded.reshape(-1, tile * channels_out)


def _fill_rows(x, kernel_height, out_shape, tile, window, strides, dilation, dtype):
    """R of a chunk x (n, H_pad, W_pad, C_in) copied into this thread's buffer: (n*H_out*W_out/B, k_h*V*C_in)."""
    images, height, width, channels = x.shape
    out_height, tiles = out_shape[0], out_shape[1] // tile
    rows = scratch("toeplitz.rows", (images, out_height, tiles, kernel_height, window * channels), dtype)
    x = np.ascontiguousarray(x, dtype=dtype).reshape(images, height, width * channels)
    toeplitz_loops.fill_rows(x, strides[0], tile * strides[1] * channels, dilation[0], rows)
    return rows.reshape(-1, kernel_height * window * channels)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, H_pad, W_pad, C_in), kernel (k_h, k_w, C_in, C_out) -> y (N, H_out, W_out, C_out)."""
    check_case(kernel.shape, groups)
    dtype = np.result_type(x, kernel)
    out_height, out_width = windows_output_shape(x.shape[1:3], kernel.shape[:2], strides, dilation)
    tile = tile_width(out_width, kernel.shape[-1])
    window = window_width(tile, kernel.shape[1], strides[1], dilation[1])
    banded = _banded(kernel, window, tile, strides[1], dilation[1], dtype)
    rows_per_image = out_height * out_width // tile
    y = np.empty((x.shape[0], rows_per_image, banded.shape[1]), dtype=dtype)

    def forward_chunk(images):
        rows = _fill_rows(x[images], kernel.shape[0], (out_height, out_width), tile, window, strides, dilation,
                          dtype)
        matmul_into(rows, banded, y[images].reshape(-1, y.shape[-1]))

    chunks = batch_chunks(x.shape[0], rows_per_image * banded.shape[0] * dtype.itemsize)
    split_batch(forward_chunk, chunks, work=x.shape[0] * rows_per_image * banded.size)
    return y.reshape(x.shape[0], out_height, out_width, kernel.shape[-1])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, H_pad, W_pad, C_in): dR = dy @ T^T with whole rows (B = W_out, V = W_pad), its row blocks
    added back into the rows they came from."""
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
    kernel_height, kernel_width, channels_in, _ = kernel_shape
    tile = tile_width(out_width, channels_out)
    window = window_width(tile, kernel_width, strides[1], dilation[1])
    rows_per_image = out_height * out_width // tile

    def kernel_gradient_chunk(images):
        rows = _fill_rows(x[images], kernel_height, (out_height, out_width), tile, window, strides, dilation,
                          dtype)
        return rows.T @ grad_output[images].reshape(rows.shape[0], -1)

    row_length = kernel_height * window * channels_in
    chunks = batch_chunks(batch, rows_per_image * row_length * dtype.itemsize)
    work = batch * rows_per_image * row_length * tile * channels_out
    grad_banded = sum_in_order(split_batch(kernel_gradient_chunk, chunks, work))
    grad_banded = grad_banded.reshape(kernel_height, window * channels_in, tile * channels_out)
    band_rows, band_columns = _band_indices(window, tuple(kernel_shape), tile, strides[1], dilation[1])
    grad = np.stack([grad_banded[i][band_rows, band_columns].sum(axis=-1) for i in range(kernel_height)])
    return grad.astype(dtype, copy=False)
