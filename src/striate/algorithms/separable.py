"""Rank-1 (spatially separable) 2-D kernels as two 1-D passes: a column pass, then a row pass.

Same signature and result as `striate.algorithms.direct`, for 2-D kernels whose every (input channel,
filter) slice w[:, :, c, o] is an outer product u v^T, as Sobel ([1, 2, 1]^T [1, 0, -1]) or a box blur.
The factors come from each slice's SVD (u = s_1 U[:, 0], v = V[0, :]); a slice whose second singular value
is above 1e-6 of its first is not rank 1 and the case is refused.

    column pass:  t[n, i, w, c, o] = sum_a x[n, i s_h + a d_h, w, c] u[a, c, o]
    row pass:     y[n, i, j, o]    = sum_c sum_b t[n, i, j s_w + b d_w, c, o] v[b, c, o]

Multiplies per output: (k_h W / W_out + k_w) C_in per filter instead of k_h k_w C_in, a gain for large
kernels on few channels (image filters), not for learned layers with many channels.

Input gradient: the adjoint of the two passes (the row pass transposed, then the column pass transposed).
Kernel gradient: computed with im2col (`striate.algorithms.im2col`), because the gradient of a rank-1
kernel is a full kernel: dw[a, b, c, o] = sum of x[window cell (a, b)] dy[o] has no factored form.
"""

import numpy as np

from striate.algorithms import im2col
from striate.algorithms.windows import scatter_windows, window_view

RANK_TOLERANCE = 1e-6


def factors(kernel):
    """kernel (kh, kw, Cg, C_out) -> (u (kh, Cg, C_out), v (kw, Cg, C_out)) with u v^T == kernel per slice.

    Raises ValueError when a slice is not rank 1.
    """
    if kernel.ndim != 4:
        raise ValueError(f"separable needs a 2-D kernel (kh, kw, Cg, C_out); received shape {kernel.shape}")
    slices = np.moveaxis(kernel, (0, 1), (-2, -1))  # (Cg, C_out, kh, kw)
    left, singular, right = np.linalg.svd(slices, full_matrices=False)
    largest = singular[..., 0]
    rest = singular[..., 1:].max(axis=-1, initial=0.0)
    if np.any(rest > RANK_TOLERANCE * np.maximum(largest, np.finfo(float).tiny)):
        worst = float(np.max(rest / np.maximum(largest, np.finfo(float).tiny)))
        raise ValueError(f"separable needs a rank-1 kernel (every slice w[:, :, c, o] = u v^T); received a "
                         f"kernel of shape {kernel.shape} whose slices have second/first singular value up to "
                         f"{worst:.2g}")
    u = np.moveaxis(left[..., :, 0] * largest[..., None], -1, 0)  # (kh, Cg, C_out)
    v = np.moveaxis(right[..., 0, :], -1, 0)  # (kw, Cg, C_out)
    return u, v


def _grouped(factor, groups):
    """(k, Cg, C_out) -> (k, Cg, G, Cog)."""
    return factor.reshape(*factor.shape[:2], groups, -1)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, H, W, C_in), rank-1 kernel (kh, kw, Cg, C_out) -> y (N, H_out, W_out, C_out)."""
    u, v = factors(kernel)
    dtype = np.result_type(x, kernel)
    kh, kw, per_group_in = kernel.shape[0], kernel.shape[1], kernel.shape[2]
    columns = window_view(x, (kh, 1), (strides[0], 1), (dilation[0], 1))  # (N, Ho, W, kh, 1, C)
    columns = columns[..., 0, :].reshape(*columns.shape[:4], groups, per_group_in)  # (N, Ho, W, kh, G, Cg)
    t = np.einsum("nhwagc,acgj->nhwcgj", columns, _grouped(u.astype(dtype), groups), optimize=True)
    rows = window_view(t.reshape(*t.shape[:3], -1), (1, kw), (1, strides[1]), (1, dilation[1]))
    rows = rows[:, :, :, 0].reshape(*rows.shape[:3], kw, *t.shape[3:])  # (N, Ho, Wo, kw, Cg, G, Cog)
    y = np.einsum("nhwbcgj,bcgj->nhwgj", rows, _grouped(v.astype(dtype), groups), optimize=True)
    return y.reshape(*y.shape[:3], kernel.shape[-1])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx: the row pass transposed, then the column pass transposed (each a 1-D col2im)."""
    u, v = factors(kernel)
    dtype = np.result_type(grad_output, kernel)
    kh, kw, per_group_in = kernel.shape[0], kernel.shape[1], kernel.shape[2]
    n, out_h, out_w, channels_out = grad_output.shape
    grad = grad_output.reshape(n, out_h, out_w, groups, channels_out // groups)
    # row pass transposed: dt[n, i, w, c, g, j] collects dy[n, i, j', g, j] v[b, c, g, j] where w = j' s + b d
    row_values = np.einsum("nhwgj,bcgj->nhwbcgj", grad, _grouped(v.astype(dtype), groups), optimize=True)
    row_values = row_values.reshape(n, out_h, out_w, 1, kw, -1)
    dt = scatter_windows(row_values, (n, out_h, input_shape[2], row_values.shape[-1]), (1, strides[1]),
                         (1, dilation[1]))
    dt = dt.reshape(n, out_h, input_shape[2], per_group_in, groups, -1)
    # column pass transposed: dx[n, h, w, g, c] collects dt[n, i, w, c, g, j] u[a, c, g, j] where h = i s + a d
    column_values = np.einsum("nhwcgj,acgj->nhwagc", dt, _grouped(u.astype(dtype), groups), optimize=True)
    column_values = column_values.reshape(n, out_h, input_shape[2], kh, 1, -1)
    return scatter_windows(column_values, input_shape, (strides[0], 1), (dilation[0], 1))


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel: a full (not rank-1) kernel, so computed by im2col; see the module docstring."""
    if len(kernel_shape) != 4:
        raise ValueError(f"separable needs a 2-D kernel (kh, kw, Cg, C_out); received shape {tuple(kernel_shape)}")
    return im2col.conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups)
