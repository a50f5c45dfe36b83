"""The tile transforms of Winograd convolution, compiled by numba: each tile read once, transformed in the cache.

`striate.algorithms.winograd` multiplies in the transformed domain with BLAS; around those products every tile
of an activation is transformed by a small constant matrix M on both sides (M z M^T). Written as NumPy products
over the whole chunk, each transform is two passes of a 6-row GEMM over a tile array nine-fourths the size of
the activation, which BLAS runs far below its speed, plus the copies that cut the tiles out; here a tile is
gathered, transformed and stored in one go. The matrices are Lavin & Gray's, written out as sums (their zeros
skipped), one value per channel at a time in the innermost loop, which the compiler turns into vector
instructions over the channels (contiguous in channels-last data):

    transform   matrix (F(4x4, 3x3); F(2x2, 3x3) alike)   maps        used for
    INPUT       B^T (6 x 6)                               6 -> 6      V = B^T d B      (input tiles)
    OUTPUT      A^T (4 x 6)                               6 -> 4      Y = A^T M A      (output tiles)
    GRADIENT    A   (6 x 4)                               4 -> 6      dM = A dY A^T    (output gradient tiles)
    ADJOINT     B   (6 x 6)                               6 -> 6      dd = B dV B^T    (input gradient tiles)

    gather_transform:   out[:, :, p] = M d_p M^T for tile p = (n, t_h, t_w) of x, d_p[k, l] = x[n, t_h s - top + k,
                        t_w s - left + l] (cells outside x count as zero: its padding)
    transform_scatter:  x[n, t_h s - top + k, t_w s - left + l] (+)= (M z_p M^T)[k, l] for every tile p of z, cells
                        outside x dropped; with add=True overlapping tiles add up, in tile order

A tile's sums run in a fixed order, so the result does not depend on how the batch is cut into chunks.
"""

import numpy as np
from numba import njit

INPUT, OUTPUT, GRADIENT, ADJOINT = 0, 1, 2, 3


def sizes(kind, tile):
    """(values in, values out) of transform `kind` for F(tile x tile, 3x3)."""
    a = tile + 2
    return {INPUT: (a, a), OUTPUT: (a, tile), GRADIENT: (tile, a), ADJOINT: (a, a)}[kind]


@njit(nogil=True, cache=True, inline="always")
def _transform(kind, tile, src, column, c, dst, row):
    """dst[row, i, c] = sum over k of M[i, k] src[k, column, c], M the matrix of `kind` for F(tile x tile, 3x3).

    The constants take dst's dtype (a bare 4 would make float32 arithmetic float64)."""
    two, four, five, eight = dst.dtype.type(2), dst.dtype.type(4), dst.dtype.type(5), dst.dtype.type(8)
    if tile == 4:
        if kind == INPUT:
            v0, v1, v2, v3, v4, v5 = (src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c],
                                      src[4, column, c], src[5, column, c])
            dst[row, 0, c] = four * v0 - five * v2 + v4
            dst[row, 1, c] = -four * v1 - four * v2 + v3 + v4
            dst[row, 2, c] = four * v1 - four * v2 - v3 + v4
            dst[row, 3, c] = -two * v1 - v2 + two * v3 + v4
            dst[row, 4, c] = two * v1 - v2 - two * v3 + v4
            dst[row, 5, c] = four * v1 - five * v3 + v5
        elif kind == OUTPUT:
            v0, v1, v2, v3, v4, v5 = (src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c],
                                      src[4, column, c], src[5, column, c])
            dst[row, 0, c] = v0 + v1 + v2 + v3 + v4
            dst[row, 1, c] = v1 - v2 + two * v3 - two * v4
            dst[row, 2, c] = v1 + v2 + four * v3 + four * v4
            dst[row, 3, c] = v1 - v2 + eight * v3 - eight * v4 + v5
        elif kind == GRADIENT:
            w0, w1, w2, w3 = src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c]
            dst[row, 0, c] = w0
            dst[row, 1, c] = w0 + w1 + w2 + w3
            dst[row, 2, c] = w0 - w1 + w2 - w3
            dst[row, 3, c] = w0 + two * w1 + four * w2 + eight * w3
            dst[row, 4, c] = w0 - two * w1 + four * w2 - eight * w3
            dst[row, 5, c] = w3
        else:
            v0, v1, v2, v3, v4, v5 = (src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c],
                                      src[4, column, c], src[5, column, c])
            dst[row, 0, c] = four * v0
            dst[row, 1, c] = -four * v1 + four * v2 - two * v3 + two * v4 + four * v5
            dst[row, 2, c] = -five * v0 - four * v1 - four * v2 - v3 - v4
            dst[row, 3, c] = v1 - v2 + two * v3 - two * v4 - five * v5
            dst[row, 4, c] = v0 + v1 + v2 + v3 + v4
            dst[row, 5, c] = v5
    else:
        if kind == INPUT:
            v0, v1, v2, v3 = src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c]
            dst[row, 0, c] = v0 - v2
            dst[row, 1, c] = v1 + v2
            dst[row, 2, c] = v2 - v1
            dst[row, 3, c] = v1 - v3
        elif kind == OUTPUT:
            v0, v1, v2, v3 = src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c]
            dst[row, 0, c] = v0 + v1 + v2
            dst[row, 1, c] = v1 - v2 - v3
        elif kind == GRADIENT:
            w0, w1 = src[0, column, c], src[1, column, c]
            dst[row, 0, c] = w0
            dst[row, 1, c] = w0 + w1
            dst[row, 2, c] = w0 - w1
            dst[row, 3, c] = -w1
        else:
            v0, v1, v2, v3 = src[0, column, c], src[1, column, c], src[2, column, c], src[3, column, c]
            dst[row, 0, c] = v0
            dst[row, 1, c] = v1 - v2 + v3
            dst[row, 2, c] = -v0 + v1 + v2
            dst[row, 3, c] = -v3


@njit(nogil=True, cache=True, boundscheck=False)
def _two_sided(kind, tile, source, half, result):
    """result[i, j] = (M source M^T)[i, j] through half[m, i] = (M source)[i, m]: (b, b, C) -> (a, a, C)."""
    channels = source.shape[2]
    for m in range(source.shape[1]):
        for c in range(channels):
            _transform(kind, tile, source, m, c, half, m)
    for i in range(result.shape[0]):
        for c in range(channels):
            _transform(kind, tile, half, i, c, result, i)


@njit(nogil=True, cache=True, boundscheck=False)
def gather_transform(x, kind, tile, top, left, step, tiles_high, tiles_wide, out):
    """out (a, a, n * tiles_high * tiles_wide, C) = M d M^T for every b x b tile d of x (n, H, W, C)."""
    images, height, width, channels = x.shape
    b, a = out.shape[0] - 2 if kind == GRADIENT else out.shape[0], out.shape[0]
    source = np.zeros((b, b, channels), dtype=out.dtype)
    half = np.empty((b, a, channels), dtype=out.dtype)
    result = np.empty((a, a, channels), dtype=out.dtype)
    for n in range(images):
        for th in range(tiles_high):
            for tw in range(tiles_wide):
                for k in range(b):
                    row = th * step - top + k
                    for m in range(b):
                        column = tw * step - left + m
                        if 0 <= row < height and 0 <= column < width:
                            source[k, m] = x[n, row, column]
                        else:
                            source[k, m] = 0
                _two_sided(kind, tile, source, half, result)
                p = (n * tiles_high + th) * tiles_wide + tw
                for i in range(a):
                    for j in range(a):
                        out[i, j, p] = result[i, j]


@njit(nogil=True, cache=True, boundscheck=False)
def transform_scatter(z, kind, tile, top, left, step, tiles_high, tiles_wide, out, add):
    """For every tile p of z (a, a, P, C): M z_p M^T (b x b) written (or added, add=True) into out (n, H, W, C)."""
    a = z.shape[0]
    b = a - 2 if kind == OUTPUT else a
    height, width, channels = out.shape[1], out.shape[2], out.shape[3]
    source = np.empty((a, a, channels), dtype=z.dtype)
    half = np.empty((a, b, channels), dtype=z.dtype)
    result = np.empty((b, b, channels), dtype=z.dtype)
    for p in range(z.shape[2]):
        n, rest = p // (tiles_high * tiles_wide), p % (tiles_high * tiles_wide)
        th, tw = rest // tiles_wide, rest % tiles_wide
        for i in range(a):
            for j in range(a):
                source[i, j] = z[i, j, p]
        _two_sided(kind, tile, source, half, result)
        for k in range(b):
            row = th * step - top + k
            if row < 0 or row >= height:
                continue
            for m in range(b):
                column = tw * step - left + m
                if 0 <= column < width:
                    if add:
                        out[n, row, column] += result[k, m]
                    else:
                        out[n, row, column] = result[k, m]
