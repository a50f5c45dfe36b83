"""The row-window fill of `striate.algorithms.toeplitz`, compiled by numba.

    rows[n, h, t, i, :] = x[n, h s_h + i d_h, t B s_w C : t B s_w C + V C]     (x with each row flattened)

Each of the k_h input row windows that tile t of output row h reads, V*C values, copied as one contiguous run.
NumPy's copy from a strided 5-D view of x did the same with a loop set-up per run: 1.6 times slower on LeNet's
second layer (runs of 36 values), as fast on its first (runs of 11).
"""

from numba import njit


@njit(nogil=True, cache=True, boundscheck=False)
def fill_rows(x, row_step, tile_step, kernel_row_step, rows):
    """rows (n, H_out, tiles, k_h, V*C) from x (n, H, W*C): row_step = s_h, tile_step = B*s_w*C (values between
    two tiles' windows), kernel_row_step = d_h."""
    length = rows.shape[4]
    for n in range(rows.shape[0]):
        for h in range(rows.shape[1]):
            for t in range(rows.shape[2]):
                for i in range(rows.shape[3]):
                    start = t * tile_step
                    values = x[n, h * row_step + i * kernel_row_step, start : start + length]
                    target = rows[n, h, t, i]
                    for m in range(length):
                        target[m] = values[m]
