"""The compiled column fill of im2col (no padded copy) against columns cut from np.pad and NumPy's window view."""

import numpy as np
import pytest

from striate.algorithms import im2col_loops


def reference_columns(x, kernel_size, strides, dilation, padding):
    padded = np.pad(x, ((0, 0), *padding, (0, 0)))
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation
    out_h = (padded.shape[1] - dh * (kh - 1) - 1) // sh + 1
    out_w = (padded.shape[2] - dw * (kw - 1) - 1) // sw + 1
    rows = [padded[n, p * sh + i * dh, q * sw + j * dw]
            for n in range(x.shape[0]) for p in range(out_h) for q in range(out_w)
            for i in range(kh) for j in range(kw)]
    return np.array(rows).reshape(x.shape[0] * out_h * out_w, -1), (out_h, out_w)


CASES = [((2, 5, 6, 3), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
         ((1, 7, 7, 4), (3, 3), (2, 2), (1, 1), ((0, 1), (0, 1))),
         ((3, 6, 5, 5), (2, 3), (1, 2), (2, 1), ((2, 0), (1, 3))),
         ((1, 4, 4, 16), (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)))]


@pytest.mark.parametrize(("shape", "kernel_size", "strides", "dilation", "padding"), CASES)
def test_fill_equals_the_windows_of_the_padded_input(shape, kernel_size, strides, dilation, padding):
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    expected, out_shape = reference_columns(x, kernel_size, strides, dilation, padding)
    columns = np.full(expected.shape, np.nan, dtype=np.float32)
    im2col_loops.fill(x, kernel_size, strides, dilation, tuple(before for before, _ in padding), out_shape, columns)
    np.testing.assert_array_equal(columns, expected)


@pytest.mark.parametrize(("shape", "kernel_size", "strides", "dilation", "padding"), CASES)
def test_add_columns_adds_each_column_back_where_fill_read_it(shape, kernel_size, strides, dilation, padding):
    """col2im by hand: every column entry added into the padded input at its window cell, the padding cut off."""
    rng = np.random.default_rng(sum(shape) + 1)
    _, out_shape = reference_columns(np.zeros(shape), kernel_size, strides, dilation, padding)
    columns = rng.standard_normal((shape[0] * out_shape[0] * out_shape[1], kernel_size[0] * kernel_size[1] * shape[3]))
    padded = np.zeros((shape[0], shape[1] + sum(padding[0]), shape[2] + sum(padding[1]), shape[3]))
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation
    windows = columns.reshape(shape[0], *out_shape, kh, kw, shape[3])
    for n in range(shape[0]):
        for p in range(out_shape[0]):
            for q in range(out_shape[1]):
                for i in range(kh):
                    for j in range(kw):
                        padded[n, p * sh + i * dh, q * sw + j * dw] += windows[n, p, q, i, j]
    expected = padded[:, padding[0][0]:padding[0][0] + shape[1], padding[1][0]:padding[1][0] + shape[2]]
    got = np.ones(shape)  # added into: the ones stay under the sums
    im2col_loops.add_columns(columns, kernel_size, strides, dilation, tuple(before for before, _ in padding),
                             out_shape, got)
    np.testing.assert_allclose(got, expected + 1, rtol=1e-12, atol=1e-12)
