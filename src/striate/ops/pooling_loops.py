"""The loops of max and average pooling, compiled by numba (see `striate.algorithms.depthwise_loops`).

Each pass reads every input cell once and finishes a window while it is in the cache; written with NumPy
over a window view, the max pool's backward alone made three input-sized temporaries. Shapes, with 1-D and
2-D inputs passed with the missing spatial axes of length 1:

    x (n, D, H, W, C) (already padded)   y, dy, winner (n, D_out, H_out, W_out, C)   window (k_d, k_h, k_w)

(the average loops take their arrays with each row flattened, (n, D, H, W*C), and work a whole row at a time)

    max forward:      y[n, p, q, r, c] = max over the window cells t of x[n, p*s_d + i_t, q*s_h + j_t, r*s_w + k_t, c]
                      winner[...]      = the first such t in row-major order (the last NaN wins, as in PyTorch)
    max backward:     dx[n, cell of winner, c] += dy[n, p, q, r, c]
    average forward:  y[n, p, q, r, c] = scale[p, q, r] * sum over the window cells of x
    average backward: dx[every cell of the window, c] += scale[p, q, r] * dy[n, p, q, r, c]

The backward loops add (`add=True`, dx starting at zero) where windows overlap; where they tile the input
(stride = window) every window cell belongs to one window only, and `add=False` writes each cell once, so
dx needs no zeroing pass first (only the cells past the last window, which no window writes).

`scale` is 1 / (the number of real cells in the window): 1 / prod(window) without padding.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from striate.algorithms.vectorized_loops import Vectors

VECTOR_CHANNELS = 16  # from this many channels a loop over one window cell's channels fills the vector unit


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _scan_cell(values, number, best, cells):
    """One window cell's step of the max scan over positions m (1-D arrays of one length): the first cell
    (number 0) is copied; a later one replaces best[m] and cells[m] where it is larger or NaN."""
    if number == 0:
        for m in range(best.shape[0]):
            best[m] = values[m]
            cells[m] = 0
    else:
        for m in range(best.shape[0]):
            value, so_far = values[m], best[m]
            wins = (value > so_far) | (value != value)
            best[m] = value if wins else so_far
            cells[m] = number if wins else cells[m]


@njit(nogil=True, cache=True, boundscheck=False)
def max_forward(x, window, strides, y, winner):
    """x (n, D, H, W, C), y and winner (n, D_out, H_out, W_out, C). The window cells are visited in row-major order,
    each a select per channel: a later cell wins when larger or NaN, so the first maximum wins a tie and the last
    NaN wins (PyTorch's scan). With C >= VECTOR_CHANNELS each window runs on vectors of its channels, the maximum
    and the winner's number held in registers over the window (`_window_max`; ResNet-18's 3x3 stride 2 on
    113x113x64, 8 images: 4.94 -> 2.27 ms against numba's select loop over each cell's channels); with fewer (C = 6
    after LeNet's first conv) such a loop is too short to vectorize, so the scan runs over whole rows at once, as if
    a window started at every column, and every s_w-th column is copied out (s_w times the comparisons, yet 2x
    faster for 2x2 windows on 28x28x6). With s_w = 1 a window starts at every column anyway, and whole rows serve
    any C (3x3 windows on 32x32x16: 4.3 against 7.9 ms).

    Indices in the inner loops are the loop variables themselves: an index such as `offset + m` makes numba
    check for a negative index on every element, and the loop no longer vectorizes."""
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    out_width, channels = y.shape[3], y.shape[4]
    columns = (out_width - 1) * s_w + 1  # where a window starts, and the columns between
    count = columns * channels
    row_best = np.empty(count, dtype=x.dtype)
    row_cell = np.empty(count, dtype=winner.dtype)
    best_columns, cell_columns = row_best.reshape((columns, channels)), row_cell.reshape((columns, channels))
    whole_rows = channels < VECTOR_CHANNELS or s_w == 1  # stride 1: a window starts at every column anyway
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    flat_x, flat_y, flat_winner = x.reshape(-1), y.reshape(-1), winner.reshape(-1)
    steps = (height * width * channels, width * channels, channels)  # a window's plane, row and column steps
    for n in range(y.shape[0]):
        for p in range(y.shape[1]):
            for q in range(y.shape[2]):
                if not whole_rows:  # each window on vectors of channels
                    start = ((n * depth + p * s_d) * height + q * s_h) * width * channels
                    out_start = ((n * y.shape[1] + p) * y.shape[2] + q) * out_width * channels
                    for r in range(out_width):
                        _window_max(flat_x, start + r * s_w * channels, steps, window, flat_y, flat_winner,
                                    out_start + r * channels, channels)
                    continue
                number = 0
                for i in range(k_d):
                    for j in range(k_h):
                        row = x[n, p * s_d + i, q * s_h + j]
                        for k in range(k_w):
                            _scan_cell(row[k : k + columns].reshape(count), number, row_best, row_cell)
                            number += 1
                out, cells = y[n, p, q], winner[n, p, q]
                for r in range(out_width):
                    best, best_cell = best_columns[r * s_w], cell_columns[r * s_w]
                    into, into_cell = out[r], cells[r]
                    for c in range(channels):
                        into[c] = best[c]
                        into_cell[c] = best_cell[c]


@intrinsic
def _window_max(typingctx, x, x_start, steps, window, y, winner, out_start, channels):
    """window_max(x, x_start, steps, window, y, winner, out_start, channels): one output cell of max pooling on
    flat arrays, C = `channels`, per block of V channels (16 float32, 8 float64; the last through masks): the
    window's cells (k_d, k_h, k_w) visited in row-major order from x[x_start], steps = (plane, row, column) apart,
    a later cell winning where it is larger or NaN; the maximum stored at y[out_start + c] and the winning cell's
    number (i k_h + j) k_w + k at winner[out_start + c], both as vectors."""
    signature = types.void(x, types.intp, steps, window, y, winner, types.intp, types.intp)

    def codegen(context, builder, signature, arguments):
        x_array, x_start, steps, window, y_array, winner_array, out_start, channels = arguments
        plane_step, row_step, column_step = (builder.extract_value(steps, field) for field in range(3))
        planes, rows, columns = (builder.extract_value(window, field) for field in range(3))
        x_data = context.make_array(signature.args[0])(context, builder, x_array).data
        y_data = context.make_array(signature.args[4])(context, builder, y_array).data
        winner_data = context.make_array(signature.args[5])(context, builder, winner_array).data
        ir_ = Vectors(context, builder, signature.args[0].dtype)
        numbers = ir.VectorType(ir.IntType(32), ir_.length)
        for first, mask in ir_.channel_blocks(channels):
            corner = builder.add(x_start, first)
            best = cgutils.alloca_once_value(builder, ir_.masked_load(ir_.at(x_data, corner), mask))
            best_number = cgutils.alloca_once_value(builder, ir.Constant(numbers, [0] * ir_.length))
            number = cgutils.alloca_once_value(builder, ir.Constant(ir.IntType(32), 0))
            with cgutils.for_range(builder, planes) as i:
                plane = builder.add(corner, builder.mul(i.index, plane_step))
                with cgutils.for_range(builder, rows) as j:
                    row = builder.add(plane, builder.mul(j.index, row_step))
                    with cgutils.for_range(builder, columns) as k:
                        value = ir_.masked_load(ir_.at(x_data, builder.add(row, builder.mul(k.index, column_step))),
                                                mask)
                        so_far = builder.load(best)
                        wins = builder.or_(builder.fcmp_ordered(">", value, so_far),
                                           builder.fcmp_unordered("uno", value, value))
                        builder.store(builder.select(wins, value, so_far), best)
                        this = builder.load(number)
                        spread = builder.shuffle_vector(
                            builder.insert_element(ir.Constant(numbers, ir.Undefined), this,
                                                   ir.Constant(ir.IntType(32), 0)),
                            ir.Constant(numbers, ir.Undefined), ir.Constant(numbers, [0] * ir_.length))
                        builder.store(builder.select(wins, spread, builder.load(best_number)), best_number)
                        builder.store(builder.add(this, ir.Constant(ir.IntType(32), 1)), number)
            target = builder.add(out_start, first)
            ir_.masked_store(builder.load(best), ir_.at(y_data, target), mask)
            _masked_store_numbers(builder, builder.load(best_number), builder.gep(winner_data, [target]), mask)
        return context.get_dummy_value()

    return signature, codegen


def _masked_store_numbers(builder, value, address, mask):
    """Store the lanes of an <V x i32> `value` inside `mask` at `address` (an i32 pointer)."""
    name = f"llvm.masked.store.v{value.type.count}i32.p0"
    function = builder.module.globals.get(name) or ir.Function(builder.module, ir.FunctionType(
        ir.VoidType(), [value.type, value.type.as_pointer(), ir.IntType(32), mask.type]), name=name)
    builder.call(function, [value, builder.bitcast(address, value.type.as_pointer()), ir.Constant(ir.IntType(32), 4),
                            mask])


@njit(nogil=True, cache=True, boundscheck=False)
def max_backward(grad_output, winner, window, strides, grad_input, add):
    """dy and winner (n, D_out, H_out, W_out, C), dx (n, D, H, W, C).

    Where windows overlap (add, dx starting at zero) and dy is not spread (below), each channel's dy is added into
    its winner's cell alone, found by that cell's distance from the window's corner: one add per value of dy (9
    selects per value before: 3x3 windows with stride 1 on 17x17x16, 0.023 -> 0.011 ms; ResNet-18's stride 2 on
    113x113x64, 3.22 -> 3.09; the same sums in the same order, so the same bits). Where they tile the input, each
    window cell takes its window's dy where its number is the winner's, a select per channel. With C <
    VECTOR_CHANNELS and windows that do not overlap along the width (s_w >= k_w), dy and the winners of an output
    row are first spread over an input row (column r*s_w + k gets window r's dy and winner - k; -1 between windows),
    and each window row (i, j) then takes dy where the spread winner is its own number (i*k_h + j)*k_w: one long
    select per input row instead of short loops over C."""
    k_d, k_h, k_w = window
    s_d, s_h, s_w = strides
    out_width, channels = grad_output.shape[3], grad_output.shape[4]
    columns = (out_width - 1) * s_w + k_w
    count = columns * channels
    spread_grad = np.zeros(count, dtype=grad_input.dtype)
    spread_cell = np.full(count, -1, dtype=winner.dtype)
    grad_columns, cell_columns = spread_grad.reshape((columns, channels)), spread_cell.reshape((columns, channels))
    zero = spread_grad[0]  # 0 of dx's dtype: a bare 0 would make each select float64
    spread = s_w >= k_w and channels < VECTOR_CHANNELS
    depth, height, width = grad_input.shape[1], grad_input.shape[2], grad_input.shape[3]
    flat_input = grad_input.reshape(-1)
    offsets = np.empty(k_d * k_h * k_w, dtype=np.int64)  # window cell t's distance from the window's corner
    for i in range(k_d):
        for j in range(k_h):
            for k in range(k_w):
                offsets[(i * k_h + j) * k_w + k] = ((i * height + j) * width + k) * channels
    for n in range(grad_output.shape[0]):
        for p in range(grad_output.shape[1]):
            for q in range(grad_output.shape[2]):
                grads, cells = grad_output[n, p, q], winner[n, p, q]
                if spread:
                    for r in range(out_width):
                        grad, cell = grads[r], cells[r]
                        for k in range(k_w):
                            into, into_cell = grad_columns[r * s_w + k], cell_columns[r * s_w + k]
                            for c in range(channels):
                                into[c] = grad[c]
                                into_cell[c] = cell[c] - k
                    number = 0
                    for i in range(k_d):
                        for j in range(k_h):
                            target = grad_input[n, p * s_d + i, q * s_h + j, :columns].reshape(count)
                            if add:
                                for m in range(count):
                                    target[m] += spread_grad[m] if spread_cell[m] == number else zero
                            else:
                                for m in range(count):
                                    target[m] = spread_grad[m] if spread_cell[m] == number else zero
                            number += k_w
                elif add:
                    # overlapping windows: each channel's dy added into its winner's cell alone, found by the
                    # cell's offset from the window's corner (one add per output value, not a select per cell)
                    corner_row = ((n * depth + p * s_d) * height + q * s_h) * width
                    for r in range(out_width):
                        grad, cell = grads[r], cells[r]
                        corner = (corner_row + r * s_w) * channels
                        for c in range(channels):
                            flat_input[corner + offsets[cell[c]] + c] += grad[c]
                else:
                    for r in range(out_width):
                        grad, cell = grads[r], cells[r]
                        number = 0
                        for i in range(k_d):
                            for j in range(k_h):
                                target = grad_input[n, p * s_d + i, q * s_h + j]
                                for k in range(k_w):
                                    here = target[r * s_w + k]
                                    for c in range(channels):
                                        here[c] = grad[c] if cell[c] == number else zero
                                    number += 1


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
