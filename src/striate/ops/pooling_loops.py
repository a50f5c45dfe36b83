"""The loops of max and average pooling, compiled by numba (see `striate.algorithms.depthwise_loops`).

Each pass reads every input cell once and finishes a window while it is in the cache; written with NumPy
over a window view, the max pool's backward alone made three input-sized temporaries. Shapes, with 1-D and
2-D inputs passed with the missing spatial axes of length 1:

    x (n, D, H, W, C) (already padded)   y, dy, winner (n, D_out, H_out, W_out, C)   window (k_d, k_h, k_w)

(the average loops take their arrays with each row flattened, (n, D, H, W*C), and work a whole row at a time)

    max forward:      y[n, p, q, r, c] = max over the window cells t of x[n, p*s_d + i_t, q*s_h + j_t, r*s_w + k_t, c]
                      winner[...]      = the first such t in row-major order (NaN wins, as in PyTorch)
    max backward:     dx[n, cell of winner, c] += dy[n, p, q, r, c]
    average forward:  y[n, p, q, r, c] = scale[p, q, r] * sum over the window cells of x
    average backward: dx[every cell of the window, c] += scale[p, q, r] * dy[n, p, q, r, c]

The backward loops add (`add=True`, dx starting at zero) where windows overlap; where they tile the input
(stride = window) every window cell belongs to one window only, and `add=False` writes each cell once, so
dx needs no zeroing pass first (only the cells past the last window, which no window writes).

`scale` is 1 / (the number of real cells in the window): 1 / prod(window) without padding.
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, boundscheck=False)
def max_forward(x, window, strides, y, winner):
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    channels = x.shape[-1]
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            for q in range(y.shape[2]):
                for r in range(y.shape[3]):
                    best, best_cell = y[n, p, q, r], winner[n, p, q, r]
                    best[:] = x[n, p * s_d, q * s_h, r * s_w]
                    best_cell[:] = 0
                    cell = 0
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                if cell > 0:
                                    values = x[n, p * s_d + i, q * s_h + j, r * s_w + k]
                                    for c in range(channels):  # selects, not branches: the loop vectorizes
                                        value = values[c]
                                        wins = value > best[c] or value != value
                                        best[c] = value if wins else best[c]
                                        best_cell[c] = cell if wins else best_cell[c]
                                cell += 1


@njit(nogil=True, cache=True, boundscheck=False)
def max_backward(grad_output, winner, window, strides, grad_input, add):
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    channels = grad_output.shape[-1]
    for n in range(grad_output.shape[0]):
        for p in range(grad_output.shape[1]):
            for q in range(grad_output.shape[2]):
                for r in range(grad_output.shape[3]):
                    grad, cells = grad_output[n, p, q, r], winner[n, p, q, r]
                    cell = 0
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                target = grad_input[n, p * s_d + i, q * s_h + j, r * s_w + k]
                                for c in range(channels):  # every cell checks every channel: no divisions
                                    value = grad[c] if cells[c] == cell else 0
                                    target[c] = target[c] + value if add else value
                                cell += 1


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def average_forward(x, window, strides, channels, scale, y):
    """Rows flattened: x (n, D, H, W*C), y (n, D_out, H_out, W_out*C). Per output row, the window's input rows
    are summed whole first (a long vector loop), then each output cell sums its k_w cells of that row sum, one
    kernel column at a time (short loops over the C channels, each the same shape: a loop over the k_w cells
    inside them kept numba from vectorizing and ran at half the speed)."""
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    row_length = x.shape[3]
    window_rows = np.empty(row_length, dtype=x.dtype)
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            for q in range(y.shape[2]):
                window_rows[:] = x[n, p * s_d, q * s_h]
                for i in range(k_d):
                    for j in range(k_h):
                        if i > 0 or j > 0:
                            row = x[n, p * s_d + i, q * s_h + j]
                            for m in range(row_length):
                                window_rows[m] += row[m]
                out, factors = y[n, p, q], scale[p, q]
                for k in range(k_w):
                    for r in range(factors.shape[0]):
                        total = out[r * channels : (r + 1) * channels]
                        cells = window_rows[(r * s_w + k) * channels : (r * s_w + k + 1) * channels]
                        if k == 0:
                            for c in range(channels):
                                total[c] = cells[c]
                        else:
                            for c in range(channels):
                                total[c] += cells[c]
                for r in range(factors.shape[0]):
                    total, factor = out[r * channels : (r + 1) * channels], factors[r]
                    for c in range(channels):
                        total[c] *= factor


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def average_backward(grad_output, window, strides, channels, scale, grad_input, add):
    """Rows flattened: dy (n, D_out, H_out, W_out*C), dx (n, D, H, W*C). Per output row, the row that every input
    row of its windows receives is built once (scale * dy spread over each window's k_w cells; summed where
    windows overlap along the width, zero where none reaches), then added to (or written into) those k_d*k_h
    input rows."""
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    row_length = grad_input.shape[3]
    spread = np.zeros(row_length, dtype=grad_input.dtype)
    overlapping = s_w < k_w
    for n in range(grad_output.shape[0]):
        for p in range(grad_output.shape[1]):
            for q in range(grad_output.shape[2]):
                grads, factors = grad_output[n, p, q], scale[p, q]
                if overlapping:
                    spread[:] = 0
                for k in range(k_w):
                    for r in range(factors.shape[0]):
                        cells = spread[(r * s_w + k) * channels : (r * s_w + k + 1) * channels]
                        grad, factor = grads[r * channels : (r + 1) * channels], factors[r]
                        if overlapping:
                            for c in range(channels):
                                cells[c] += factor * grad[c]
                        else:
                            for c in range(channels):
                                cells[c] = factor * grad[c]
                for i in range(k_d):
                    for j in range(k_h):
                        target = grad_input[n, p * s_d + i, q * s_h + j]
                        if add:
                            for m in range(row_length):
                                target[m] += spread[m]
                        else:
                            target[:] = spread
