"""The loops of max and average pooling, compiled by numba (see `striate.algorithms.depthwise_loops`).

Each pass reads every input cell once and finishes a window while it is in the cache; written with NumPy
over a window view, the max pool's backward alone made three input-sized temporaries. Shapes, with 1-D and
2-D inputs passed with the missing spatial axes of length 1:

    x (n, D, H, W, C) (already padded)   y, dy, winner (n, D_out, H_out, W_out, C)   window (k_d, k_h, k_w)

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
def average_forward(x, window, strides, scale, y):
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    channels = x.shape[-1]
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            for q in range(y.shape[2]):
                for r in range(y.shape[3]):
                    total = y[n, p, q, r]
                    total[:] = 0
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                values = x[n, p * s_d + i, q * s_h + j, r * s_w + k]
                                for c in range(channels):
                                    total[c] += values[c]
                    factor = scale[p, q, r]
                    for c in range(channels):
                        total[c] *= factor


@njit(nogil=True, cache=True, fastmath=True, boundscheck=False)
def average_backward(grad_output, window, strides, scale, grad_input, add):
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    channels = grad_output.shape[-1]
    for n in range(grad_output.shape[0]):
        for p in range(grad_output.shape[1]):
            for q in range(grad_output.shape[2]):
                for r in range(grad_output.shape[3]):
                    grad, factor = grad_output[n, p, q, r], scale[p, q, r]
                    for i in range(k_d):
                        for j in range(k_h):
                            for k in range(k_w):
                                cell = grad_input[n, p * s_d + i, q * s_h + j, r * s_w + k]
                                for c in range(channels):
                                    value = factor * grad[c]
                                    cell[c] = cell[c] + value if add else value
