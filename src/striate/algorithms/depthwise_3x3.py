"""The 3x3 depthwise kernel, compiled line by line: the loops of `depthwise_loops` for the commonest kernel.

An output plane of a 3x3 kernel (H_out x W_out cells of C channels; x's plane H x W x C) is run one output row
(a line) at a time, the lines whose three kernel rows all lie inside x in one call (`all_taps_inside`), each line
above or below them in a call of its own with only its kernel rows inside x. Each call is a loop written in LLVM's
vector instructions (numba's `intrinsic`, the `Vectors` of `vectorized_loops`) over the lines, then blocks of V
channels (16 float32, 8 float64; the last block partial, under a mask), then the line's pixels:

- forward (`_forward_lines`): y[cell] = sum over the nine taps of x[tap's cell] * w[tap], the block's nine weight
  vectors in registers for the whole line;
- kernel gradient (`_gradient_lines`): sums[tap] += x[tap's cell] * dy[cell], the block's nine sums in registers
  for the whole line.

A pixel's window overlaps the window of the pixel before it: with stride = dilation along the row its first two
tap columns are the other's last two, with stride = 2 dilation its first is the other's last. Those vectors stay
in registers (`kept` columns), so an output vector loads one new column of three vectors (or two columns), not
nine vectors: the forward is then three loads, nine multiply-adds and a store per output vector, near the one
multiply-add a cycle that bounds it. A column outside x (the zero padding at either end of a row, as a kernel
row above or below x) is loaded under an empty mask: it reads as zeros and touches no memory, so the border cells
run in the same loop as the others, with no padded copy of x. The kernel gradient adds a tap's product only inside
x (a masked multiply-add), so a padded cell adds nothing even where dy is infinite.

The loops before these ran a row's inner columns with nine loads per output vector, and each border cell through a
loop over its taps at 4-5 times an inner cell's cost. One thread, the loops alone on arrays in the caches (best of
three runs), 8 images, padding 1, before -> after in microseconds: forward 16x16x64 118 -> 34, 32x32x64 445 -> 143,
32x32x64 with stride 2 127 -> 64, 8x8x256 104 -> 45, 18x18x16 52 -> 18; kernel gradient 81 -> 42, 371 -> 138,
109 -> 66, 78 -> 53, 35 -> 17. The forward's inner loop alone, on one line whose inputs are in the L1 cache, takes
11-16 cycles per output vector with stride 1 (nine multiply-adds), 15-17 with stride 2.

numba's cache keys a compiled function on its own source file, and `depthwise_loops`' loops hold these compiled in:
after editing this module alone, touch depthwise_loops.py (or delete its cache files in __pycache__), or its loops
keep running the code they were cached with.
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from striate.algorithms.vectorized_loops import Vectors


@njit(nogil=True, cache=True)
def tap_range(position, stride, dilation, offset, taps, size):
    """The range [first, stop) of kernel taps t for which input cell position*stride + t*dilation - offset
    lies in [0, size)."""
    start = position * stride - offset
    first = 0 if start >= 0 else (-start + dilation - 1) // dilation
    stop = 0 if start >= size else min(taps, (size - 1 - start) // dilation + 1)
    return first, max(first, stop)


@njit(nogil=True, cache=True)
def output_range(shift, stride, size, outputs):
    """The range [first, stop) of outputs r for which input cell r*stride + shift lies in [0, size)."""
    first = min(outputs, max(0, -(shift // stride)))  # ceil(-shift / stride), within [0, outputs]
    stop = min(outputs, (size - 1 - shift) // stride + 1) if size > shift else 0
    return first, max(first, stop)


@njit(nogil=True, cache=True)
def all_taps_inside(taps, stride, dilation, offset, size, outputs):
    """[first, stop): the outputs along one axis whose `taps` taps (t = 0 ... taps - 1) all lie inside [0, size)."""
    left = output_range(-offset, stride, size, outputs)
    right = output_range((taps - 1) * dilation - offset, stride, size, outputs)
    first = max(left[0], right[0])
    return first, max(first, min(left[1], right[1]))


@njit(nogil=True, cache=True, boundscheck=False)
def forward_plane(flat_x, x_plane, flat_w, flat_y, y_plane, sizes, out_sizes, strides, dilation, offsets):
    """One output plane of a 3x3 kernel, line by line (the module's docstring): x's plane starts at x_plane in
    flat_x, y's at y_plane in flat_y, w is (3, 3, C) flat, sizes = (H, W, C), out_sizes = (H_out, W_out), and
    strides, dilation and offsets (the padding before each axis) are (depth, height, width) triples."""
    _plane(False, flat_x, x_plane, flat_w, flat_y, y_plane, sizes, out_sizes, strides, dilation, offsets)


@njit(nogil=True, cache=True, boundscheck=False)
def add_gradient_plane(flat_x, x_plane, flat_grad, grad_plane, sums, sizes, out_sizes, strides, dilation, offsets):
    """sums ((3, 3, C) flat) += the kernel gradient of one output plane of a 3x3 kernel, line by line: as
    `forward_plane`, with dy's plane at grad_plane in flat_grad."""
    _plane(True, flat_x, x_plane, sums, flat_grad, grad_plane, sizes, out_sizes, strides, dilation, offsets)


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _plane(gradient, flat_x, x_plane, flat_w, flat_y, y_plane, sizes, out_sizes, strides, dilation, offsets):
    """The lines of one plane of the forward (w the kernel, y the output) or of the kernel gradient (w the sums,
    y dy): those whose kernel rows all lie inside x in one call, each other line in a call of its own."""
    s_h, s_w = strides[1], strides[2]
    d_h, d_w = dilation[1], dilation[2]
    o_h, o_w = offsets[1], offsets[2]
    height, width, channels = sizes
    out_high, columns = out_sizes
    line_step, y_line_step = s_h * width * channels, columns * channels
    steps = (d_h * width * channels, s_w * channels, d_w * channels, line_step, y_line_step)
    x_corner = x_plane - (o_h * width + o_w) * channels  # the window of output (0, 0); may lie outside x
    row_first, row_stop = all_taps_inside(3, s_h, d_h, o_h, height, out_high)
    columns_inside = (-o_w * channels, width * channels)
    _lines(gradient, flat_x, x_corner + row_first * line_step, steps, flat_w, flat_y, y_plane + row_first * y_line_step,
           (row_stop - row_first, columns), channels, (0, 3, *columns_inside))
    for q in range(out_high):
        if row_first <= q < row_stop:
            continue
        j_first, j_stop = tap_range(q, s_h, d_h, o_h, 3, height)
        _lines(gradient, flat_x, x_corner + q * line_step, steps, flat_w, flat_y, y_plane + q * y_line_step,
               (1, columns), channels, (j_first, j_stop, *columns_inside))


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _lines(gradient, flat_x, x_start, steps, w, y, y_start, shape, channels, rows):
    """`_gradient_lines` or `_forward_lines`."""
    if gradient:
        _gradient_lines(flat_x, x_start, steps, w, y, y_start, shape, channels, rows)
    else:
        _forward_lines(flat_x, x_start, steps, w, y, y_start, shape, channels, rows)


def _line(builder, ir_, kept, x_data, x_start, steps, pixels, rows, row_masks, visit):
    """The loop over the pixels of one line, calling visit(pixel, window, masks) with window[j][k] the vector of
    tap (j, k) of that output's window and masks[j][k] the lanes it read (none for a tap in the padding); x_start:
    the line's first window, at the block's first channel. The first `kept` tap columns of a window are the previous
    pixel's last ones (kept = 2, 1 or 0: windows 1, 2 or any tap columns apart), held in registers rather than
    loaded again. rows = (j_first, j_stop, first_offset, row_length): a column is inside x when its offset within
    the row, first_offset + r pixel_step + k tap_step, lies in [0, row_length). Every pixel tests its new columns:
    the loop split in three, the inner pixels untested, measured 1.0-2.0x the time of this one loop."""
    row_step, pixel_step, tap_step = (builder.extract_value(steps, field) for field in range(3))
    first_offset, row_length = builder.extract_value(rows, 2), builder.extract_value(rows, 3)
    carried = cgutils.alloca_once(builder, ir_.vector, size=6)  # the kept columns, LLVM keeps them in registers
    no_lane = ir.Constant(row_masks[0].type, None)

    def column_masks(pixel, k):
        """The three masks of tap column k of pixel `pixel`'s window: its kernel rows' masks where the column lies
        inside x, else no lane."""
        offset = builder.add(first_offset, builder.add(builder.mul(pixel, pixel_step),
                                                       builder.mul(ir_.constant(k), tap_step)))
        inside = builder.and_(builder.icmp_signed(">=", offset, ir_.constant(0)),
                              builder.icmp_signed("<", offset, row_length))
        return [builder.select(inside, mask, no_lane) for mask in row_masks]

    def column(pixel, k, masks):
        """The three vectors, one per kernel row, of tap column k of pixel `pixel`'s window."""
        at = builder.add(builder.add(x_start, builder.mul(pixel, pixel_step)), builder.mul(ir_.constant(k), tap_step))
        return [ir_.masked_load(ir_.at(x_data, builder.add(at, builder.mul(ir_.constant(j), row_step))), masks[j])
                for j in range(3)]

    zero = ir_.constant(0)
    for k in range(kept):  # the first window's kept columns, loaded before the loop
        for j, vector in enumerate(column(zero, k, column_masks(zero, k))):
            builder.store(vector, ir_.at(carried, ir_.constant(3 * k + j)))
    with cgutils.for_range(builder, pixels) as pixel:
        masks = [column_masks(pixel.index, k) for k in range(3)]  # by column, then row
        window_columns = [[builder.load(ir_.at(carried, ir_.constant(3 * k + j))) for j in range(3)]
                          for k in range(kept)]
        window_columns += [column(pixel.index, k, masks[k]) for k in range(kept, 3)]
        visit(pixel.index, [[window_columns[k][j] for k in range(3)] for j in range(3)],
              [[masks[k][j] for k in range(3)] for j in range(3)])
        for k in range(kept):
            for j in range(3):
                builder.store(window_columns[k + 3 - kept][j], ir_.at(carried, ir_.constant(3 * k + j)))


def _over_lines(builder, ir_, steps, shape, channels, rows, block):
    """block(kept, line, first channel, row masks) for each line and each block of V channels in it (a line's
    inputs then serve all its blocks while they are in the L1 cache), when the lines have pixels. kept: how many
    tap columns neighbouring windows share, 2 where pixel step = tap step, 1 where pixel step = 2 tap steps, else
    0. The row masks: the block's lanes for the kernel rows j_first <= j < j_stop, no lane for the others."""
    pixel_step, tap_step = builder.extract_value(steps, 1), builder.extract_value(steps, 2)
    j_first, j_stop = builder.extract_value(rows, 0), builder.extract_value(rows, 1)

    def lines(kept):
        with cgutils.for_range(builder, builder.extract_value(shape, 0)) as line:
            for first, block_mask in ir_.channel_blocks(channels):
                no_lane = ir.Constant(block_mask.type, None)
                row_masks = [builder.select(builder.and_(builder.icmp_signed("<=", j_first, ir_.constant(j)),
                                                         builder.icmp_signed(">", j_stop, ir_.constant(j))),
                                            block_mask, no_lane) for j in range(3)]
                block(kept, line.index, first, block_mask, row_masks)

    with builder.if_then(builder.icmp_signed(">", builder.extract_value(shape, 1), ir_.constant(0))):
        with builder.if_else(builder.icmp_signed("==", pixel_step, tap_step)) as (one_step, other):
            with one_step:
                lines(2)
            with other:
                two_steps = builder.icmp_signed("==", pixel_step, builder.mul(ir_.constant(2), tap_step))
                with builder.if_else(two_steps) as (then, otherwise):
                    with then:
                        lines(1)
                    with otherwise:
                        lines(0)


def _line_start(builder, x_start, steps, line, first):
    """Where line `line`'s first window starts in x, at channel `first`: x_start + line line_step + first."""
    return builder.add(builder.add(x_start, builder.mul(line, builder.extract_value(steps, 3))), first)


def _arrays(context, builder, signature, arguments):
    """The data pointers of a lines intrinsic's three arrays (its arguments 0, 3 and 4: x, then w and y or the
    sums and dy), and the `Vectors` of x's dtype."""
    pointers = [context.make_array(signature.args[at])(context, builder, arguments[at]).data for at in (0, 3, 4)]
    return pointers, Vectors(context, builder, signature.args[0].dtype)


@intrinsic
def _forward_lines(typingctx, x, x_start, steps, w, y, y_start, shape, channels, rows):
    """forward_lines(x, x_start, steps, w, y, y_start, (lines, pixels), C, rows): on flat arrays,

        y[y_start + l y_line_step + r C + c] = sum over j in [j_first, j_stop), k < 3 of
            x[x_start + l line_step + r pixel_step + j row_step + k tap_step + c] * w[(3 j + k) C + c]

    for l < lines, r < pixels, c < C, the taps whose column lies outside x counting as zeros; steps = (row step,
    pixel step, tap step, line step, y line step): d_h W C, s_w C, d_w C, s_h W C and W_out C; rows = (j_first,
    j_stop, first_offset, row_length) as `_line`'s."""
    signature = types.void(x, types.intp, steps, w, y, types.intp, shape, types.intp, rows)

    def codegen(context, builder, signature, arguments):
        _, x_start, steps, _, _, y_start, shape, channels, rows = arguments
        (x_data, w_data, y_data), ir_ = _arrays(context, builder, signature, arguments)
        y_line_step = builder.extract_value(steps, 4)

        def block(kept, line, first, block_mask, row_masks):
            weights = [[ir_.masked_load(ir_.at(w_data, builder.add(builder.mul(ir_.constant(3 * j + k), channels),
                                                                   first)), row_masks[j]) for k in range(3)]
                       for j in range(3)]
            y_line = builder.add(builder.add(y_start, builder.mul(line, y_line_step)), first)

            def visit(pixel, window, masks):
                sums = []  # each kernel row's three products summed apart, then the rows added
                for j in range(3):
                    total = builder.fmul(window[j][0], weights[j][0])
                    for k in (1, 2):
                        total = ir_.fma(window[j][k], weights[j][k], total)
                    sums.append(total)
                ir_.masked_store(builder.fadd(builder.fadd(sums[0], sums[1]), sums[2]),
                                 ir_.at(y_data, builder.add(y_line, builder.mul(pixel, channels))), block_mask)

            _line(builder, ir_, kept, x_data, _line_start(builder, x_start, steps, line, first), steps,
                  builder.extract_value(shape, 1), rows, row_masks, visit)

        _over_lines(builder, ir_, steps, shape, channels, rows, block)
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def _gradient_lines(typingctx, x, x_start, steps, sums, grad, grad_start, shape, channels, rows):
    """gradient_lines(x, x_start, steps, sums, grad, grad_start, (lines, pixels), C, rows): on flat arrays,

        sums[(3 j + k) C + c] += sum over l < lines, r < pixels of
            x[x_start + l line_step + r pixel_step + j row_step + k tap_step + c]
            * grad[grad_start + l y_line_step + r C + c]

    for j in [j_first, j_stop), k < 3, each product only where tap (j, k) of output (l, r) lies inside x (a
    multiply-add under its mask); steps and rows as `_forward_lines`'."""
    signature = types.void(x, types.intp, steps, sums, grad, types.intp, shape, types.intp, rows)

    def codegen(context, builder, signature, arguments):
        _, x_start, steps, _, _, grad_start, shape, channels, rows = arguments
        (x_data, sums_data, grad_data), ir_ = _arrays(context, builder, signature, arguments)
        y_line_step = builder.extract_value(steps, 4)
        # the sums in stack slots indexed by constants only, which LLVM keeps in registers through the line
        accumulators = cgutils.alloca_once(builder, ir_.vector, size=9)

        def block(kept, line, first, block_mask, row_masks):
            slots = [ir_.at(sums_data, builder.add(builder.mul(ir_.constant(tap), channels), first))
                     for tap in range(9)]
            for tap, slot in enumerate(slots):
                builder.store(ir_.masked_load(slot, block_mask), ir_.at(accumulators, ir_.constant(tap)))
            grad_line = builder.add(builder.add(grad_start, builder.mul(line, y_line_step)), first)

            def visit(pixel, window, masks):
                gradient = ir_.masked_load(ir_.at(grad_data, builder.add(grad_line, builder.mul(pixel, channels))),
                                           block_mask)
                for j in range(3):
                    for k in range(3):
                        slot = ir_.at(accumulators, ir_.constant(3 * j + k))
                        total = builder.load(slot)
                        builder.store(builder.select(masks[j][k], ir_.fma(window[j][k], gradient, total), total), slot)

            _line(builder, ir_, kept, x_data, _line_start(builder, x_start, steps, line, first), steps,
                  builder.extract_value(shape, 1), rows, row_masks, visit)
            for tap, slot in enumerate(slots):
                ir_.masked_store(builder.load(ir_.at(accumulators, ir_.constant(tap))), slot, block_mask)

        _over_lines(builder, ir_, steps, shape, channels, rows, block)
        return context.get_dummy_value()

    return signature, codegen
