"""The direct convolution's inner block for `striate.algorithms.vectorized`, written in LLVM's vector instructions.

One block is P consecutive output pixels of one output row times one block of output channels (one or two SIMD
vectors of V values: V = 16 float32 or 8 float64, one 512-bit register):

    acc[p, :] = sum over kernel rows i, kernel columns j, input channels c of
                x[row + i d_h, (q + p) s_w + j d_w, c] * w[i, j, c, block]          p = 0 ... P - 1

Per (i, j, c) the block loads the weight vector(s) w[i, j, c, block] once, and for each of its P pixels reads one
input value, broadcasts it to a vector and adds its product with the weights into that pixel's accumulator: a
fused multiply-add on a whole vector of output channels. The P x (1 or 2) accumulators stay in registers for the
whole window (they are only stored at the end), so the loop does one load per multiply-add vector and no stores.

numba's loop vectorizer does not find this on its own (it vectorizes along the innermost loop, here the pixels of
one channel, whose inputs are C apart); the block is therefore written with numba's `intrinsic`, which lets a
compiled function emit LLVM IR: `<V x float>` loads, `llvm.fma` on vectors, and the three loops over (i, j, c).
The loops around it (images, output rows, blocks of a row, channel blocks) and the zero padding are ordinary
numba code (`conv_forward_loop`).
"""

import functools

import numpy as np
from llvmlite import ir
from numba import literally, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

REGISTER_BYTES = 64  # one AVX-512 register; on a machine with 256-bit registers LLVM splits each vector in two


def vector_length(dtype):
    """V: values of `dtype` in one vector register (16 float32, 8 float64)."""
    return REGISTER_BYTES // np.dtype(dtype).itemsize


@intrinsic(prefer_literal=True)
def _block(typingctx, pixels, vectors, constant_step, x, x_start, x_step, kernel, kernel_start, y, y_start, y_step,
           window, steps):
    """block(P, vectors, constant_step, x, x_start, x_step, kernel, kernel_start, y, y_start, y_step, window, steps):
    P output pixels times `vectors` vectors of output channels (see the module), on flat arrays: the P pixels'
    windows start x_step apart in x from x_start on, their vectors are written y_step apart in y from y_start on.
    P, vectors and constant_step are compile-time constants: constant_step is x_step compiled in (s_w C_in along a
    row: the P reads of one step are then at fixed offsets), or 0 where x_step is read at run time.
    window = (kernel rows, kernel columns, run): the part of the window inside x, its first cell at x_start in x and
    at kernel_start in the kernel; `run` values are read per kernel column (C_in, or k_w C_in with one column when
    the window row is contiguous). steps = (x row step, x column step, kernel row step, kernel column step, C_out)
    as flat offsets."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (pixels, vectors, constant_step)):
        return None
    # the literal types stay in the signature: each (P, vectors, constant_step) is its own implementation
    signature = types.void(pixels, vectors, constant_step, x, types.intp, types.intp, kernel, types.intp, y,
                           types.intp, types.intp, window, steps)
    pixels, vectors, constant_step = pixels.literal_value, vectors.literal_value, constant_step.literal_value

    def codegen(context, builder, signature, arguments):
        x_array, x_start, x_step, kernel_array, kernel_start, y_array, y_start, y_step, window, steps = arguments[3:]
        kernel_high, columns, run = (builder.extract_value(window, field) for field in range(3))
        row_step, column_step, kernel_row_step, kernel_column_step, channels_out = (
            builder.extract_value(steps, field) for field in range(5))
        x_data = context.make_array(signature.args[3])(context, builder, x_array).data
        kernel_data = context.make_array(signature.args[6])(context, builder, kernel_array).data
        y_data = context.make_array(signature.args[8])(context, builder, y_array).data
        dtype = np.dtype(str(signature.args[3].dtype))
        length, value = vector_length(dtype), context.get_value_type(signature.args[3].dtype)
        vector, index = ir.VectorType(value, length), ir.IntType(64)
        fma_name = f"llvm.fma.v{length}f{8 * dtype.itemsize}"
        fma = builder.module.globals.get(fma_name) or ir.Function(
            builder.module, ir.FunctionType(vector, [vector] * 3), name=fma_name)

        def at(data, offset):
            return builder.gep(data, [offset])

        def load_vector(data, offset):
            return builder.load(builder.bitcast(at(data, offset), vector.as_pointer()), align=dtype.itemsize)

        def constant(number):
            return ir.Constant(index, number)

        # the accumulators: a stack array indexed by constants only, which LLVM keeps in registers
        accumulators = cgutils.alloca_once(builder, vector, size=pixels * vectors)
        for slot in range(pixels * vectors):
            builder.store(ir.Constant(vector, [0.0] * length), at(accumulators, constant(slot)))
        lane_zero = ir.Constant(ir.IntType(32), 0)
        broadcast_mask = ir.Constant(ir.VectorType(ir.IntType(32), length), [0] * length)
        undefined = ir.Constant(vector, ir.Undefined)
        with cgutils.for_range(builder, kernel_high) as i:
            x_row = builder.add(x_start, builder.mul(i.index, row_step))
            kernel_row = builder.add(kernel_start, builder.mul(i.index, kernel_row_step))
            with cgutils.for_range(builder, columns) as j:
                x_cell = builder.add(x_row, builder.mul(j.index, column_step))
                kernel_cell = builder.add(kernel_row, builder.mul(j.index, kernel_column_step))
                with cgutils.for_range(builder, run) as c:
                    kernel_channel = builder.add(kernel_cell, builder.mul(c.index, channels_out))
                    weights = [load_vector(kernel_data, builder.add(kernel_channel, constant(v * length)))
                               for v in range(vectors)]
                    x_channel = builder.add(x_cell, c.index)
                    for p in range(pixels):
                        offset = constant(p * constant_step) if constant_step else builder.mul(constant(p), x_step)
                        x_value = builder.load(at(x_data, builder.add(x_channel, offset)))
                        spread = builder.shuffle_vector(builder.insert_element(undefined, x_value, lane_zero),
                                                        undefined, broadcast_mask)
                        for v in range(vectors):
                            slot = at(accumulators, constant(p * vectors + v))
                            builder.store(builder.call(fma, [spread, weights[v], builder.load(slot)]), slot)
        for p in range(pixels):
            for v in range(vectors):
                target = at(y_data, builder.add(builder.add(y_start, builder.mul(constant(p), y_step)),
                                                constant(v * length)))
                builder.store(builder.load(at(accumulators, constant(p * vectors + v))),
                              builder.bitcast(target, vector.as_pointer()), align=dtype.itemsize)
        return context.get_dummy_value()

    return signature, codegen




@njit(nogil=True, cache=True, boundscheck=False)
def _blocks_along(vectors, constant_step, x, x_start, x_step, kernel, kernel_start, y, y_start, y_step, count, window,
                  steps):
    """`count` output pixels whose windows are x_step apart in x and whose outputs are y_step apart in y, in blocks
    of the largest of 8, 4, 2, 1 pixels that the run holds, the last block moved back to end with the run (it
    recomputes a few pixels, to the same values). `vectors` and `constant_step` (x_step, or 0: see `_block`) are
    compiled in as constants."""
    literally(vectors)
    literally(constant_step)
    size = 8 if count >= 8 else 4 if count >= 4 else 2 if count >= 2 else 1
    start = 0
    while start < count:
        start = min(start, count - size)
        x_block, y_block = x_start + start * x_step, y_start + start * y_step
        if size == 8:  # the block size as a literal, which `_block` compiles in
            _block(8, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, window,
                   steps)
        elif size == 4:
            _block(4, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, window,
                   steps)
        elif size == 2:
            _block(2, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, window,
                   steps)
        else:
            _block(1, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, window,
                   steps)
        start += size


@njit(nogil=True, cache=True)
def _cells_inside(position, stride, before, kernel_size, dilation, size):
    """(first, count): the kernel cells k = first ... first + count - 1 of output `position` whose input index
    position * stride - before + k * dilation lies in 0 ... size - 1."""
    start = position * stride - before
    first = -(start // dilation) if start < 0 else 0  # ceil(-start / dilation)
    last = min(kernel_size, (size - 1 - start) // dilation + 1)
    return first, max(0, last - first)


@njit(nogil=True, cache=True)
def _window(rows, columns, channels, dilation):
    """(kernel rows, kernel columns, run) for `_block`: with dilation 1 a window row's cells are one run of
    columns * C_in values, in x and in the kernel."""
    return (rows, 1, columns * channels) if dilation == 1 else (rows, columns, channels)


@njit(nogil=True, cache=True)
def _inside_positions(out_size, stride, before, kernel_size, dilation, size):
    """(first, last): output positions first ... last - 1 see only input cells (no padding) along one axis."""
    first = min(out_size, -(-before // stride))
    last = max(first, min(out_size, (size - 1 - (kernel_size - 1) * dilation + before) // stride + 1))
    return first, last


@functools.cache
def conv_forward_loop(vectors, pixel_step):
    """The compiled convolution of a chunk in output-channel blocks of `vectors` (1 or 2) vectors, neighbouring
    output pixels' windows `pixel_step` = s_w C_in values apart along a row (both compiled in as constants):

        loop(x, kernel, padding, strides, dilation, y)

    fills y (n, H_out, W_out, C_out) with the convolution of x (n, H, W, C_in), zero-padded by padding =
    (top, bottom, left, right), with kernel (k_h, k_w, C_in, C_out); C_out a multiple of `vectors` vectors; x,
    kernel and y contiguous, of one dtype. The padding is never built: the outputs whose windows lie inside x's
    width run in blocks along each row (the kernel rows on padding left out); the output columns at the left and
    right edges run in blocks down the column (the kernel columns on padding left out), and their corner pixels
    one by one. Compiled on its first call for each dtype, and kept on disk."""

    @njit(nogil=True, cache=True, boundscheck=False)
    def loop(x, kernel, padding, strides, dilation, y):
        images, high, wide, channels = x.shape
        kernel_high, kernel_wide, _, channels_out = kernel.shape
        out_high, out_wide = y.shape[1], y.shape[2]
        top, _, left, _ = padding
        s_h, s_w = strides
        d_h, d_w = dilation
        flat_x, flat_kernel, flat_y = x.reshape(-1), kernel.reshape(-1), y.reshape(-1)
        kernel_column_step = channels * channels_out
        kernel_row_step = kernel_wide * kernel_column_step
        steps = (d_h * wide * channels, d_w * channels, kernel_row_step, kernel_column_step, channels_out)
        y_row_step = out_wide * channels_out
        block_channels = vectors * (REGISTER_BYTES // x.itemsize)
        first_row, last_row = _inside_positions(out_high, s_h, top, kernel_high, d_h, high)
        first_column, last_column = _inside_positions(out_wide, s_w, left, kernel_wide, d_w, wide)
        inside_columns = last_column - first_column
        for n in range(images):
            for first in range(0, channels_out, block_channels):
                y_image = n * out_high * y_row_step + first
                # along each output row, the columns whose windows are inside x's width
                for p in range(out_high):
                    i_first, rows = _cells_inside(p, s_h, top, kernel_high, d_h, high)
                    x_start = ((n * high + p * s_h - top + i_first * d_h) * wide + first_column * s_w - left) * channels
                    _blocks_along(vectors, pixel_step, flat_x, x_start, pixel_step, flat_kernel,
                                  i_first * kernel_row_step + first, flat_y,
                                  y_image + p * y_row_step + first_column * channels_out, channels_out,
                                  inside_columns, _window(rows, kernel_wide, channels, d_w), steps)
                # the edge columns: down the rows whose windows are inside x's height, then the corners one by one
                for index in range(out_wide - inside_columns):
                    q = index if index < first_column else index + inside_columns
                    j_first, columns = _cells_inside(q, s_w, left, kernel_wide, d_w, wide)
                    x_column = (q * s_w - left + j_first * d_w) * channels
                    for p in range(out_high):
                        if first_row < p < last_row:
                            continue  # in the run from first_row
                        inside = p == first_row < last_row
                        i_first, rows = _cells_inside(p, s_h, top, kernel_high, d_h, high)
                        x_start = (n * high + p * s_h - top + i_first * d_h) * wide * channels + x_column
                        _blocks_along(vectors, 0, flat_x, x_start, s_h * wide * channels, flat_kernel,
                                      i_first * kernel_row_step + j_first * kernel_column_step + first, flat_y,
                                      y_image + p * y_row_step + q * channels_out, y_row_step,
                                      last_row - first_row if inside else 1, _window(rows, columns, channels, d_w),
                                      steps)

    return loop
