"""The convolution's block for `striate.algorithms.vectorized` when the output has few channels: output pixels in
the vector lanes, not output channels.

With C_out output channels in the lanes (`vectorized_loops`), a layer of 6 filters uses 6 of a vector's 16 float32
lanes. Here a block is R output rows times P vectors of V consecutive output pixels of each row times all C_out
channels, on the input laid out channels-first and already zero-padded (x_cf: (n, C_in, H_p, W_p)), stride 1
along the width:

    acc[r, v, o] = sum over kernel rows i, kernel columns j, input channels c of
                   x_cf[c, (p + r) s_h + i d_h, (q + v V ... q + v V + V - 1) + j d_w] * w[i, j, c, o]

Per (i, j, c) the block loads R P vectors of x (V neighbouring pixels each: contiguous, since the stride is 1)
and, for each of the C_out channels, broadcasts the weight w[i, j, c, o] and adds its product with each vector
into the accumulator (r, v, o): R P C_out fused multiply-adds per R P loads and C_out broadcasts, the accumulators
in registers for the whole window. Each accumulator is then scattered into y, channels-last: its V pixels C_out
values apart (more where y's pixels are a strided placement, as the input gradient's phases write them). The last
block of a row takes only the pixels left (masked loads and scatters). Written in LLVM IR through numba's
`intrinsic`, as `vectorized_loops`' blocks are, from the same pieces (`Vectors`).
"""

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from striate.algorithms.vectorized_loops import REGISTER_BYTES, Vectors

ACCUMULATORS = 16  # vectors of partial sums a block keeps in registers (of AVX-512's 32)


def block_shape(channels_out, out_high, out_wide, dtype):
    """(R, P): the output rows and the vectors of neighbouring output pixels of a row per block, R P C_out <=
    ACCUMULATORS: as many vectors as a row needs, then as many rows as fit (each loaded weight then feeds R P
    multiply-adds, and R P C_out independent sums hide the multiply-add's latency)."""
    length = REGISTER_BYTES // np.dtype(dtype).itemsize
    vectors = max(1, min(ACCUMULATORS // channels_out, -(-out_wide // length)))
    return max(1, min(ACCUMULATORS // (vectors * channels_out), out_high)), vectors


@intrinsic(prefer_literal=True)
def _pixel_block(typingctx, rows, vectors, channels_out, x, x_start, kernel, y, y_start, lanes, window, steps, bias,
                 relu):
    """pixel_block(R, P, C_out, x, x_start, kernel, y, y_start, lanes, window, steps, bias, relu): the block of the
    module on flat arrays, R output rows of P V pixels: the first `lanes` pixels of each row, channel o of pixel l
    of block row r written to y[y_start + r y_row_step + l y_pixel_step + o]; window = (kernel rows, kernel columns,
    C_in), steps = (x row step, x column step, x channel step, x output-row step, y output-row step, y_pixel_step)
    as flat offsets, x_start the index of the block's first pixel's window corner. R, P and C_out are compile-time
    constants. Each sum is stored as sum + bias[o], then max(., 0) where relu is not 0 (bias: C_out values)."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (rows, vectors, channels_out)):
        return None
    signature = types.void(rows, vectors, channels_out, x, types.intp, kernel, y, types.intp, types.intp, window,
                           steps, bias, types.intp)
    rows, vectors, channels_out = rows.literal_value, vectors.literal_value, channels_out.literal_value
    sums = [(r, v, o) for r in range(rows) for v in range(vectors) for o in range(channels_out)]

    def codegen(context, builder, signature, arguments):
        x_array, x_start, kernel_array, y_array, y_start, lanes, window, steps, bias_array, relu = arguments[3:]
        kernel_high, kernel_wide, channels = (builder.extract_value(window, field) for field in range(3))
        row_step, column_step, channel_step, x_out_row_step, y_out_row_step, y_pixel_step = (
            builder.extract_value(steps, field) for field in range(6))
        x_data = context.make_array(signature.args[3])(context, builder, x_array).data
        kernel_data = context.make_array(signature.args[5])(context, builder, kernel_array).data
        y_data = context.make_array(signature.args[6])(context, builder, y_array).data
        ir_ = Vectors(context, builder, signature.args[3].dtype)
        masks = [ir_.first_lanes(builder.sub(lanes, ir_.constant(v * ir_.length))) for v in range(vectors)]
        accumulators = cgutils.alloca_once(builder, ir_.vector, size=len(sums))
        for slot in range(len(sums)):
            builder.store(ir.Constant(ir_.vector, [0.0] * ir_.length), ir_.at(accumulators, ir_.constant(slot)))
        x_offsets = [[builder.add(builder.mul(ir_.constant(r), x_out_row_step), ir_.constant(v * ir_.length))
                      for v in range(vectors)] for r in range(rows)]
        with cgutils.for_range(builder, kernel_high) as i:
            x_row = builder.add(x_start, builder.mul(i.index, row_step))
            with cgutils.for_range(builder, kernel_wide) as j:
                x_cell = builder.add(x_row, builder.mul(j.index, column_step))
                with cgutils.for_range(builder, channels) as c:
                    x_channel = builder.add(x_cell, builder.mul(c.index, channel_step))
                    pixels = [[ir_.masked_load(ir_.at(x_data, builder.add(x_channel, x_offsets[r][v])), masks[v])
                               for v in range(vectors)] for r in range(rows)]
                    # w[i, j, c, :]: the C_out weights of this cell and input channel, in a row
                    cell = builder.add(builder.mul(i.index, kernel_wide), j.index)
                    first_weight = builder.mul(builder.add(builder.mul(cell, channels), c.index),
                                               ir_.constant(channels_out))
                    for o in range(channels_out):
                        spread = ir_.broadcast(builder.load(ir_.at(kernel_data,
                                                                   builder.add(first_weight, ir_.constant(o)))))
                        for r in range(rows):
                            for v in range(vectors):
                                slot = ir_.at(accumulators, ir_.constant(sums.index((r, v, o))))
                                builder.store(ir_.fma(spread, pixels[r][v], builder.load(slot)), slot)
        bias_data = context.make_array(signature.args[11])(context, builder, bias_array).data
        biases = [ir_.broadcast(builder.load(ir_.at(bias_data, ir_.constant(o)))) for o in range(channels_out)]
        for index, (r, v, o) in enumerate(sums):
            first_pixel = builder.add(builder.add(y_start, builder.mul(ir_.constant(r), y_out_row_step)),
                                      builder.mul(ir_.constant(v * ir_.length), y_pixel_step))
            value = ir_.relu_if(builder.fadd(builder.load(ir_.at(accumulators, ir_.constant(index))), biases[o]), relu)
            ir_.masked_scatter(value, ir_.at(y_data, builder.add(first_pixel, ir_.constant(o))), y_pixel_step,
                               masks[v])
        return context.get_dummy_value()

    return signature, codegen


@functools.cache
def pixel_forward_loop(rows, vectors, channels_out):
    """The compiled convolution of a chunk in blocks of `rows` output rows x `vectors` vectors of neighbouring
    output pixels x all `channels_out` output channels (`block_shape`; all three compiled in as constants; the
    rows past the last whole block of them one by one):

        loop(x_cf, kernel, origin, strides, dilation, y, placement, bias, relu)

    writes the convolution of x_cf (n, C_in, H_p, W_p), zero-padded already, the window of output pixel (0, 0)
    at origin = (row, column) of it, by kernel (k_h, k_w, C_in, C_out), stride 1 along the width (strides[1] is
    not read), into y (n, Y_h, Y_w, C_out) channels-last: with placement = (H_out, W_out, row, column, row step,
    column step), its output pixel (p, q) to y[:, row + p row step, column + q column step], plus bias (C_out,),
    then max(., 0) if relu (0 or 1); all contiguous, of one dtype. Compiled on its first call for each dtype, and
    kept on disk."""

    @njit(nogil=True, cache=True, boundscheck=False)
    def loop(x_cf, kernel, origin, strides, dilation, y, placement, bias, relu):
        images, channels, high, wide = x_cf.shape
        kernel_high, kernel_wide = kernel.shape[0], kernel.shape[1]
        _, y_high, y_wide, _ = y.shape
        out_high, out_wide, y_first_row, y_first_column, y_row_stride, y_column_stride = placement
        s_h = strides[0]
        d_h, d_w = dilation
        flat_x, flat_kernel, flat_y = x_cf.reshape(-1), kernel.reshape(-1), y.reshape(-1)
        window = (kernel_high, kernel_wide, channels)
        y_pixel_step = y_column_stride * channels_out
        steps = (d_h * wide, d_w, high * wide, s_h * wide, y_row_stride * y_wide * channels_out, y_pixel_step)
        block_pixels = vectors * (REGISTER_BYTES // x_cf.itemsize)
        whole_rows = out_high - out_high % rows
        for n in range(images):
            p = 0
            while p < out_high:
                x_row = (n * channels * high + origin[0] + p * s_h) * wide + origin[1]
                y_row = ((n * y_high + y_first_row + p * y_row_stride) * y_wide + y_first_column) * channels_out
                for q in range(0, out_wide, block_pixels):
                    lanes = min(block_pixels, out_wide - q)
                    if p < whole_rows:  # the block's row count as a literal, which `_pixel_block` compiles in
                        _pixel_block(rows, vectors, channels_out, flat_x, x_row + q, flat_kernel, flat_y,
                                     y_row + q * y_pixel_step, lanes, window, steps, bias, relu)
                    else:
                        _pixel_block(1, vectors, channels_out, flat_x, x_row + q, flat_kernel, flat_y,
                                     y_row + q * y_pixel_step, lanes, window, steps, bias, relu)
                p += rows if p < whole_rows else 1

    return loop
