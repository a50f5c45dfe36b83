"""im2col's column fill for 2-D inputs, compiled by numba: the windows copied straight from the unpadded input.

    columns[(n, p, q), (i, j, c)] = x[n, p s_h + i d_h - top, q s_w + j d_w - left, c]   (0 outside x)

One row per output position, the cells of its window in (row, column, channel) order: what `im2col` builds from
a padded copy of the chunk and a strided view of its windows, here in one pass without the padded copy, each
window cell's C channels copied as one contiguous run.
"""

from numba import njit


@njit(nogil=True, cache=True, boundscheck=False)
def fill(x, kernel_size, strides, dilation, before, out_shape, columns):
    """columns (n * H_out * W_out, k_h * k_w * C) from x (n, H, W, C); `before`: the zero rows above and columns
    left of x; out_shape: (H_out, W_out)."""
    images, height, width, channels = x.shape
    kernel_high, kernel_wide = kernel_size
    s_h, s_w = strides
    d_h, d_w = dilation
    top, left = before
    out_high, out_wide = out_shape
    zero = columns.dtype.type(0)
    for n in range(images):
        for p in range(out_high):
            for q in range(out_wide):
                row = columns[(n * out_high + p) * out_wide + q]
                for i in range(kernel_high):
                    source_row = p * s_h + i * d_h - top
                    for j in range(kernel_wide):
                        source_column = q * s_w + j * d_w - left
                        start = (i * kernel_wide + j) * channels
                        if 0 <= source_row < height and 0 <= source_column < width:
                            cell = x[n, source_row, source_column]
                            for c in range(channels):
                                row[start + c] = cell[c]
                        else:
                            for c in range(channels):
                                row[start + c] = zero


@njit(nogil=True, cache=True, boundscheck=False)
def add_columns(columns, kernel_size, strides, dilation, before, out_shape, x):
    """col2im, the adjoint of `fill`: x (n, H, W, C) += the columns (n * H_out * W_out, k_h * k_w * C) added back
    where `fill` read them,

        x[n, p s_h + i d_h - top, q s_w + j d_w - left, c] += columns[(n, p, q), (i, j, c)]

    for the cells inside x (a cell in the padding is dropped); each window cell's C channels one contiguous run."""
    images, height, width, channels = x.shape
    kernel_high, kernel_wide = kernel_size
    s_h, s_w = strides
    d_h, d_w = dilation
    top, left = before
    out_high, out_wide = out_shape
    for n in range(images):
        for p in range(out_high):
            for q in range(out_wide):
                row = columns[(n * out_high + p) * out_wide + q]
                for i in range(kernel_high):
                    target_row = p * s_h + i * d_h - top
                    if target_row < 0 or target_row >= height:
                        continue
                    for j in range(kernel_wide):
                        target_column = q * s_w + j * d_w - left
                        if 0 <= target_column < width:
                            start = (i * kernel_wide + j) * channels
                            cell = row[start : start + channels]
                            target = x[n, target_row, target_column]
                            for c in range(channels):
                                target[c] += cell[c]
