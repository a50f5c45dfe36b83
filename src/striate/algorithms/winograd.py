"""Winograd minimal filtering F(m x m, 3 x 3) for 2-D 3x3 stride-1 convolutions (Lavin & Gray 2015).

Same signature and result as `striate.algorithms.direct`, for 2-D kernels of 3x3 cells with stride 1 and
dilation 1 (any groups). The output is cut into m x m tiles; tile t of the output needs the
a x a = (m + 2) x (m + 2) input tile d_t, and

    Y_t = A^T [ sum over input channels c of  U[c, o] * V[c, t] ] A,    U = G g G^T,   V = B^T d_t B

where * is elementwise over the a x a transformed cells. For each of the a*a cells the sum over channels is
one matrix product (tiles x C_in) @ (C_in x C_out), so the whole layer is a*a batched GEMMs instead of
nine: multiplies per output fall from 9 C_in C_out to (a/m)^2 C_in C_out, a saving of 2.25x for m = 2
(F(2x2, 3x3), a = 4) and 4x for m = 4 (F(4x4, 3x3), a = 6).

Both gradients are the exact adjoints of that bilinear map, so they are Winograd too, with the same saving:

    dM_t = A dY_t A^T                         (the output gradient of tile t, in the transformed domain)
    input gradient:   dd_t = B [ sum over o of U[c, o] * dM[o, t] ] B^T, tiles added where they overlap
    kernel gradient:  dg   = G^T [ sum over tiles t of V[c, t] * dM[o, t] ] G

When both gradients are wanted, `conv_gradients` computes each chunk's dM once for the two.

The tile transforms are compiled loops (`striate.algorithms.winograd_loops`, the coefficients written out): V is
transformed straight from the unpadded input, the output tiles written straight into y, dM read straight from dY
and the input gradient's tiles added straight into dx. So the algorithm also takes the zero padding itself
(`padding`: one (before, after) pair per axis, `PADS_WITH_ZEROS`): tiles read zeros where they cross it, and the
input gradient leaves its cells out; the padded input never exists. Only the kernel's transforms G g G^T and
G^T dU G, a few numbers, are NumPy products.

F(4x4) loses more float32 precision than F(2x2) (its transforms hold 4s, 8s and 1/24s): relative errors
near 1e-5 against 1e-6; `explain_algorithms` reports both.

The batch runs in chunks of a few MiB of tiles, or of at least MIN_CHUNK_TILES tiles where the transformed kernel
outgrows the cache (`_chunk_budget`), on striate's threads (`striate.algorithms.chunking`); in the
forward pass an image whose tiles alone exceed that runs in parts of its tile rows (`image_and_row_chunks`), each
reading the input rows its tiles cover.
"""

import math

import numpy as np

from striate.algorithms import winograd_loops
from striate.algorithms.chunking import batch_chunks, image_and_row_chunks, split_batch, sum_in_order

# Lavin & Gray 2015, section 4: the matrices of F(2x2, 3x3) and F(4x4, 3x3)
TRANSFORMS = {
    2: dict(
        BT=[[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        G=[[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
        AT=[[1, 1, 1, 0], [0, 1, -1, -1]],
    ),
    4: dict(
        BT=[[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
            [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
        G=[[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
           [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
        AT=[[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    ),
}
DEFAULT_TILE = 4
CHUNK_BYTES = 3 * 2**20  # the scratch of one chunk's tiles, where the transformed kernel stays in the cache ...
KERNEL_IN_CACHE_BYTES = 2**20  # ... which it does up to this size (a^2 Cg C_out values) ...
MIN_CHUNK_TILES = 256  # ... and a larger one is read once per chunk: a chunk then takes at least this many tiles
PADS_WITH_ZEROS = True  # every pass takes `padding` (see the module's docstring)


def check_case(kernel_shape, strides, dilation, name="winograd"):
    """Raise ValueError unless the case is a 2-D 3x3 kernel with stride 1 and dilation 1."""
    kernel_size = tuple(kernel_shape[:-2])
    if kernel_size != (3, 3) or tuple(strides) != (1, 1) or tuple(dilation) != (1, 1):
        raise ValueError(f"{name} needs a 2-D 3x3 kernel, stride 1 and dilation 1; received "
                         f"kernel_size={kernel_size}, strides={tuple(strides)}, dilation={tuple(dilation)}")


def _matrices(tile, dtype):
    if tile not in TRANSFORMS:
        raise ValueError(f"winograd: tile must be one of {sorted(TRANSFORMS)} (F(2x2, 3x3) or F(4x4, 3x3)); "
                         f"received {tile!r}")
    return {name: np.asarray(matrix, dtype=dtype) for name, matrix in TRANSFORMS[tile].items()}


def _two_sided(matrix, z):
    """matrix @ z @ matrix^T over the first two axes of z (a, a, ...): (b, a) -> (b, b, ...), as two GEMMs (the
    kernel's transforms)."""
    a, rest = z.shape[0], z.shape[2:]
    left = (matrix @ z.reshape(a, -1)).reshape(matrix.shape[0], a, -1)  # (b, a, R)
    return np.matmul(matrix, left).reshape(matrix.shape[0], matrix.shape[0], *rest)  # (b, b, R)


def _grouped_product(v, u, groups):
    """sum over channels per transformed cell: v (a, a, P, C_in) with u (a, a, Cg, C_out) -> (a, a, P, C_out)."""
    a = v.shape[0]
    if groups == 1:
        return np.matmul(v.reshape(a * a, -1, v.shape[-1]), u.reshape(a * a, *u.shape[2:])).reshape(
            a, a, v.shape[2], u.shape[-1])
    per_group_in, per_group_out = u.shape[2], u.shape[3] // groups
    vg = v.reshape(a * a, -1, groups, per_group_in).transpose(0, 2, 1, 3)  # (aa, G, P, Cg)
    ug = u.reshape(a * a, per_group_in, groups, per_group_out).transpose(0, 2, 1, 3)  # (aa, G, Cg, Cog)
    out = np.matmul(vg, ug)  # (aa, G, P, Cog)
    return out.transpose(0, 2, 1, 3).reshape(a, a, v.shape[2], u.shape[-1])


def _tiles_shape(out_spatial, tile):
    return tuple(math.ceil(n / tile) for n in out_spatial)


def _bytes_per_image(tiles_shape, channels, tile, itemsize):
    """The scratch of one image's tiles: V, M and the products, a^2 values per tile and channel each."""
    return math.prod(tiles_shape) * (tile + 2) ** 2 * channels * itemsize * 3


def _chunk_budget(kernel_shape, tiles_shape, channels, tile, itemsize):
    """The scratch budget of one chunk (see `_bytes_per_image`; channels: the larger of C_in and C_out).

    Each chunk's a^2 products (P tiles, Cg) @ (Cg, C_out) read all of the transformed kernel u, a^2 Cg C_out values:
    MIN_CHUNK_TILES tiles or more per chunk where u outgrows the cache, so that it is read once per that many tiles,
    not once per image of a few tiles, which alone fit CHUNK_BYTES: the fewest whole images that hold that many, or,
    for an image of more tiles, that many tiles' worth (the forward then cuts the image into parts of its tile rows
    of about that size, as it cuts any image larger than the budget). 8 images, one thread, the forward: 14x14, 256
    channels (16 tiles an image, u 9.4 MB) 12.5 -> 8.4 ms; 7x7, 512 channels (4 tiles, u 38 MB) 26.8 -> 19.0 ms;
    28x28, 128 channels (49 tiles, u 2.4 MB) 8.4 -> 7.5 ms; 56x56, 64 channels (u 0.6 MB) keeps CHUNK_BYTES (7.0
    ms; 16 MiB chunks: 9.6). Both gradients of 14x14x256: 48.2 -> 24.8 ms (docs/algorithms.md)."""
    a = tile + 2
    if a * a * math.prod(kernel_shape[-2:]) * itemsize <= KERNEL_IN_CACHE_BYTES:
        return CHUNK_BYTES
    tiles, per_image = math.prod(tiles_shape), _bytes_per_image(tiles_shape, channels, tile, itemsize)
    if tiles >= MIN_CHUNK_TILES:
        return max(CHUNK_BYTES, MIN_CHUNK_TILES * per_image // tiles)
    return max(CHUNK_BYTES, math.ceil(MIN_CHUNK_TILES / tiles) * per_image)


def _chunks(batch, tiles_shape, kernel_shape, channels, tile, itemsize):
    return batch_chunks(batch, _bytes_per_image(tiles_shape, channels, tile, itemsize),
                        _chunk_budget(kernel_shape, tiles_shape, channels, tile, itemsize))


def _before(padding):
    """The zero rows and columns before x: (top, left)."""
    return (0, 0) if padding is None else (padding[0][0], padding[1][0])


def conv_forward(x, kernel, strides, dilation, groups, tile=DEFAULT_TILE, padding=None):
    """x (N, H, W, C_in) zero-padded to (N, H', W', C_in), kernel (3, 3, Cg, C_out) -> y (N, H' - 2, W' - 2, C_out),
    by F(tile x tile, 3x3)."""
    check_case(kernel.shape, strides, dilation)
    dtype = np.result_type(x, kernel)
    t = _matrices(tile, dtype)
    before = _before(padding)
    padded_spatial = [n + sum(pair) for n, pair in zip(x.shape[1:3], padding or ((0, 0), (0, 0)))]
    out_spatial = (padded_spatial[0] - 2, padded_spatial[1] - 2)
    tiles_shape = _tiles_shape(out_spatial, tile)
    channels_out = kernel.shape[-1]
    u = _two_sided(t["G"], kernel.astype(dtype, copy=False))  # (a, a, Cg, C_out)
    y = np.empty((x.shape[0], *out_spatial, channels_out), dtype=dtype)
    x = np.ascontiguousarray(x, dtype=dtype)

    def forward_chunk(part):
        images, tile_rows = part
        first, last, _ = tile_rows.indices(tiles_shape[0])
        # the tile rows first ... last - 1 of these images: the tiles of the input rows they read, the top padding
        # what is left of it above them
        start, stop = max(0, first * tile - before[0]), max(0, min(x.shape[1], last * tile + 2 - before[0]))
        inputs = x[images, start:stop]
        v = _input_tiles(inputs, tile, (last - first, tiles_shape[1]), (max(0, before[0] - first * tile), before[1]))
        m = _grouped_product(v, u, groups)  # (a, a, P, C_out)
        rows = y[images, first * tile : last * tile].reshape(inputs.shape[0], -1, y.shape[2] * channels_out)
        winograd_loops.output_transform(_cells(m), channels_out, tile, (last - first, tiles_shape[1]), rows)

    channels = max(x.shape[-1], channels_out)
    parts = image_and_row_chunks(x.shape[0], tiles_shape[0], _bytes_per_image(tiles_shape, channels, tile,
                                                                              dtype.itemsize),
                                 _chunk_budget(kernel.shape, tiles_shape, channels, tile, dtype.itemsize))
    split_batch(forward_chunk, parts, work=y.size * kernel.shape[-2] * 9)
    return y


def _cells(z):
    """(a, a, P, C) -> the contiguous (a * a, P * C) the compiled loops read and write."""
    return np.ascontiguousarray(z).reshape(z.shape[0] * z.shape[1], -1)


def _input_tiles(x, tile, tiles_shape, before):
    """V = B^T d B for every tile d of x (n, H, W, C) zero-padded by `before` (top, left): (a, a, P, C)."""
    a, (n, height, width, channels) = tile + 2, x.shape
    v = np.empty((a, a, n * math.prod(tiles_shape), channels), dtype=x.dtype)
    winograd_loops.input_transform(x.reshape(n, height, width * channels), channels, tile, before, tiles_shape,
                                   _cells(v))
    return v


def _transformed_output_gradient(grad, tile, tiles_shape):
    """dM = A dY A^T per tile: grad (n, Ho, Wo, C_out) -> (a, a, P, C_out)."""
    a, (n, out_high, _, channels) = tile + 2, grad.shape
    dm = np.empty((a, a, n * math.prod(tiles_shape), channels), dtype=grad.dtype)
    winograd_loops.output_gradient_transform(grad.reshape(n, out_high, -1), channels, tile, tiles_shape, _cells(dm))
    return dm


def _input_gradient_into(dv, tile, tiles_shape, before, target):
    """target (n, H, W, C_in) = the tiles B dV B^T (dV: (a, a, P, C_in)) added where they were read, without the
    padding's cells."""
    n, height = target.shape[:2]
    winograd_loops.input_gradient_transform(_cells(dv), target.shape[-1], tile, before, tiles_shape,
                                            target.reshape(n, height, -1))


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, tile=DEFAULT_TILE,
                        padding=None):
    """dLoss/dx (N, H, W, C_in) from dLoss/dy (N, H' - 2, W' - 2, C_out): the adjoint of the forward tiles, without
    the padding's cells."""
    check_case(kernel.shape, strides, dilation)
    before = _before(padding)
    dtype = np.result_type(grad_output, kernel)
    t = _matrices(tile, dtype)
    tiles_shape = _tiles_shape(grad_output.shape[1:3], tile)
    u = _two_sided(t["G"], kernel.astype(dtype, copy=False))  # (a, a, Cg, C_out)
    # the transposed filters: per transformed cell, (C_out, Cg), read by the same grouped product
    u_transposed = _adjoint_filters(u, groups)
    channels_in = input_shape[-1]
    grad_input = np.empty(input_shape, dtype=dtype)  # every image is written whole below
    grad_output = np.ascontiguousarray(grad_output, dtype=dtype)

    def input_gradient_chunk(images):
        dm = _transformed_output_gradient(grad_output[images], tile, tiles_shape)  # (a, a, P, C_out)
        dv = _grouped_product(dm, u_transposed, groups)  # (a, a, P, C_in)
        _input_gradient_into(dv, tile, tiles_shape, before, grad_input[images])

    chunks = _chunks(grad_output.shape[0], tiles_shape, kernel.shape, max(channels_in, kernel.shape[-1]), tile,
                     dtype.itemsize)
    split_batch(input_gradient_chunk, chunks, work=grad_output.size * kernel.shape[-2] * 9)
    return grad_input


def _adjoint_filters(u, groups):
    """u (a, a, Cg, C_out) -> (a, a, Cog, G * Cg): group g's (Cg, Cog) block transposed, for the input gradient."""
    a, _, per_group_in, channels_out = u.shape
    per_group_out = channels_out // groups
    blocks = u.reshape(a, a, per_group_in, groups, per_group_out).transpose(0, 1, 4, 3, 2)  # (a, a, Cog, G, Cg)
    return np.ascontiguousarray(blocks.reshape(a, a, per_group_out, groups * per_group_in))


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, tile=DEFAULT_TILE, padding=None):
    """dLoss/dkernel (3, 3, Cg, C_out): G^T [sum over tiles of V * dM] G, the adjoint for the filters."""
    check_case(kernel_shape, strides, dilation)
    dtype = np.result_type(x, grad_output)
    t = _matrices(tile, dtype)
    tiles_shape = _tiles_shape(grad_output.shape[1:3], tile)
    before = _before(padding)
    x, grad_output = (np.ascontiguousarray(z, dtype=dtype) for z in (x, grad_output))

    def kernel_gradient_chunk(images):
        dm = _transformed_output_gradient(grad_output[images], tile, tiles_shape)
        v = _input_tiles(x[images], tile, tiles_shape, before)
        return _transformed_kernel_gradient(v, dm, kernel_shape, groups)

    chunks = _chunks(x.shape[0], tiles_shape, kernel_shape, max(x.shape[-1], kernel_shape[-1]), tile, dtype.itemsize)
    du = sum_in_order(split_batch(kernel_gradient_chunk, chunks, work=grad_output.size * kernel_shape[-2] * 9))
    return _kernel_from_transformed(du, kernel_shape, t)


def _transformed_kernel_gradient(v, dm, kernel_shape, groups):
    """sum over the tiles of a chunk of V * dM per transformed cell, V (a, a, P, C_in) and dM (a, a, P, C_out):
    (aa, G, Cg, Cog)."""
    cells = v.shape[0] * v.shape[1]
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups
    v = v.reshape(cells, -1, groups, per_group_in).transpose(0, 2, 3, 1)  # (aa, G, Cg, P)
    dm = dm.reshape(cells, -1, groups, per_group_out).transpose(0, 2, 1, 3)  # (aa, G, P, Cog)
    return np.matmul(v, dm)


def _kernel_from_transformed(du, kernel_shape, t):
    """G^T du G: the summed (aa, G, Cg, Cog) products back to a (3, 3, Cg, C_out) kernel gradient."""
    a = t["G"].shape[0]
    du = du.transpose(0, 2, 1, 3).reshape(a, a, kernel_shape[-2], kernel_shape[-1])
    return _two_sided(t["G"].T, du)


def conv_gradients(x, grad_output, kernel, strides, dilation, groups, tile=DEFAULT_TILE, padding=None):
    """(dLoss/dx, dLoss/dkernel) in one pass over the chunks: each chunk's dM = A dY A^T is computed once and
    serves both gradients (`conv_input_gradient` and `conv_kernel_gradient` would each compute it)."""
    check_case(kernel.shape, strides, dilation)
    dtype = np.result_type(x, grad_output, kernel)
    t = _matrices(tile, dtype)
    tiles_shape = _tiles_shape(grad_output.shape[1:3], tile)
    u_transposed = _adjoint_filters(_two_sided(t["G"], kernel.astype(dtype, copy=False)), groups)
    grad_input = np.empty(x.shape, dtype=dtype)  # every image is written whole below
    before = _before(padding)
    x, grad_output = (np.ascontiguousarray(z, dtype=dtype) for z in (x, grad_output))

    def gradients_chunk(images):
        dm = _transformed_output_gradient(grad_output[images], tile, tiles_shape)  # (a, a, P, C_out)
        _input_gradient_into(_grouped_product(dm, u_transposed, groups), tile, tiles_shape, before,
                             grad_input[images])
        v = _input_tiles(x[images], tile, tiles_shape, before)
        return _transformed_kernel_gradient(v, dm, kernel.shape, groups)

    chunks = _chunks(x.shape[0], tiles_shape, kernel.shape, max(x.shape[-1], kernel.shape[-1]), tile, dtype.itemsize)
    du = sum_in_order(split_batch(gradients_chunk, chunks, work=2 * grad_output.size * kernel.shape[-2] * 9))
    return grad_input, _kernel_from_transformed(du, kernel.shape, t)
