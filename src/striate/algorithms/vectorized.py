"""Convolution by its definition, vectorized: a block of output pixels times a vector of output channels, held in
SIMD registers while the window is summed (the way oneDNN's direct convolutions run on CPUs).

Same signature and result as `striate.algorithms.direct`, for 2-D kernels (1-D ones as 2-D of height 1), groups 1
or groups whose channel counts suit the vectors (`serves`; below). Output channels go in blocks of one or two
vectors of V values (one vector register: V = 16 float32 or 8 float64, `vectorized_loops.vector_length`); with
C_out not a multiple of V the kernel gets zero filters up to whole vectors and only C_out lanes are stored (masked
stores):

    y[n, p, q, :] = sum over kernel cells (i, j) and input channels c of
                    x[n, p s_h + i d_h - top, q s_w + j d_w - left, c] * w[i, j, c, :]     (0 outside x)

Each step of the sum is one fused multiply-add of a vector of output channels: the weights w[i, j, c, block]
times x's value broadcast, added into the accumulator of each of 8 neighbouring output pixels
(`vectorized_loops`). No matrix of windows is built (im2col's columns have k_h k_w times x's values), and no
transform (Winograd's); x is read where it lies, and the zero padding is never built: the kernel cells that fall
on it are left out of the sum.

It pays where a GEMM is thin: with 16 or 32 output channels im2col's product (M, 9 C_in) @ (9 C_in, C_out) runs
at a fraction of the machine's multiply rate (one 64x32x32x16 -> 16 3x3 layer on one thread: its GEMM alone takes
6.0 ms, this loop 2.3-2.8 ms, PyTorch's channels-last convolution 2.1-3.0 ms; docs/algorithms.md).

    forward:         the loop above
    input gradient:  the same loop: with stride 1 dx is the convolution of dy, padded by d (k - 1) less the
                     input's padding, with the flipped kernel whose (C_in, C_out) blocks are transposed (the
                     "full" convolution, as im2col takes it for few channels); with a stride, each phase of dx
                     (every s-th cell) is such a convolution with the kernel cells that reach it
    kernel gradient: dW[i, j, c, :] = sum over n, p, q of x[n, p s_h + i d_h - top, q s_w + j d_w - left, c]
                                                          * dy[n, p, q, :],
                     up to 16 channels c of a kernel cell in registers while one output row of dy passes by (one
                     vector load of dy, up to 16 broadcast multiply-adds per pixel)

With few output channels (LeNet's 6 filters fill 6 of 16 float32 lanes) the forward turns the vectors around:
neighbouring output pixels of a row in the lanes, all C_out channels per block, on x laid out channels-first
(`vectorized_pixel_loops`), wherever a row's pixels fill more lanes than the channels do and the stride along the
width is 1. With up to 8 input channels the kernel gradient sums several kernel cells per block.

Grouped convolutions (ResNeXt's 32 groups of 4 channels) run the same passes, each block of output channels reading
its groups' input channels in place: a group of b >= V output channels (a multiple of V) fills whole vectors and
its blocks read its a input channels as above; groups of b < V output channels (b dividing V) share a vector,
V / b of them, and lane l of a block reads input channel (l // b) a + c of its block's groups: per kernel cell and
pixel the (V / b) a input values of the block's groups are one load, and the broadcast becomes a shuffle of it
(`vectorized_loops._lane_groups_block`; the kernel gradient's `_lane_groups_gradient_block`). The input
gradient's kernel is each group's block transposed (`_transposed_groups`), a grouped convolution of dy with a and
b swapped. 32 images of 16x16, 3x3, one thread, forward / input gradient / kernel gradient: 32 groups of 4
channels 2.3 / 2.3 / 1.9 ms (per_group 8.0 / 8.1 / 10.7); 4 groups of 16, 1.7 / 1.6 / 1.6 (per_group 2.6 / 2.8 /
2.2).

The images run in chunks on striate's threads (`split_batch`); the loop is compiled on first use for each layout
(vector count, lane groups, and how far apart neighbouring windows lie), and kept in numba's cache on disk.
"""

import functools
import math
from typing import NamedTuple

import numpy as np

from striate.algorithms import im2col, vectorized_loops
from striate.algorithms import vectorized_pixel_loops as pixel_loops
from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order
from striate.algorithms.vectorized_loops import conv_forward_loop, vector_length
from striate.algorithms.windows import windows_output_shape

PADS_WITH_ZEROS = True  # every pass takes `padding` (see `striate.algorithms`)
ADDS_BIAS_AND_RELU = True  # conv_forward takes `bias` and `relu`, added as the outputs are stored


LANE_WIDTHS = 16  # a group's channel counts divide this or are multiples of it: whole groups per vector or vectors
# per group for float32 (16 lanes) and float64 (8)


def serves(kernel_shape, groups):
    """Whether the loops run a convolution of this kernel (*k, C_in / groups, C_out): a 1-D or 2-D kernel (1-D as
    2-D of height 1); groups 1, or groups of at least two input channels whose input and output channel counts each
    divide LANE_WIDTHS or are multiples of it (one input channel per group is `depthwise`'s)."""
    if len(kernel_shape) not in (3, 4):
        return False
    if groups == 1:
        return True
    group_channels = (kernel_shape[-2], kernel_shape[-1] // groups)
    return group_channels[0] > 1 and all(n % LANE_WIDTHS == 0 or LANE_WIDTHS % n == 0 for n in group_channels)


def _check(kernel_shape, groups, dtype):
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"vectorized needs float32 or float64 data; received {np.dtype(dtype)}")
    if not serves(kernel_shape, groups):
        raise ValueError(f"vectorized needs a 1-D or 2-D kernel, and groups=1 or groups of at least two input "
                         f"channels whose input and output channel counts divide {LANE_WIDTHS} or are multiples of "
                         f"it; received a kernel of shape {tuple(kernel_shape)} with groups={groups}")


def _lane_groups(group_channels, channels_out, groups, dtype):
    """(a, b) for `conv_forward_loop`: `groups` groups of a = `group_channels` input and b = C_out / groups output
    channels where b < V, so that V / b groups share a vector (`vectorized_loops._lane_groups_block`); (0, 0) where
    a block of output channels lies in one group (one group, or groups of whole vectors)."""
    group_filters = channels_out // groups
    return (group_channels, group_filters) if groups > 1 and group_filters < vector_length(dtype) else (0, 0)


@functools.lru_cache(maxsize=256)
def _whole_vectors(channels, dtype, groups=1):
    """(K, vectors): C_out rounded up to whole vectors of `dtype`, and the vectors per block (2 when K holds an
    even count of them and, with groups, each group's C_out / groups does: a block lies in one group or is one
    vector of whole groups)."""
    length = vector_length(dtype)
    rounded = -(-channels // length) * length
    pairs = rounded % (2 * length) == 0 and (groups == 1 or channels // groups % (2 * length) == 0)
    return rounded, 2 if pairs else 1


BLOCKED_KERNEL_MIN_PIXELS = 512  # output pixels (all images) from which the kernel is laid out in blocks


class _Layout(NamedTuple):
    """How a kernel (k_h, k_w, C_in, C_out) is laid out for the loop (`_block_layout`, `_laid_out`)."""

    filters: int  # K: C_out rounded up to whole vectors (zero filters past C_out)
    vectors: int  # B: vectors of filters per block
    blocked: bool  # (K / B, k_h, k_w, C_in, B), each block's weights contiguous; else (1, k_h, k_w, C_in, K)


def _block_layout(channels_out, dtype, pixels, blocked_min_pixels, groups=1):
    """The layout of a kernel of `channels_out` filters for a pass of `pixels` output pixels (all images): zero
    filters up to whole vectors (K of them; y takes only the C_out lanes: masked stores), in blocks of B = 1 or 2
    vectors of filters, each block's weights contiguous, for a pass of at least `blocked_min_pixels` output pixels
    (BLOCKED_KERNEL_MIN_PIXELS); else the filters side by side, one "block" of all K.

    The loop runs one block at a time and reads its weights once per block of pixels: with the filters side by
    side they lie K values apart, 512 bytes for 128 filters, and the L1 cache holds them in an eighth of its sets
    (1-D, 200 steps, 64 -> 128 channels: 61 GMAC/s, 72 in blocks; 64 -> 256: 52, 69). The copy costs 12-18 us
    for such a kernel, more than the blocks save on one image of 198 outputs (1.20x the time) or two (1.06x);
    from four images (792 outputs) they pay (0.92x). With `groups` a block lies in one group, or is one vector of
    whole groups (`_whole_vectors`)."""
    rounded, vectors = _whole_vectors(channels_out, dtype, groups)
    return _Layout(rounded, vectors, rounded != vectors * vector_length(dtype) and pixels >= blocked_min_pixels)


def _laid_out(kernel, dtype, layout):
    """kernel (k_h, k_w, C_in, C_out) as `dtype`, in `layout` (`_block_layout`): (K / B, k_h, k_w, C_in, B) or
    (1, k_h, k_w, C_in, K), contiguous."""
    if layout.filters == kernel.shape[-1]:
        padded = kernel.astype(dtype, copy=False)
    else:
        padded = np.zeros((*kernel.shape[:-1], layout.filters), dtype=dtype)
        padded[..., : kernel.shape[-1]] = kernel
    if not layout.blocked:
        return np.ascontiguousarray(padded)[None]
    block = layout.vectors * vector_length(dtype)
    blocks = padded.reshape(*padded.shape[:-1], layout.filters // block, block)
    return np.ascontiguousarray(np.moveaxis(blocks, -2, 0))


def _with_height(padding):
    """A 1-D layer's padding for the same layer as 2-D of height 1 (no padding along the height)."""
    return None if padding is None else ((0, 0), *padding)


class _ForwardPlan(NamedTuple):
    """What a forward pass needs besides its arrays: a function of the shapes only, kept per case."""

    out_shape: tuple  # (H_out, W_out)
    padding: tuple  # (top, bottom, left, right)
    pixels: bool  # output pixels in the vector lanes (`vectorized_pixel_loops`), else output channels
    loop: object  # the compiled loop
    layout: _Layout | None  # the kernel's layout for channels in the lanes (`_block_layout`); None for pixels
    placement: tuple  # all of y, as the loop takes it: (H_out, W_out, 0, 0, 1, 1)
    no_bias: np.ndarray  # zeros, one per bias value the loop reads (read only)


@functools.lru_cache(maxsize=1024)
def _forward_plan(x_shape, kernel_shape, strides, dilation, padding, groups, dtype, blocked_min_pixels):
    """The `_ForwardPlan` of x (N, H, W, C_in) zero-padded by padding ((top, bottom), (left, right)), with a kernel
    (k_h, k_w, C_in, C_out): pixels in the lanes where they fill more of them than the output channels do and the
    stride along the width is 1 (`_pixels_fill_more_lanes`), output channels otherwise. It checks the kernel and
    dtype first (`_check`; a failing check raises at every call, as nothing is kept for it). `blocked_min_pixels`
    is BLOCKED_KERNEL_MIN_PIXELS as read at the call."""
    _check(kernel_shape, groups, dtype)
    (top, bottom), (left, right) = padding
    out_shape = windows_output_shape((x_shape[1] + top + bottom, x_shape[2] + left + right), kernel_shape[:2],
                                     strides, dilation)
    channels_out, placement = kernel_shape[-1], (*out_shape, 0, 0, 1, 1)
    if groups == 1 and strides[1] == 1 and _pixels_fill_more_lanes(channels_out, out_shape[1], dtype):
        loop = pixel_loops.pixel_forward_loop(*pixel_loops.block_shape(channels_out, *out_shape, dtype), channels_out)
        return _ForwardPlan(out_shape, (top, bottom, left, right), True, loop, None, placement,
                            _read_only_zeros(channels_out, dtype))
    layout = _block_layout(channels_out, dtype, x_shape[0] * math.prod(out_shape), blocked_min_pixels, groups)
    loop = conv_forward_loop(layout.vectors, strides[1] * x_shape[-1],
                             _lane_groups(kernel_shape[-2], channels_out, groups, dtype))
    return _ForwardPlan(out_shape, (top, bottom, left, right), False, loop, layout, placement,
                        _read_only_zeros(layout.filters, dtype))


def _read_only_zeros(length, dtype):
    """`length` zeros of `dtype` that nothing may write: a plan's bias for a pass without one."""
    zeros = np.zeros(length, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def conv_forward(x, kernel, strides, dilation, groups, padding=None, bias=None, relu=False):
    """x (N, H, W, C_in), zero-padded by `padding` ((top, bottom), (left, right); None: none), kernel
    (k_h, k_w, C_in, C_out) -> y (N, H_out, W_out, C_out); or the same without H, k_h and H_out (1-D: the 2-D loop
    over a height of 1, on views of x, the kernel and y). With bias (C_out,) and relu, y = max(conv + bias, 0) (a
    NaN giving 0), added as each output is stored (`ADDS_BIAS_AND_RELU`).

    The compiled loop runs on chunks of images, on striate's threads: with output channels in the vector lanes on x
    as it is, the kernel laid out by `_block_layout`, the padding never built; with output pixels in the lanes
    (stride 1 along the width) on each chunk of x laid out channels-first with its padding (`_channels_first`, in
    the chunk's thread: 64 x 32x32 x 48 at once took 3.65 ms on one thread, in chunks of 8 images 8 x 0.28)."""
    dtype = np.result_type(x, kernel)
    one_dimensional = kernel.ndim == 3
    if one_dimensional:
        x, kernel = x[:, None], kernel[None]
        strides, dilation, padding = (1, *strides), (1, *dilation), _with_height(padding)
    strides, dilation = tuple(strides), tuple(dilation)
    plan = _forward_plan(x.shape, kernel.shape, strides, dilation, ((0, 0), (0, 0)) if padding is None else
                         tuple(tuple(pair) for pair in padding), groups, dtype, BLOCKED_KERNEL_MIN_PIXELS)
    images = x.shape[0]
    y = np.empty((images, *plan.out_shape, kernel.shape[-1]), dtype=dtype)
    if plan.pixels:  # each chunk laid out on its own thread; the window of output pixel (0, 0) at row 0, column 0
        weights, start = np.ascontiguousarray(kernel, dtype), (0, 0)  # of the padded x

        def source(chunk):
            return _channels_first(x[chunk], plan.padding, dtype)
    else:
        x_as_is, weights, start = np.ascontiguousarray(x, dtype), _laid_out(kernel, dtype, plan.layout), plan.padding

        def source(chunk):
            return x_as_is[chunk]
    bias_values = plan.no_bias if bias is None else _bias_values(bias, len(plan.no_bias), dtype)

    def forward_chunk(chunk):
        plan.loop(source(chunk), weights, start, strides, dilation, y[chunk], plan.placement, bias_values, int(relu))

    _on_chunks(forward_chunk, images, x[:1].size * np.dtype(dtype).itemsize + y[:1].nbytes,
               y.size * math.prod(kernel.shape[:-1]))
    return y[:, 0] if one_dimensional else y


def _bias_values(bias, length, dtype):
    """bias as `length` values of `dtype`, zeros past its own: what the loops add (bias itself where it is that
    already)."""
    if len(bias) == length and bias.dtype == dtype and bias.flags.c_contiguous:
        return bias
    values = np.zeros(length, dtype=dtype)
    values[: len(bias)] = bias
    return values


def _on_chunks(run, images, bytes_per_image, multiply_adds):
    """run(images) for each chunk of a pass of these compiled loops (`batch_chunks`, own_loop), on striate's
    threads (one chunk, as a batch-1 inference has, runs on this thread: `split_batch`)."""
    split_batch(run, batch_chunks(images, bytes_per_image, own_loop=True), work=multiply_adds)


def _pixels_fill_more_lanes(channels_out, out_wide, dtype):
    """Whether output pixels in the vector lanes (`vectorized_pixel_loops`) use more of them than output channels
    do: a row's W_out pixels fill W_out / (V ceil(W_out / V)) of their vectors, C_out channels C_out /
    (V ceil(C_out / V)) of theirs (LeNet's 6 filters: 6 of 16 float32 lanes; its 14-pixel rows: 14 of 16)."""
    length = vector_length(dtype)
    return (channels_out <= pixel_loops.ACCUMULATORS
            and out_wide * -(-channels_out // length) > channels_out * -(-out_wide // length))


def _channels_first(x, padding, dtype):
    """x (N, H, W, C) -> (N, C, H + top + bottom, W + left + right) as `dtype`, zero-padded by padding = (top,
    bottom, left, right): the layout of `vectorized_pixel_loops`, whose vectors are neighbouring pixels."""
    top, bottom, left, right = padding
    images, high, wide, channels = x.shape
    x_cf = np.zeros((images, channels, high + top + bottom, wide + left + right), dtype=dtype)
    x_cf[:, :, top: top + high, left: left + wide] = x.transpose(0, 3, 1, 2)
    return x_cf


def _phase(size, before, out_size, stride, kernel_size, dilation, phase):
    """One axis of the input gradient's phase r = `phase` (see `conv_input_gradient`): the dx cells
    a = first, first + s, ... (count of them) with a + before = r (mod s), the kernel cells r, r + s, ... that reach
    them, in reverse order (r + m s for m = taps - 1 ... 0), as a slice of the kernel, and the zeros (before, after)
    around dy whose stride-1 convolution with those cells gives them: dx cell u (a = s u + r - before) sums
    dy[u - m d], m = 0 ... taps - 1, so the phase reads dy from first_u - (taps - 1) d to first_u + count - 1, the
    rows dy does not have counting as zeros (a negative count of zeros: rows of dy the phase skips); count 0 where
    no kernel cell or no dx cell is in this phase, or the phase reads only padding."""
    taps = len(range(phase, kernel_size, stride))
    first_u = -((phase - before) // stride)  # u: a = s u + r - before, for a = 0 ... size - 1
    count = max(0, (size - 1 + before - phase) // stride + 1 - first_u) if taps else 0
    dy_start = first_u - (taps - 1) * dilation  # the first row of dy that the phase's cells read, ...
    dy_stop = first_u + count  # ... and one past the last
    if count and max(0, dy_start) >= min(out_size, dy_stop):
        count = 0  # the phase reads padding only
    last_tap = phase + (taps - 1) * stride
    cells = slice(last_tap, None if phase == 0 else phase - 1, -stride)
    return stride * first_u + phase - before, count, cells, (-dy_start, dy_stop - out_size)


class _Phase(NamedTuple):
    """One phase of an input gradient (see `conv_input_gradient`): its dx cells as a placement for the loops, the
    kernel cells that reach them, reversed (a slice of the kernel's rows and of its columns), and where the window
    of dx cell 0 of the phase starts in dy: as the zeros (top, 0, left, 0) before dy for channels in the lanes, or
    as the origin (row, column) in dy laid out channels-first with `pixel_padding` for pixels in the lanes."""

    placement: tuple
    cells: tuple
    zeros: tuple
    origin: tuple


class _InputGradientPlan(NamedTuple):
    phases: tuple  # of _Phase, those with a kernel cell and a dx cell
    covered: bool  # whether the phases write every cell of dx (else dx starts as zeros)
    pixel_padding: tuple | None  # dy's zeros (top, bottom, left, right) for pixels in the lanes; None: channels
    loops: tuple  # each phase's compiled loop (`pixel_forward_loop` or `conv_forward_loop`)
    layout: _Layout | None  # the phases' kernels' layout for channels in the lanes; None for pixels
    no_bias: np.ndarray  # zeros, one per filter the loops take (read only)


@functools.lru_cache(maxsize=1024)
def _input_gradient_plan(input_shape, out_shape, kernel_shape, strides, dilation, padding, groups, dtype,
                         blocked_min_pixels):
    """The phases of one 2-D input gradient and the lanes they take, or None where an axis has both a stride and a
    dilation > 1 (im2col's then): a function of the shapes only, kept per case (a network asks for the same few at
    every step), after checking the kernel and dtype (`_check`; a failing check raises at every call).
    `blocked_min_pixels` is BLOCKED_KERNEL_MIN_PIXELS as read at the call."""
    _check(kernel_shape, groups, dtype)
    if any(s > 1 and d > 1 for s, d in zip(strides, dilation)):
        return None
    axes = [[_phase(size, before, out_size, s, k, d, r) for r in range(s)]
            for size, (before, _), out_size, s, k, d in zip(input_shape[1:3], padding, out_shape[1:3], strides,
                                                             kernel_shape[:2], dilation)]
    pairs = [(rows, columns) for rows in axes[0] for columns in axes[1] if rows[1] and columns[1]]
    covered = sum(rows[1] * columns[1] for rows, columns in pairs) == math.prod(input_shape[1:3])
    channels = input_shape[-1]  # the flipped kernel's output channels
    pixel_padding = None
    if groups == 1 and pairs and _pixels_fill_more_lanes(channels, max(columns[1] for _, columns in pairs), dtype):
        # dy laid out channels-first once, with as many zeros as any phase reads around it
        before, after = ([max([0, *(zeros[side] for _, count, _, zeros in axis if count)]) for axis in axes]
                         for side in (0, 1))
        pixel_padding = (before[0], after[0], before[1], after[1])
    phases = []
    for (row_first, rows, row_cells, (top, _)), (column_first, columns, column_cells, (left, _)) in pairs:
        origin = None if pixel_padding is None else (pixel_padding[0] - top, pixel_padding[2] - left)
        phases.append(_Phase((rows, columns, row_first, column_first, *strides), (row_cells, column_cells),
                             (top, 0, left, 0), origin))
    if pixel_padding is None:
        # the flipped kernel: each group's C_out / G channels of dy -> its C_in / G channels of dx
        layout = _block_layout(channels, dtype, math.prod(input_shape[:-1]), blocked_min_pixels, groups)
        lane_groups = _lane_groups(kernel_shape[-1] // groups, channels, groups, dtype)
        loops = (conv_forward_loop(layout.vectors, out_shape[-1], lane_groups),) * len(phases)
        no_bias = _read_only_zeros(layout.filters, dtype)
    else:
        layout = None
        loops = tuple(pixel_loops.pixel_forward_loop(*pixel_loops.block_shape(channels, *phase.placement[:2], dtype),
                                                     channels) for phase in phases)
        no_bias = _read_only_zeros(channels, dtype)
    return _InputGradientPlan(tuple(phases), covered, pixel_padding, loops, layout, no_bias)


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, padding=None):
    """dLoss/dx (input_shape, without the cells of `padding`) from dLoss/dy by this loop, phase by phase (with
    dilation 1 where a stride is > 1; im2col's col2im otherwise).

    Along an axis of stride s, dx cell a = s u + r - before (phase r < s) receives dy[u - m] through kernel cell
    i = r + m s only, so each of the s_h s_w phases of dx is a stride-1 "full" convolution of dy with the kernel
    cells of that phase, reversed, and each (C_in, C_out) block transposed (as `im2col.flipped_transposed`); with
    stride 1 there is one phase, all cells, any dilation. The phases' multiply-adds add up to the forward's."""
    dtype = np.result_type(grad_output, kernel)
    if kernel.ndim == 3:
        return conv_input_gradient(grad_output[:, None], kernel[None], (input_shape[0], 1, *input_shape[1:]),
                                   (1, *strides), (1, *dilation), groups, _with_height(padding))[:, 0]
    padding = ((0, 0), (0, 0)) if padding is None else tuple(tuple(pair) for pair in padding)
    strides, dilation = tuple(strides), tuple(dilation)
    plan = _input_gradient_plan(tuple(input_shape), grad_output.shape, kernel.shape, strides, dilation, padding,
                                groups, dtype, BLOCKED_KERNEL_MIN_PIXELS)
    if plan is None:
        return im2col.conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, padding)
    grad_input = (np.empty if plan.covered else np.zeros)(input_shape, dtype=dtype)
    # each phase's kernel: its cells reversed, each group's (C_in / G, C_out / G) block transposed
    phase_kernels = [_transposed_groups(kernel[phase.cells], groups) for phase in plan.phases]
    if plan.pixel_padding is not None:  # pixels in the lanes: each phase's dy, zeros and all, is a window of dy_cf
        dy = _channels_first(grad_output, plan.pixel_padding, dtype)
        kernels = [np.ascontiguousarray(phase_kernel, dtype=dtype) for phase_kernel in phase_kernels]
    else:  # output channels in the lanes: each phase's kernel in blocks; dy read where it lies
        dy = np.ascontiguousarray(grad_output, dtype=dtype)
        kernels = [_laid_out(phase_kernel, dtype, plan.layout) for phase_kernel in phase_kernels]

    def phases_chunk(chunk):
        """Every phase of the chunk's images, one after the other (their dy and dx stay in the caches)."""
        dy_chunk, dx_chunk = dy[chunk], grad_input[chunk]
        for phase, loop, phase_kernel in zip(plan.phases, plan.loops, kernels):
            if plan.pixel_padding is not None:
                loop(dy_chunk, phase_kernel, phase.origin, (1, 1), dilation, dx_chunk, phase.placement,
                     plan.no_bias, 0)
            else:
                loop(dy_chunk, phase_kernel, phase.zeros, (1, 1), dilation, dx_chunk, phase.placement,
                     plan.no_bias, 0)

    images = len(grad_input)
    _on_chunks(phases_chunk, images, (dy.nbytes + grad_input.nbytes) // max(1, images),
               grad_output.size * math.prod(kernel.shape[:-1]))
    return grad_input


def _transposed_groups(kernel, groups):
    """kernel (*k, C_in / G, C_out) of G groups -> (*k, C_out / G, C_in): each group's (C_in / G, C_out / G) block
    of weights transposed, the kernel of dy -> dx (one group: kernel.swapaxes(-1, -2))."""
    *cells, group_channels, channels_out = kernel.shape
    blocks = kernel.reshape(*cells, group_channels, groups, channels_out // groups)
    return np.swapaxes(blocks, -3, -1).reshape(*cells, channels_out // groups, groups * group_channels)


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, padding=None):
    """dLoss/dkernel (k_h, k_w, C_in, C_out) from x (N, H, W, C_in), zero-padded by `padding`, and dLoss/dy: each
    chunk's sum by a compiled loop (`vectorized_loops.conv_kernel_gradient`, or `few_channels_gradient_loop` for
    up to FEW_CHANNELS input channels), the chunks' sums added in order."""
    dtype = np.result_type(x, grad_output)
    _check(kernel_shape, groups, dtype)
    if len(kernel_shape) == 3:
        return conv_kernel_gradient(x[:, None], grad_output[:, None], (1, *kernel_shape), (1, *strides),
                                    (1, *dilation), groups, _with_height(padding))[0]
    (top, bottom), (left, right) = ((0, 0), (0, 0)) if padding is None else padding
    rounded, vectors = _whole_vectors(kernel_shape[-1], dtype, groups)
    if groups == 1 and kernel_shape[-2] <= vectorized_loops.FEW_CHANNELS:
        # few channels: blocks of several kernel cells, on x padded here (a small copy), which every cell then
        # sees along whole output rows
        if top + bottom + left + right:
            x = np.pad(np.asarray(x, dtype=dtype), ((0, 0), (top, bottom), (left, right), (0, 0)))
        loop = vectorized_loops.few_channels_gradient_loop(vectors, kernel_shape[-2], *kernel_shape[:2])
        geometry = (tuple(strides), tuple(dilation))
    else:
        loop = vectorized_loops.conv_kernel_gradient_loop(
            vectors, _lane_groups(kernel_shape[-2], kernel_shape[-1], groups, dtype))
        geometry = ((top, bottom, left, right), tuple(strides), tuple(dilation))
    x = np.ascontiguousarray(x, dtype=dtype)
    grad_output = np.ascontiguousarray(grad_output, dtype=dtype)

    def kernel_gradient_chunk(chunk):
        grad_kernel = np.zeros((*kernel_shape[:-1], rounded), dtype=dtype)  # whole vectors, as the forward's kernel
        loop(x[chunk], grad_output[chunk], *geometry, kernel_grad=grad_kernel)
        return grad_kernel

    parts = batch_chunks(x.shape[0], x[:1].nbytes + grad_output[:1].nbytes, own_loop=True)
    grad_kernel = sum_in_order(split_batch(kernel_gradient_chunk, parts,
                                           work=grad_output.size * math.prod(kernel_shape[:-1])))
    return grad_kernel if rounded == kernel_shape[-1] else np.ascontiguousarray(grad_kernel[..., : kernel_shape[-1]])
