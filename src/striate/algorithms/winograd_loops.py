"""Winograd's tile transforms for `striate.algorithms.winograd`, compiled by numba: the tiles read straight from the
unpadded input and the output written straight into y, with no padded copy and no tile array in between.

F(m x m, 3 x 3) with a = m + 2 (Lavin & Gray 2015); B^T (a x a), A^T (m x a) as in `winograd.TRANSFORMS`. Each
2-D transform is two 1-D passes written out with the matrices' few non-zero coefficients, e.g. for F(4x4, 3x3)

    B^T s = (4 s0 - 5 s2 + s4,  s3 + s4 - 4 (s1 + s2),  4 (s1 - s2) - s3 + s4,
             2 (s3 - s1) - s2 + s4,  2 (s1 - s3) - s2 + s4,  4 s1 - 5 s3 + s5)
    A^T s = (s0 + s1 + s2 + s3 + s4,  s1 - s2 + 2 (s3 - s4),  s1 + s2 + 4 (s3 + s4),  s1 - s2 + 8 (s3 - s4) + s5)

and their transposes B s, A s for the gradients. The four passes:

    input_transform             V[(i, k), t] = (B^T d_t B)[i, k]       d_t: the tile of x, 0 outside x
    output_transform            y tile t     = A^T M_t A                cut at the output's border
    output_gradient_transform   dM[(i, k), t] = (A dY_t A^T)[i, k]    dY_t: 0 beyond the output's border
    input_gradient_transform    dx           = sum of B dV_t B^T        tiles added where they overlap, cut to x

Every vector s_j is a long contiguous run, so that the loop over it vectorizes (one over a few channels does not):

- along the rows of the image, one image row at a time: the row is first split by column phase
  (column t m + j to row j % m, block t + j // m), so that cell j of every tile of the row, s_j, is one run of
  tiles_wide * C numbers (`_split_row`; back the other way when writing y or dx);
- down the columns, on the row-transformed rows of one strip of tiles (tile row t_h: rows t_h m ... t_h m + a - 1
  of the padded image), where cell row i of every tile in the strip is again one run of tiles_wide * C numbers,
  as V, M, dM and dV store them.

Arrays: x, y, dy, dx as (n, rows, columns * channels); V, M, dM, dV as (a * a, tiles * channels), the tiles
numbered (image, tile row, tile column). The padding is `before` = (top, left) zero rows and columns; tiles reach
zeros past x on the other sides too.
"""

import numpy as np
from numba import njit, uint64


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _cell(place, j, q):
    """The index of number q of vector j at `place` = (rows, columns), a row and a first column for each j, in a 2-D
    array (unsigned: no wrap-around test in the loop)."""
    return place[0][j], uint64(place[1][j]) + uint64(q)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _line(start, step):
    """(start, start + step, ..., start + 5 step): the rows or columns of the six vectors at most."""
    return start, start + step, start + 2 * step, start + 3 * step, start + 4 * step, start + 5 * step


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _phases(tile, width):
    """Cell j of a tile in a row split by phase (row j % m, block j // m of `width` numbers): (rows, columns)."""
    rows = (0, 1 % tile, 2 % tile, 3 % tile, 4 % tile, 5 % tile)
    return rows, (0, (1 // tile) * width, (2 // tile) * width, (3 // tile) * width, (4 // tile) * width,
                  (5 // tile) * width)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _input_1d(a, src, at, dst, to, length):
    """dst[k] = sum over j of B^T[k, j] src[j], k, j < a (6 or 4): vector j of src at `at`, k of dst at `to`
    (`_cell`), each `length` numbers long."""
    two, four, five = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(5)
    if a == 6:
        for q in range(length):
            s0, s1, s2 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)]
            s3, s4, s5 = src[_cell(at, 3, q)], src[_cell(at, 4, q)], src[_cell(at, 5, q)]
            dst[_cell(to, 0, q)] = four * s0 - five * s2 + s4
            dst[_cell(to, 1, q)] = s3 + s4 - four * (s1 + s2)
            dst[_cell(to, 2, q)] = four * (s1 - s2) - s3 + s4
            dst[_cell(to, 3, q)] = two * (s3 - s1) - s2 + s4
            dst[_cell(to, 4, q)] = two * (s1 - s3) - s2 + s4
            dst[_cell(to, 5, q)] = four * s1 - five * s3 + s5
    else:
        for q in range(length):
            s0, s1, s2, s3 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)], src[_cell(at, 3, q)]
            dst[_cell(to, 0, q)] = s0 - s2
            dst[_cell(to, 1, q)] = s1 + s2
            dst[_cell(to, 2, q)] = s2 - s1
            dst[_cell(to, 3, q)] = s1 - s3


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _input_adjoint_1d(a, src, at, dst, to, length):
    """dst[j] += sum over k of B^T[k, j] src[k] (B applied, added to dst), placed as in `_input_1d`."""
    two, four, five = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(5)
    if a == 6:
        for q in range(length):
            s0, s1, s2 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)]
            s3, s4, s5 = src[_cell(at, 3, q)], src[_cell(at, 4, q)], src[_cell(at, 5, q)]
            dst[_cell(to, 0, q)] += four * s0
            dst[_cell(to, 1, q)] += four * (s2 - s1 + s5) + two * (s4 - s3)
            dst[_cell(to, 2, q)] += -five * s0 - four * (s1 + s2) - s3 - s4
            dst[_cell(to, 3, q)] += s1 - s2 + two * (s3 - s4) - five * s5
            dst[_cell(to, 4, q)] += s0 + s1 + s2 + s3 + s4
            dst[_cell(to, 5, q)] += s5
    else:
        for q in range(length):
            s0, s1, s2, s3 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)], src[_cell(at, 3, q)]
            dst[_cell(to, 0, q)] += s0
            dst[_cell(to, 1, q)] += s1 - s2 + s3
            dst[_cell(to, 2, q)] += s1 + s2 - s0
            dst[_cell(to, 3, q)] -= s3


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _output_1d(a, src, at, dst, to, length):
    """dst[k] = sum over j of A^T[k, j] src[j]: a inputs, m = a - 2 outputs, placed as in `_input_1d`."""
    two, four, eight = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(8)
    if a == 6:
        for q in range(length):
            s0, s1, s2 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)]
            s3, s4, s5 = src[_cell(at, 3, q)], src[_cell(at, 4, q)], src[_cell(at, 5, q)]
            near_sum, near_difference, far_sum, far_difference = s1 + s2, s1 - s2, s3 + s4, s3 - s4
            dst[_cell(to, 0, q)] = s0 + near_sum + far_sum
            dst[_cell(to, 1, q)] = near_difference + two * far_difference
            dst[_cell(to, 2, q)] = near_sum + four * far_sum
            dst[_cell(to, 3, q)] = near_difference + eight * far_difference + s5
    else:
        for q in range(length):
            s0, s1, s2, s3 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)], src[_cell(at, 3, q)]
            dst[_cell(to, 0, q)] = s0 + s1 + s2
            dst[_cell(to, 1, q)] = s1 - s2 - s3


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _output_adjoint_1d(a, src, at, dst, to, length):
    """dst[j] = sum over k of A^T[k, j] src[k] (A applied): m = a - 2 inputs, a outputs, placed as in
    `_input_1d`."""
    two, four, eight = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(8)
    if a == 6:
        for q in range(length):
            g0, g1, g2, g3 = src[_cell(at, 0, q)], src[_cell(at, 1, q)], src[_cell(at, 2, q)], src[_cell(at, 3, q)]
            even, odd = g0 + four * g2, two * g1 + eight * g3
            dst[_cell(to, 0, q)] = g0
            dst[_cell(to, 1, q)] = g0 + g1 + g2 + g3
            dst[_cell(to, 2, q)] = g0 - g1 + g2 - g3
            dst[_cell(to, 3, q)] = even + odd
            dst[_cell(to, 4, q)] = even - odd
            dst[_cell(to, 5, q)] = g3
    else:
        for q in range(length):
            g0, g1 = src[_cell(at, 0, q)], src[_cell(at, 1, q)]
            dst[_cell(to, 0, q)] = g0
            dst[_cell(to, 1, q)] = g0 + g1
            dst[_cell(to, 2, q)] = g0 - g1
            dst[_cell(to, 3, q)] = -g1


@njit(nogil=True, cache=True, boundscheck=False)
def _split_row(row, tile, channels, shift, phases):
    """phases[j % m, (j // m) C + c] = row[(j - shift) C + c] (0 outside row): a row (W * C) split by column phase."""
    width = row.shape[0] // channels
    zero = phases.dtype.type(0)
    for column in range(phases.shape[1] // channels * tile):
        phase, at = column % tile, column // tile * channels
        source = column - shift
        if 0 <= source < width:
            for c in range(channels):
                phases[phase, at + c] = row[source * channels + c]
        else:
            for c in range(channels):
                phases[phase, at + c] = zero


@njit(nogil=True, cache=True, boundscheck=False)
def input_transform(x, channels, tile, before, tiles_shape, v):
    """V = B^T d_t B for every tile t of x (n, H, W * C) zero-padded by `before` (top, left) rows and columns:
    v (a * a, P * C), P = n * tiles_high * tiles_wide."""
    a = tile + 2
    images, height = x.shape[:2]
    top, left = before
    tiles_high, tiles_wide = tiles_shape
    rows, length = tiles_high * tile + 2, tiles_wide * channels
    across = np.zeros((rows * a, length), dtype=v.dtype)  # d B, row by row
    phases = np.empty((tile, length + channels), dtype=v.dtype)
    split = _phases(tile, channels)
    for n in range(images):
        for row in range(rows):
            if 0 <= row - top < height:
                _split_row(x[n, row - top], tile, channels, left, phases)
                _input_1d(a, phases, split, across, (_line(row * a, 1), _line(0, 0)), length)
            else:
                across[row * a : (row + 1) * a] = 0
        for tile_row in range(tiles_high):
            p = (n * tiles_high + tile_row) * tiles_wide
            for k in range(a):
                _input_1d(a, across, (_line(tile_row * tile * a + k, a), _line(0, 0)), v,
                          (_line(k, a), _line(p * channels, 0)), length)


@njit(nogil=True, cache=True, boundscheck=False)
def output_transform(m, channels, tile, tiles_shape, y):
    """y (n, H_out, W_out * C_out) = A^T M_t A for every tile t, M as m (a * a, P * C_out), cut at the border."""
    a = tile + 2
    images, out_high, row_length = y.shape
    tiles_high, tiles_wide = tiles_shape
    length = tiles_wide * channels
    down = np.empty((tile * a, length), dtype=y.dtype)  # A^T M, the strip's rows
    phases = np.empty((tile, length), dtype=y.dtype)
    for n in range(images):
        for tile_row in range(tiles_high):
            p = (n * tiles_high + tile_row) * tiles_wide
            for k in range(a):
                _output_1d(a, m, (_line(k, a), _line(p * channels, 0)), down, (_line(k, a), _line(0, 0)), length)
            for i in range(min(tile, out_high - tile_row * tile)):
                _output_1d(a, down, (_line(i * a, 1), _line(0, 0)), phases, (_line(0, 1), _line(0, 0)), length)
                target = y[n, tile_row * tile + i]
                for column in range(row_length // channels):
                    at = column // tile * channels
                    for c in range(channels):
                        target[column * channels + c] = phases[column % tile, at + c]


@njit(nogil=True, cache=True, boundscheck=False)
def output_gradient_transform(grad, channels, tile, tiles_shape, dm):
    """dM = A dY_t A^T for every tile t of grad (n, H_out, W_out * C_out), zero beyond its border:
    dm (a * a, P * C_out)."""
    a = tile + 2
    images, out_high = grad.shape[:2]
    tiles_high, tiles_wide = tiles_shape
    length = tiles_wide * channels
    across = np.zeros((tiles_high * tile * a, length), dtype=dm.dtype)  # dY A^T, row by row; 0 below H_out
    phases = np.empty((tile, length), dtype=dm.dtype)
    for n in range(images):
        for row in range(out_high):
            _split_row(grad[n, row], tile, channels, 0, phases)
            _output_adjoint_1d(a, phases, (_line(0, 1), _line(0, 0)), across, (_line(row * a, 1), _line(0, 0)),
                               length)
        for tile_row in range(tiles_high):
            p = (n * tiles_high + tile_row) * tiles_wide
            for k in range(a):
                _output_adjoint_1d(a, across, (_line(tile_row * tile * a + k, a), _line(0, 0)), dm,
                                   (_line(k, a), _line(p * channels, 0)), length)


@njit(nogil=True, cache=True, boundscheck=False)
def input_gradient_transform(dv, channels, tile, before, tiles_shape, grad_input):
    """grad_input (n, H, W * C) = the sum over tiles t of B dV_t B^T put back where tile t was read, without the
    `before` (top, left) padding (and anything past x); dV as dv (a * a, P * C). grad_input is overwritten."""
    a = tile + 2
    images, height, row_length = grad_input.shape
    top, left = before
    tiles_high, tiles_wide = tiles_shape
    rows, length = tiles_high * tile + 2, tiles_wide * channels
    up = np.empty((rows * a, length), dtype=dv.dtype)  # B dV, strips added where they overlap
    # the cells j of the tiles in a row, by phase: j < m in rows 0 ... m - 1, j >= m (on the next tile's first
    # cells) in rows m, m + 1, one block of C further on; added together when the row is put back
    phases = np.empty((a, length + channels), dtype=dv.dtype)
    split = (_line(0, 1), _phases(tile, channels)[1])
    zero = dv.dtype.type(0)
    for n in range(images):
        up[:] = zero
        for tile_row in range(tiles_high):
            p = (n * tiles_high + tile_row) * tiles_wide
            for k in range(a):
                _input_adjoint_1d(a, dv, (_line(k, a), _line(p * channels, 0)), up,
                                  (_line(tile_row * tile * a + k, a), _line(0, 0)), length)
        for source in range(height):
            row, target = source + top, grad_input[n, source]
            if row >= rows:
                target[:] = zero
                continue
            phases[:] = zero
            _input_adjoint_1d(a, up, (_line(row * a, 1), _line(0, 0)), phases, split, length)
            for column in range(row_length // channels):
                padded = column + left
                phase, at = padded % tile, padded // tile * channels
                if phase < 2:
                    for c in range(channels):
                        target[column * channels + c] = phases[phase, at + c] + phases[tile + phase, at + c]
                else:
                    for c in range(channels):
                        target[column * channels + c] = phases[phase, at + c]
