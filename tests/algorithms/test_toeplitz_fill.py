"""toeplitz's row-window fill against its formula written out: rows[n, h, t, i] = x[n, h s_h + i d_h, tile window]."""

import numpy as np
import pytest

from striate.algorithms import toeplitz


@pytest.mark.parametrize("shape,kernel_size,strides,dilation,channels_out", [
    ((2, 32, 32, 1), (5, 5), (1, 1), (1, 1), 6),  # LeNet's first layer (tiles of 7 columns)
    ((3, 14, 14, 6), (5, 5), (1, 1), (1, 1), 16),  # its second (tiles of 2)
    ((2, 11, 13, 3), (3, 2), (2, 3), (2, 1), 4),  # odd sizes, strides and a dilated kernel height
])
def test_fill_rows_copies_each_tiles_row_windows(shape, kernel_size, strides, dilation, channels_out):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = kernel_size, strides, dilation
    out_h = (shape[1] - d_h * (k_h - 1) - 1) // s_h + 1
    out_w = (shape[2] - d_w * (k_w - 1) - 1) // s_w + 1
    tile = toeplitz.tile_width(out_w, channels_out)
    window = toeplitz.window_width(tile, k_w, s_w, d_w)
    rows = toeplitz._fill_rows(x, k_h, (out_h, out_w), tile, window, strides, dilation, np.float64)
    expected = [x[n, h * s_h + i * d_h, t * tile * s_w : t * tile * s_w + window].ravel()
                for n in range(shape[0]) for h in range(out_h) for t in range(out_w // tile)
                for i in range(k_h)]
    assert rows.dtype == np.float64
    np.testing.assert_array_equal(rows, np.reshape(expected, rows.shape))
