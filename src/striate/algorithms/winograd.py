"""Winograd minimal filtering F(m x m, 3 x 3) for 2-D 3x3 stride-1 convolutions (Lavin & Gray 2015).

Same signature and result as `striate.algorithms.direct`, for 2-D kernels of 3x3 cells with stride 1 and
dilation 1 (any groups). The output is cut into m x m tiles; tile t of the output needs the
a x a = (m + 2) x (m + 2) input tile d_t, and

    Y_t = A^T [ sum over input channels c of  U[c, o] * V[c, t] ] A,    U = G g G^T,   V = B^T d_t B

where * is elementwise over the a x a transformed cells. For each of the a*a cells the sum over channels is
one matrix product (tiles x C_in) @ (C_in x C_out), so the whole layer is a*a batched GEMMs instead of
nine: multiplies per output fall from 9 C_in C_out to (a/m)^2 C_in C_out, a saving of 2.25x for m = 2
(F(2x2, 3x3), a = 4) and 4x for m = 4 (F(4x4, 3x3), a = 6). The transforms are small dense products.

Both gradients are the exact adjoints of that bilinear map, so they are Winograd too, with the same saving:

    dM_t = A dY_t A^T                         (the output gradient of tile t, in the transformed domain)
    input gradient:   dd_t = B [ sum over o of U[c, o] * dM[o, t] ] B^T, tiles added where they overlap
    kernel gradient:  dg   = G^T [ sum over tiles t of V[c, t] * dM[o, t] ] G

When both gradients are wanted, `conv_gradients` computes each chunk's dM once for the two.

The tiles are copied from the input chunk by chunk anyway, so the algorithm also takes the zero padding itself
(`padding`: one (before, after) pair per axis, `PADS_WITH_ZEROS`): each chunk is copied into zeros at the
padding's offset while its tiles are cut, and the input gradient is cut back out of the padded tiles; the
padded input never exists as a whole.

F(4x4) loses more float32 precision than F(2x2) (its transforms hold 4s, 8s and 1/24s): relative errors
near 1e-5 against 1e-6; `explain_algorithms` reports both.

The batch runs in chunks of a few MiB of tiles, on striate's threads (`striate.algorithms.chunking`).
"""

import math

import numpy as np

from striate.algorithms.chunking import batch_chunks, split_batch

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
CHUNK_BYTES = 3 * 2**20
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
    """matrix @ z @ matrix^T over the first two axes of z (a, a, ...): (b, a) -> (b, b, ...), as two GEMMs."""
    a, rest = z.shape[0], z.shape[2:]
    left = (matrix @ z.reshape(a, -1)).reshape(matrix.shape[0], a, -1)  # (b, a, R)
    return np.matmul(matrix, left).reshape(matrix.shape[0], matrix.shape[0], *rest)  # (b, b, R)


def _tiles(x, tile, tiles_shape, before=(0, 0)):
    """The overlapping (a x a) input tiles of x (n, H, W, C) zero-padded by `before` rows and columns, stride m:
    (a, a, n, th, tw, C), copied."""
    a = tile + 2
    n, channels = x.shape[0], x.shape[-1]
    height, width = (t * tile + 2 for t in tiles_shape)
    if x.shape[1:3] != (height, width) or any(before):  # zeros around x, so that the last tiles are whole
        padded = np.zeros((n, height, width, channels), dtype=x.dtype)
        (top, left), reach_h, reach_w = before, min(height - before[0], x.shape[1]), min(width - before[1], x.shape[2])
        padded[:, top : top + reach_h, left : left + reach_w] = x[:, :reach_h, :reach_w]
        x = padded
    sn, sh, sw, sc = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, shape=(a, a, n, *tiles_shape, channels), strides=(sh, sw, sn, tile * sh, tile * sw, sc), writeable=False
    )
    return np.ascontiguousarray(view)


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


def _chunks(batch, tiles_shape, channels, tile, itemsize):
    bytes_per_image = math.prod(tiles_shape) * (tile + 2) ** 2 * channels * itemsize * 3
    return batch_chunks(batch, bytes_per_image, CHUNK_BYTES)


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

    def forward_chunk(images):
        part = x[images]
        v = _two_sided(t["BT"], _tiles(part, tile, tiles_shape, before))  # (a, a, n, th, tw, C_in)
        v = v.reshape(*v.shape[:2], -1, v.shape[-1])
        m = _grouped_product(v, u, groups)  # (a, a, P, C_out)
        out = _two_sided(t["AT"], m).reshape(tile, tile, part.shape[0], *tiles_shape, channels_out)
        out = out.transpose(2, 3, 0, 4, 1, 5)  # (n, th, m, tw, m, C_out): tile rows, then cells within a tile
        if out_spatial == (tiles_shape[0] * tile, tiles_shape[1] * tile):  # whole tiles: one copy into y
            np.copyto(y[images].reshape(out.shape), out)
        else:
            out = out.reshape(part.shape[0], tiles_shape[0] * tile, tiles_shape[1] * tile, channels_out)
            y[images] = out[:, : out_spatial[0], : out_spatial[1]]

    chunks = _chunks(x.shape[0], tiles_shape, max(x.shape[-1], channels_out), tile, dtype.itemsize)
    split_batch(forward_chunk, chunks, work=y.size * kernel.shape[-2] * 9)
    return y


def _transformed_output_gradient(grad, tile, tiles_shape, at):
    """dM = A dY A^T per tile: grad (n, Ho, Wo, C_out) -> (a, a, P, C_out)."""
    n, channels = grad.shape[0], grad.shape[-1]
    padded = np.zeros((n, tiles_shape[0] * tile, tiles_shape[1] * tile, channels), dtype=grad.dtype)
    padded[:, : grad.shape[1], : grad.shape[2]] = grad
    tiles = padded.reshape(n, tiles_shape[0], tile, tiles_shape[1], tile, channels).transpose(2, 4, 0, 1, 3, 5)
    dm = _two_sided(at.T, np.ascontiguousarray(tiles))
    return dm.reshape(*dm.shape[:2], -1, channels)


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, tile=DEFAULT_TILE,
                        padding=None):
    """dLoss/dx (N, H, W, C_in) from dLoss/dy (N, H' - 2, W' - 2, C_out): the adjoint of the forward tiles, without
    the padding's cells."""
    check_case(kernel.shape, strides, dilation)
    top, left = _before(padding)
    dtype = np.result_type(grad_output, kernel)
    t = _matrices(tile, dtype)
    a = tile + 2
    tiles_shape = _tiles_shape(grad_output.shape[1:3], tile)
    u = _two_sided(t["G"], kernel.astype(dtype, copy=False))  # (a, a, Cg, C_out)
    # the transposed filters: per transformed cell, (C_out, Cg), read by the same grouped product
    u_transposed = _adjoint_filters(u, groups)
    channels_in = input_shape[-1]
    grad_input = np.empty(input_shape, dtype=dtype)  # every image is written whole below

    def input_gradient_chunk(images):
        grad = grad_output[images]
        n = grad.shape[0]
        dm = _transformed_output_gradient(grad, tile, tiles_shape, t["AT"])  # (a, a, P, C_out)
        dv = _grouped_product(dm, u_transposed, groups)  # (a, a, P, C_in)
        dd = _two_sided(t["BT"].T, dv).reshape(a, a, n, *tiles_shape, channels_in)
        grad_input[images] = _overlap_add(dd, tile)[:, top : top + input_shape[1], left : left + input_shape[2]]

    chunks = _chunks(grad_output.shape[0], tiles_shape, max(channels_in, kernel.shape[-1]), tile, dtype.itemsize)
    split_batch(input_gradient_chunk, chunks, work=grad_output.size * kernel.shape[-2] * 9)
    return grad_input


def _overlap_add(dd, tile):
    """Add the a x a tiles dd (a, a, n, th, tw, C), read at stride m = tile, back where they were read:
    (n, th * m + 2, tw * m + 2, C).

    Along each axis, the first m cells of the tiles are disjoint and together cover the axis: one reordering
    copy puts them back. The last two cells of a tile fall on the first two of the next: one add each.
    Columns first, then rows: eight whole-chunk NumPy calls instead of one add per cell (36).
    """
    a = tile + 2
    n, tiles_high, tiles_wide, channels = dd.shape[2:]
    columns = np.zeros((a, n, tiles_high, tiles_wide * tile + 2, channels), dtype=dd.dtype)  # rows still as tiles
    disjoint = dd[:, :tile].transpose(0, 2, 3, 4, 1, 5)  # (a, n, th, tw, m, C): column t*m + j
    columns[:, :, :, : tiles_wide * tile] = disjoint.reshape(a, n, tiles_high, tiles_wide * tile, channels)
    for j in range(tile, a):
        target = columns[:, :, :, j : j + tiles_wide * tile : tile]
        np.add(target, dd[:, j], out=target)
    full = np.zeros((n, tiles_high * tile + 2, *columns.shape[3:]), dtype=dd.dtype)
    disjoint = columns[:tile].transpose(1, 2, 0, 3, 4)  # (n, th, m, W, C): row t*m + i
    full[:, : tiles_high * tile] = disjoint.reshape(n, tiles_high * tile, *columns.shape[3:])
    for i in range(tile, a):
        target = full[:, i : i + tiles_high * tile : tile]
        np.add(target, columns[i], out=target)
    return full


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

    def kernel_gradient_chunk(images):
        dm = _transformed_output_gradient(grad_output[images], tile, tiles_shape, t["AT"])
        return _transformed_kernel_gradient(x[images], dm, kernel_shape, groups, tile, tiles_shape, t, before)

    chunks = _chunks(x.shape[0], tiles_shape, max(x.shape[-1], kernel_shape[-1]), tile, dtype.itemsize)
    du = sum(split_batch(kernel_gradient_chunk, chunks, work=grad_output.size * kernel_shape[-2] * 9))
    return _kernel_from_transformed(du, kernel_shape, t)


def _transformed_kernel_gradient(x, dm, kernel_shape, groups, tile, tiles_shape, t, before):
    """sum over the tiles of a chunk of V * dM per transformed cell: (aa, G, Cg, Cog)."""
    a = tile + 2
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups
    v = _two_sided(t["BT"], _tiles(x, tile, tiles_shape, before))
    v = v.reshape(a * a, -1, groups, per_group_in).transpose(0, 2, 3, 1)  # (aa, G, Cg, P)
    dm = dm.reshape(a * a, -1, groups, per_group_out).transpose(0, 2, 1, 3)  # (aa, G, P, Cog)
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
    a = tile + 2
    tiles_shape = _tiles_shape(grad_output.shape[1:3], tile)
    u_transposed = _adjoint_filters(_two_sided(t["G"], kernel.astype(dtype, copy=False)), groups)
    grad_input = np.empty(x.shape, dtype=dtype)  # every image is written whole below
    before = top, left = _before(padding)

    def gradients_chunk(images):
        dm = _transformed_output_gradient(grad_output[images], tile, tiles_shape, t["AT"])  # (a, a, P, C_out)
        dd = _two_sided(t["BT"].T, _grouped_product(dm, u_transposed, groups))
        dd = dd.reshape(a, a, dd.shape[2] // math.prod(tiles_shape), *tiles_shape, x.shape[-1])
        grad_input[images] = _overlap_add(dd, tile)[:, top : top + x.shape[1], left : left + x.shape[2]]
        return _transformed_kernel_gradient(x[images], dm, kernel.shape, groups, tile, tiles_shape, t, before)

    chunks = _chunks(x.shape[0], tiles_shape, max(x.shape[-1], kernel.shape[-1]), tile, dtype.itemsize)
    du = sum(split_batch(gradients_chunk, chunks, work=2 * grad_output.size * kernel.shape[-2] * 9))
    return grad_input, _kernel_from_transformed(du, kernel.shape, t)
