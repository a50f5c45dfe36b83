"""Depthwise kernels other than 3x3, compiled one kernel row at a time (MobileNetV3's and EfficientNet's 5x5,
ConvNeXt's 7x7, a 1-D layer's kernel): the loops of `depthwise_loops` for kernels up to MAX_ROW_TAPS wide.

An output row of a kernel k_h x k_w is the sum of k_h row passes, one per kernel row j whose input row lies inside
x: output pixel r of the pass is the 1-D correlation of that input row with the kernel row,

    forward           y[r, c]   (= or +=) sum over k < k_w of x[j's row, r s_w + k d_w - o_w, c] * w[j, k, c]
    kernel gradient   sums[j, k, c]      += sum over r of x[j's row, r s_w + k d_w - o_w, c] * dy[r, c]

each pass a loop written in LLVM's vector instructions (numba's `intrinsic`, the `Vectors` of `vectorized_loops`),
one per row width K (compiled in, `_each_width`): per block of V channels the K weight vectors (or K sums) stay in
registers while the row's pixels pass, and with stride = dilation along the row a pixel's first K - 1 tap columns
are the last K - 1 of the pixel before it, kept in registers, so each output vector loads one new vector of x. The
first pass of a row writes y, the others add to it (a load and a store per output vector and kernel row). A tap
column outside x (the zero padding at either end of the row) loads under an empty mask and, in the kernel
gradient, adds under that mask, so the border pixels run in the same loop (`_pixels` says which pixels test their
columns). One thread, 8 images, padding "same", the loops alone on arrays in the caches, against the loops
before them (each output cell summing its taps through a loop over the window), microseconds: forward 28x28x40
5x5 583 -> 192, 14x14x384 7x7 2011 -> 644; kernel gradient 446 -> 250, 1923 -> 1026 (docs/algorithms.md).

As for `depthwise_3x3`: numba's cache keys `depthwise_loops`' loops, which hold these compiled in, on their own
file; after editing this module alone, touch depthwise_loops.py.
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from striate.algorithms.depthwise_3x3 import all_taps_inside, tap_range
from striate.algorithms.vectorized_loops import Vectors

MAX_ROW_TAPS = 7  # the widest kernel row compiled in: K weights and K - 1 kept columns fit the 32 vector registers


@njit(nogil=True, cache=True, boundscheck=False)
def forward_plane(flat_x, x_plane, flat_w, flat_y, y_plane, kernel_size, sizes, out_sizes, strides, dilation,
                  offsets):
    """One output plane, row pass by row pass (the module's docstring): x's plane starts at x_plane in flat_x,
    y's at y_plane in flat_y, w is (k_h, k_w, C) flat, kernel_size = (k_h, k_w), sizes = (H, W, C), out_sizes =
    (H_out, W_out); strides, dilation and offsets (the padding before each axis) are (depth, height, width)."""
    _plane(False, flat_x, x_plane, flat_w, flat_y, y_plane, kernel_size, sizes, out_sizes, strides, dilation, offsets)


@njit(nogil=True, cache=True, boundscheck=False)
def add_gradient_plane(flat_x, x_plane, flat_grad, grad_plane, sums, kernel_size, sizes, out_sizes, strides,
                       dilation, offsets):
    """sums ((k_h, k_w, C) flat) += the kernel gradient of one output plane, row pass by row pass: as
    `forward_plane`, with dy's plane at grad_plane in flat_grad."""
    _plane(True, flat_x, x_plane, sums, flat_grad, grad_plane, kernel_size, sizes, out_sizes, strides, dilation,
           offsets)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _plane(gradient, flat_x, x_plane, flat_w, flat_y, y_plane, kernel_size, sizes, out_sizes, strides, dilation,
           offsets):
    """The row passes of one plane of the forward (w the kernel, y the output: a row's first pass writes it, the
    others add, a row with no kernel row inside x is zeros) or of the kernel gradient (w the sums, y dy)."""
    k_h, k_w = kernel_size
    height, width, channels = sizes
    out_high, columns = out_sizes
    s_h, s_w, d_h, d_w, o_h, o_w = strides[1], strides[2], dilation[1], dilation[2], offsets[1], offsets[2]
    steps = (s_w * channels, d_w * channels)
    inner_first, inner_stop = all_taps_inside(k_w, s_w, d_w, o_w, width, columns)
    columns_inside = (-o_w * channels, width * channels, inner_first, inner_stop)
    for q in range(out_high):
        y_row = y_plane + q * columns * channels
        j_first, j_stop = tap_range(q, s_h, d_h, o_h, k_h, height)
        if j_first == j_stop and not gradient:
            flat_y[y_row:y_row + columns * channels] = 0
        for j in range(j_first, j_stop):
            x_row = x_plane + ((q * s_h + j * d_h - o_h) * width - o_w) * channels
            _row_pass(gradient, k_w, flat_x, x_row, steps, flat_w, j * k_w * channels, flat_y, y_row, columns,
                      channels, columns_inside, j > j_first)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _row_pass(gradient, taps, flat_x, x_start, steps, w, w_start, y, y_start, pixels, channels, columns_inside, add):
    """The row pass of `taps` columns (1 to MAX_ROW_TAPS): the forward's (w the kernel, y the output, written or, with
    `add`, added to) or the kernel gradient's (w the sums, y dy)."""
    if gradient:
        _gradient_row(taps, flat_x, x_start, steps, w, w_start, y, y_start, pixels, channels, columns_inside)
    else:
        _forward_row(taps, flat_x, x_start, steps, w, w_start, y, y_start, pixels, channels, columns_inside, add)


def _each_width(builder, taps, width):
    """width(k) for k = 1 ... MAX_ROW_TAPS, each in its own branch of a switch on the i64 value `taps` (the widest's
    branch taking any other value): one compiled loop per kernel width, with its K weights or sums in registers."""
    done = builder.append_basic_block("widths_done")
    widest = builder.append_basic_block(f"taps_{MAX_ROW_TAPS}")
    switch = builder.switch(taps, widest)
    for k in range(1, MAX_ROW_TAPS + 1):
        block = widest if k == MAX_ROW_TAPS else builder.append_basic_block(f"taps_{k}")
        if k < MAX_ROW_TAPS:
            switch.add_case(ir.Constant(taps.type, k), block)
        builder.position_at_end(block)
        width(k)
        builder.branch(done)
    builder.position_at_end(done)


def _pixels(builder, ir_, taps, kept, x_data, x_start, steps, pixels, columns_inside, block_mask, visit,
            untested_inside):
    """The loop over a row's pixels at one block of channels, calling visit(pixel, window, masks) with window[k]
    the vector of tap k of the pixel's window and masks[k] the lanes it read (none for a tap in the padding); the
    first `kept` (0 or taps - 1) columns of a window are the previous pixel's last, held in registers. A column is
    inside x when its offset within the row, first_offset + r pixel_step + k tap_step, lies in [0, row_length)
    (columns_inside = (first_offset, row_length, inner_first, inner_stop)). With untested_inside the loop is three,
    the pixels in [inner_first, inner_stop) not testing their columns: the kernel gradient's, whose masked
    multiply-adds took 0.8-1.6x the time with a test at every pixel (six layers, two runs, 8 of 12 above 1.15x); the
    forward tests every pixel, which measured 0.4-0.8x the time of the three loops."""
    pixel_step, tap_step = builder.extract_value(steps, 0), builder.extract_value(steps, 1)
    first_offset, row_length, inner_first, inner_stop = (builder.extract_value(columns_inside, at) for at in range(4))
    carried = cgutils.alloca_once(builder, ir_.vector, size=max(1, taps - 1))  # LLVM keeps them in registers
    no_lane = ir.Constant(block_mask.type, None)

    def mask(pixel, k, tested):
        if not tested:
            return block_mask
        offset = builder.add(first_offset, builder.add(builder.mul(pixel, pixel_step),
                                                       builder.mul(ir_.constant(k), tap_step)))
        inside = builder.and_(builder.icmp_signed(">=", offset, ir_.constant(0)),
                              builder.icmp_signed("<", offset, row_length))
        return builder.select(inside, block_mask, no_lane)

    def load(pixel, k, column_mask):
        at = builder.add(builder.add(x_start, builder.mul(pixel, pixel_step)), builder.mul(ir_.constant(k), tap_step))
        return ir_.masked_load(ir_.at(x_data, at), column_mask)

    def pixels_from(start, stop, tested):
        with cgutils.for_range_slice(builder, start, stop, ir_.constant(1)) as (pixel, _):
            masks = [mask(pixel, k, tested) for k in range(taps)]
            window = [builder.load(ir_.at(carried, ir_.constant(k))) for k in range(kept)]
            window += [load(pixel, k, masks[k]) for k in range(kept, taps)]
            visit(pixel, window, masks)
            for k in range(kept):
                builder.store(window[k + 1], ir_.at(carried, ir_.constant(k)))

    zero = ir_.constant(0)
    for k in range(kept):  # the first window's kept columns, loaded before the loop
        builder.store(load(zero, k, mask(zero, k, True)), ir_.at(carried, ir_.constant(k)))
    if not untested_inside:
        pixels_from(zero, pixels, tested=True)
        return
    pixels_from(zero, inner_first, tested=True)
    pixels_from(inner_first, inner_stop, tested=False)
    pixels_from(inner_stop, pixels, tested=True)


def _by_overlap(builder, ir_, taps, steps, pixels, loops):
    """loops(kept) when the row has pixels: the windows' first taps - 1 columns kept where pixel step = tap step,
    none otherwise."""
    pixel_step, tap_step = builder.extract_value(steps, 0), builder.extract_value(steps, 1)
    with builder.if_then(builder.icmp_signed(">", pixels, ir_.constant(0))):
        if taps == 1:
            loops(0)
            return
        with builder.if_else(builder.icmp_signed("==", pixel_step, tap_step)) as (sliding, other):
            with sliding:
                loops(taps - 1)
            with other:
                loops(0)


@intrinsic
def _forward_row(typingctx, taps, x, x_start, steps, w, w_start, y, y_start, pixels, channels, columns_inside,
                 add):
    """_forward_row(taps, x, x_start, (pixel step, tap step), w, w_start, y, y_start, pixels, C, columns_inside,
    add): the forward row pass of a kernel row of `taps` columns (1 to MAX_ROW_TAPS, each width compiled in:
    `_each_width`); on flat arrays, y[y_start + r C + c] (= or, add, +=) sum over k < taps of
    x[x_start + r pixel_step + k tap_step + c] * w[w_start + k C + c], the taps outside x counting as zeros."""
    signature = types.void(types.intp, x, types.intp, steps, w, types.intp, y, types.intp, types.intp, types.intp,
                           columns_inside, add)

    def codegen(context, builder, signature, arguments):
        taps_value, _, x_start, steps, _, w_start, _, y_start, pixels, channels, columns_inside, add = arguments
        x_data, w_data, y_data = (context.make_array(signature.args[at])(context, builder, arguments[at]).data
                                  for at in (1, 4, 6))
        ir_ = Vectors(context, builder, signature.args[1].dtype)

        def width(taps):
            def loops(kept):
                for first, block_mask in ir_.channel_blocks(channels):
                    weights = [ir_.masked_load(ir_.at(w_data, builder.add(builder.add(
                        w_start, builder.mul(ir_.constant(k), channels)), first)), block_mask) for k in range(taps)]
                    y_first = builder.add(y_start, first)

                    # y's lanes read before adding: none for the row's first pass, which writes y
                    added = builder.select(builder.icmp_unsigned("!=", add, ir.Constant(add.type, 0)), block_mask,
                                           ir.Constant(block_mask.type, None))

                    def visit(pixel, window, masks, weights=weights, y_first=y_first, block_mask=block_mask,
                              added=added):
                        at = ir_.at(y_data, builder.add(y_first, builder.mul(pixel, channels)))
                        total = ir_.masked_load(at, added)
                        for k in range(taps):
                            total = ir_.fma(window[k], weights[k], total)
                        ir_.masked_store(total, at, block_mask)

                    _pixels(builder, ir_, taps, kept, x_data, builder.add(x_start, first), steps, pixels,
                            columns_inside, block_mask, visit, untested_inside=False)

            _by_overlap(builder, ir_, taps, steps, pixels, loops)

        _each_width(builder, taps_value, width)
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def _gradient_row(typingctx, taps, x, x_start, steps, sums, sums_start, grad, grad_start, pixels, channels,
                  columns_inside):
    """_gradient_row(taps, x, x_start, (pixel step, tap step), sums, sums_start, grad, grad_start, pixels, C,
    columns_inside): the kernel gradient's row pass of a kernel row of `taps` columns (as `_forward_row`); on flat
    arrays, sums[sums_start + k C + c] += sum over r of
    x[x_start + r pixel_step + k tap_step + c] * grad[grad_start + r C + c], each product only where tap k of
    pixel r lies inside x (a multiply-add under its mask)."""
    signature = types.void(types.intp, x, types.intp, steps, sums, types.intp, grad, types.intp, types.intp,
                           types.intp, columns_inside)

    def codegen(context, builder, signature, arguments):
        taps_value, _, x_start, steps, _, sums_start, _, grad_start, pixels, channels, columns_inside = arguments
        x_data, sums_data, grad_data = (context.make_array(signature.args[at])(context, builder,
                                                                               arguments[at]).data
                                        for at in (1, 4, 6))
        ir_ = Vectors(context, builder, signature.args[1].dtype)
        accumulators = cgutils.alloca_once(builder, ir_.vector, size=MAX_ROW_TAPS)  # kept in registers by LLVM

        def width(taps):
            def loops(kept):
                for first, block_mask in ir_.channel_blocks(channels):
                    slots = [ir_.at(sums_data, builder.add(builder.add(sums_start, builder.mul(ir_.constant(k),
                                                                                              channels)), first))
                             for k in range(taps)]
                    for k, slot in enumerate(slots):
                        builder.store(ir_.masked_load(slot, block_mask), ir_.at(accumulators, ir_.constant(k)))
                    grad_first = builder.add(grad_start, first)

                    def visit(pixel, window, masks, grad_first=grad_first, block_mask=block_mask):
                        at = ir_.at(grad_data, builder.add(grad_first, builder.mul(pixel, channels)))
                        gradient = ir_.masked_load(at, block_mask)
                        for k in range(taps):
                            slot = ir_.at(accumulators, ir_.constant(k))
                            total = builder.load(slot)
                            builder.store(builder.select(masks[k], ir_.fma(window[k], gradient, total), total), slot)

                    _pixels(builder, ir_, taps, kept, x_data, builder.add(x_start, first), steps, pixels,
                            columns_inside, block_mask, visit, untested_inside=True)
                    for k, slot in enumerate(slots):
                        ir_.masked_store(builder.load(ir_.at(accumulators, ir_.constant(k))), slot, block_mask)

            _by_overlap(builder, ir_, taps, steps, pixels, loops)

        _each_width(builder, taps_value, width)
        return context.get_dummy_value()

    return signature, codegen


