"""Convolution through the discrete Fourier transform, for large kernels.

Same signature and result as `striate.algorithms.direct`, for any rank, kernel size, strides, dilation and
groups. By the correlation theorem, a cross-correlation is a product of spectra: with L >= the padded
input length on each axis (so nothing wraps around) and F the real FFT over the spatial axes,

    forward:         c = F^-1[ F(x) * conj(F(w)) ],  y[i] = c[i s]        (w dilated: its cell a at a d)
    input gradient:  dx = F^-1[ F(dy up) * F(w) ]                          (dy up: dy[i] placed at i s)
    kernel gradient: c = F^-1[ F(x) * conj(F(dy up)) ],  dw[a] = c[a d]

where at each frequency the products mix channels as small complex matrix products (batched GEMMs):
(N, C_in) @ (C_in, C_out) for the forward pass, and the same per group with groups. The cost is
O(L log L) per channel for the transforms plus one C_in x C_out product per frequency, independent of
the kernel size: it pays for large kernels with stride 1. With stride s every output of the stride-1
correlation is computed and only every s-th kept, so strided layers waste s^2 of the work.

All three passes are FFT correlations, each its own adjoint pair; the transforms run on the runtime's
threads (scipy.fft's `workers`, `striate.core.runtime.library_threads()`; each 1-D transform is computed whole
by one thread, so the result does not depend on the count). float32 stays float32 (complex64 spectra);
errors are those of the FFT, ~1e-6 relative in float32.
"""

import numpy as np
import scipy.fft

from striate.core.runtime import library_threads


def _threaded(transform, a, **options):
    """transform(a, **options), a scipy.fft transform, on the runtime's threads (`library_threads`)."""
    with library_threads() as workers:
        return transform(a, workers=workers, **options)


def _lengths(spatial):
    """FFT length per axis: the next fast length (products of 2, 3, 5) at or above the padded input."""
    return tuple(scipy.fft.next_fast_len(int(n), real=True) for n in spatial)


def _spatial_axes(rank):
    return tuple(range(1, 1 + rank))


def _kernel_spectrum(kernel, lengths, dilation, dtype):
    """F of the dilated kernel placed at the origin of an L-sized grid: (*L_freq, Cg, C_out)."""
    rank = kernel.ndim - 2
    grid = np.zeros((*lengths, *kernel.shape[-2:]), dtype=dtype)
    grid[tuple(slice(0, (k - 1) * d + 1, d) for k, d in zip(kernel.shape[:rank], dilation))] = kernel
    return _threaded(scipy.fft.rfftn, grid, axes=tuple(range(rank)))


def _mix(spectrum, matrices, groups, conjugate=False):
    """Per frequency, (N, G*a) spectrum times (G, a, b) matrices: (N, *freq, G*a) x (*freq, a, G*b) -> (N, *freq, G*b).

    `matrices` is laid out (*freq, a, G*b) with column g*b + j belonging to group g.
    """
    batch, freq = spectrum.shape[0], spectrum.shape[1:-1]
    cells = int(np.prod(freq))
    per_group_in = spectrum.shape[-1] // groups
    per_group_out = matrices.shape[-1] // groups
    left = spectrum.reshape(batch, cells, groups, per_group_in).transpose(1, 2, 0, 3)  # (F, G, N, a)
    right = matrices.reshape(cells, per_group_in, groups, per_group_out).transpose(0, 2, 1, 3)  # (F, G, a, b)
    if conjugate:
        right = right.conj()
    product = np.matmul(left, right)  # (F, G, N, b)
    return product.transpose(2, 0, 1, 3).reshape(batch, *freq, groups * per_group_out)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, *padded, C_in), kernel (*k, Cg, C_out) -> y (N, *out, C_out)."""
    rank = kernel.ndim - 2
    dtype = np.result_type(x, kernel)
    spatial = x.shape[1:-1]
    lengths = _lengths(spatial)
    out_shape = tuple((n - d * (k - 1) - 1) // s + 1
                      for n, k, s, d in zip(spatial, kernel.shape[:rank], strides, dilation))
    axes = _spatial_axes(rank)
    x_spectrum = _threaded(scipy.fft.rfftn, x.astype(dtype, copy=False), s=lengths, axes=axes)
    w_spectrum = _kernel_spectrum(kernel.astype(dtype, copy=False), lengths, dilation, dtype)
    product = _mix(x_spectrum, w_spectrum, groups, conjugate=True)
    correlation = _threaded(scipy.fft.irfftn, product, s=lengths, axes=axes)
    kept = (slice(None), *(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_shape, strides)))
    return np.ascontiguousarray(correlation[kept], dtype=dtype)


def _upsampled(grad_output, lengths, strides):
    """dy[i] placed at i*s of a zero grid (N, *L, C)."""
    rank = grad_output.ndim - 2
    grid = np.zeros((grad_output.shape[0], *lengths, grad_output.shape[-1]), dtype=grad_output.dtype)
    grid[(slice(None), *(slice(0, (o - 1) * s + 1, s) for o, s in zip(grad_output.shape[1 : 1 + rank], strides)))] = (
        grad_output)
    return grid


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (N, *padded, C_in): the upsampled output gradient convolved (not correlated) with the kernel."""
    rank = kernel.ndim - 2
    dtype = np.result_type(grad_output, kernel)
    spatial = tuple(input_shape[1:-1])
    lengths = _lengths(spatial)
    axes = _spatial_axes(rank)
    upsampled = _upsampled(grad_output.astype(dtype, copy=False), lengths, strides)
    grad_spectrum = _threaded(scipy.fft.rfftn, upsampled, axes=axes)
    w_spectrum = _kernel_spectrum(kernel.astype(dtype, copy=False), lengths, dilation, dtype)
    # per frequency, (N, C_out) @ (C_out, C_in) per group: the kernel's (Cg, Cog) blocks transposed
    freq = w_spectrum.shape[:rank]
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    transposed = w_spectrum.reshape(*freq, per_group_in, groups, per_group_out)
    transposed = np.moveaxis(transposed, (-3, -1), (-1, -3)).reshape(*freq, per_group_out, groups * per_group_in)
    product = _mix(grad_spectrum, transposed, groups)
    full = _threaded(scipy.fft.irfftn, product, s=lengths, axes=axes)
    return np.ascontiguousarray(full[(slice(None), *(slice(0, n) for n in spatial))], dtype=dtype)


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (*k, Cg, C_out): the input correlated with the upsampled output gradient, over the batch."""
    rank = len(kernel_shape) - 2
    dtype = np.result_type(x, grad_output)
    spatial = x.shape[1:-1]
    lengths = _lengths(spatial)
    axes = _spatial_axes(rank)
    x_spectrum = _threaded(scipy.fft.rfftn, x.astype(dtype, copy=False), s=lengths, axes=axes)
    upsampled = _upsampled(grad_output.astype(dtype, copy=False), lengths, strides)
    grad_spectrum = _threaded(scipy.fft.rfftn, upsampled, axes=axes)
    batch, freq = x_spectrum.shape[0], x_spectrum.shape[1:-1]
    cells = int(np.prod(freq))
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups
    left = x_spectrum.reshape(batch, cells, groups, per_group_in).transpose(1, 2, 3, 0)  # (F, G, Cg, N)
    right = grad_spectrum.reshape(batch, cells, groups, per_group_out).transpose(1, 2, 0, 3).conj()  # (F, G, N, Cog)
    product = np.matmul(left, right)  # (F, G, Cg, Cog)
    product = product.transpose(0, 2, 1, 3).reshape(*freq, per_group_in, groups * per_group_out)
    correlation = _threaded(scipy.fft.irfftn, product, s=lengths, axes=tuple(range(rank)))
    kept = tuple(slice(0, (k - 1) * d + 1, d) for k, d in zip(kernel_shape[:rank], dilation))
    return np.ascontiguousarray(correlation[kept], dtype=dtype)
