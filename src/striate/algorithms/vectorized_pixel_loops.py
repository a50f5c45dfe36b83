"""The convolution's block for `striate.algorithms.vectorized` when the output has few channels: output pixels in
the vector lanes, not output channels.

With C_out output channels in the lanes (`vectorized_loops`), a layer of 6 filters uses 6 of a vector's 16 float32
lanes. Here a block is P vectors of V consecutive output pixels of one row times all C_out channels, on the input
laid out channels-first and already zero-padded (x_cf: (n, C_in, H_p, W_p)), stride 1 along the width:

    acc[v, o] = sum over kernel rows i, kernel columns j, input channels c of
                x_cf[c, row + i d_h, (q + v V ... q + v V + V - 1) + j d_w] * w[i, j, c, o]

Per (i, j, c) the block loads P vectors of x (V neighbouring pixels each: contiguous, since the stride is 1) and,
for each of the C_out channels, broadcasts the weight w[i, j, c, o] and adds its product with each vector into
the accumulator (v, o): P C_out fused multiply-adds per P loads, the P x C_out accumulators in registers for the
whole window. Each accumulator is then scattered into y, channels-last: its V pixels C_out values apart (more where
y's pixels are a strided placement, as the input gradient's phases write them). The last block of a row takes only
the pixels left (masked loads and scatters). Written in LLVM IR
through numba's `intrinsic`, as `vectorized_loops`' blocks are, from the same pieces (`_Vectors`).
"""

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from striate.algorithms.vectorized_loops import REGISTER_BYTES, _Vectors

ACCUMULATORS = 16  # vectors of partial sums a block keeps in registers (of AVX-512's 32)


def pixel_vectors(channels_out, out_wide, dtype):
    """P: the vectors of neighbouring output pixels per block, P x C_out <= ACCUMULATORS, no more than a row
    needs, at least 1."""
    length = REGISTER_BYTES // np.dtype(dtype).itemsize
    return max(1, min(ACCUMULATORS // channels_out, -(-out_wide // length)))


@intrinsic(prefer_literal=True)
def _pixel_block(typingctx, vectors, channels_out, x, x_start, kernel, y, y_start, y_pixel_step, lanes, window,
                 steps):
    """pixel_block(P, C_out, x, x_start, kernel, y, y_start, y_pixel_step, lanes, window, steps): the block of the
    module on flat arrays: its first `lanes` output pixels (of P V), channel o of pixel l written to
    y[y_start + l y_pixel_step + o]; window = (kernel rows, kernel columns, C_in), steps = (x row step, x column
    step, x channel step) as flat offsets, x_start the index of the block's first pixel's window corner. P and
    C_out are compile-time constants."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (vectors, channels_out)):
        return None
    signature = types.void(vectors, channels_out, x, types.intp, kernel, y, types.intp, types.intp, types.intp,
                           window, steps)
    vectors, channels_out = vectors.literal_value, channels_out.literal_value

    def codegen(context, builder, signature, arguments):
        x_array, x_start, kernel_array, y_array, y_start, y_pixel_step, lanes, window, steps = arguments[2:]
        kernel_high, kernel_wide, channels = (builder.extract_value(window, field) for field in range(3))
        row_step, column_step, channel_step = (builder.extract_value(steps, field) for field in range(3))
        x_data = context.make_array(signature.args[2])(context, builder, x_array).data
        kernel_data = context.make_array(signature.args[4])(context, builder, kernel_array).data
        y_data = context.make_array(signature.args[5])(context, builder, y_array).data
        ir_ = _Vectors(context, builder, signature.args[2].dtype)
        masks = [ir_.first_lanes(builder.sub(lanes, ir_.constant(v * ir_.length))) for v in range(vectors)]
        accumulators = cgutils.alloca_once(builder, ir_.vector, size=vectors * channels_out)
        for slot in range(vectors * channels_out):
            builder.store(ir.Constant(ir_.vector, [0.0] * ir_.length), ir_.at(accumulators, ir_.constant(slot)))
        with cgutils.for_range(builder, kernel_high) as i:
            x_row = builder.add(x_start, builder.mul(i.index, row_step))
            with cgutils.for_range(builder, kernel_wide) as j:
                x_cell = builder.add(x_row, builder.mul(j.index, column_step))
                with cgutils.for_range(builder, channels) as c:
                    x_channel = builder.add(x_cell, builder.mul(c.index, channel_step))
                    pixels = [ir_.masked_load(ir_.at(x_data, builder.add(x_channel, ir_.constant(v * ir_.length))),
                                              masks[v]) for v in range(vectors)]
                    # w[i, j, c, :]: the C_out weights of this cell and input channel, in a row
                    cell = builder.add(builder.mul(i.index, kernel_wide), j.index)
                    first_weight = builder.mul(builder.add(builder.mul(cell, channels), c.index),
                                               ir_.constant(channels_out))
                    for o in range(channels_out):
                        spread = ir_.broadcast(builder.load(ir_.at(kernel_data,
                                                                   builder.add(first_weight, ir_.constant(o)))))
                        for v in range(vectors):
                            slot = ir_.at(accumulators, ir_.constant(v * channels_out + o))
                            builder.store(ir_.fma(spread, pixels[v], builder.load(slot)), slot)
        for v in range(vectors):
            first_pixel = builder.add(y_start, builder.mul(ir_.constant(v * ir_.length), y_pixel_step))
            for o in range(channels_out):
                ir_.masked_scatter(builder.load(ir_.at(accumulators, ir_.constant(v * channels_out + o))),
                                   ir_.at(y_data, builder.add(first_pixel, ir_.constant(o))), y_pixel_step, masks[v])
        return context.get_dummy_value()

    return signature, codegen


@functools.cache
def pixel_forward_loop(vectors, channels_out):
    """The compiled convolution of a chunk in blocks of `vectors` vectors of output pixels x all `channels_out`
    output channels (both compiled in as constants):

        loop(x_cf, kernel, strides, dilation, y, placement)

    writes the convolution of x_cf (n, C_in, H_p, W_p), zero-padded already, by kernel (k_h, k_w, C_in, C_out),
    stride 1 along the width (strides[1] is not read), into y (n, Y_h, Y_w, C_out) channels-last: with
    placement = (H_out, W_out, row, column, row step, column step), its output pixel (p, q) to
    y[:, row + p row step, column + q column step]; all contiguous, of one dtype. Compiled on its first call for
    each dtype, and kept on disk."""

    @njit(nogil=True, cache=True, boundscheck=False)
    def loop(x_cf, kernel, strides, dilation, y, placement):
        images, channels, high, wide = x_cf.shape
        kernel_high, kernel_wide = kernel.shape[0], kernel.shape[1]
        _, y_high, y_wide, _ = y.shape
        out_high, out_wide, y_first_row, y_first_column, y_row_stride, y_column_stride = placement
        s_h = strides[0]
        d_h, d_w = dilation
        flat_x, flat_kernel, flat_y = x_cf.reshape(-1), kernel.reshape(-1), y.reshape(-1)
        window, steps = (kernel_high, kernel_wide, channels), (d_h * wide, d_w, high * wide)
        y_pixel_step = y_column_stride * channels_out
        block_pixels = vectors * (REGISTER_BYTES // x_cf.itemsize)
        for n in range(images):
            for p in range(out_high):
                x_row = (n * channels * high + p * s_h) * wide
                y_row = ((n * y_high + y_first_row + p * y_row_stride) * y_wide + y_first_column) * channels_out
                for q in range(0, out_wide, block_pixels):
                    _pixel_block(vectors, channels_out, flat_x, x_row + q, flat_kernel, flat_y,
                                 y_row + q * y_pixel_step, y_pixel_step, min(block_pixels, out_wide - q), window,
                                 steps)

    return loop
