"""A 3-D convolution as one 2-D convolution: the input depths each output depth reads, side by side as channels.

Same signature and result as `striate.algorithms.direct`, for 3-D kernels (any strides, dilation and groups). With
kernel depth k_d, depth stride s_d, depth dilation d_d and p_d zero depths before x, output depth o reads the input
depths o s_d + i d_d - p_d, i < k_d (zeros where that is padding). Put side by side on the channel axis (within each
group: the group's channels of depth i = 0, then of i = 1, ...), they make output depth o of clip n one 2-D image of
k_d C_in channels, and the 3-D kernel one 2-D kernel:

    stack[n D_out + o, h, w, (g, i, c)] = x[n, o s_d + i d_d - p_d, h, w, (g, c)]      (N D_out, H, W, k_d C_in)
    kernel2d[h, w, (i, c), o]           = kernel[i, h, w, c, o]                         (k_h, k_w, k_d Cg, C_out)
    forward:          y       = conv2d(stack, kernel2d)
    input gradient:   dstack  = conv2d_input_gradient(dy, kernel2d), each cell added into the x cell it was read from
    kernel gradient:  dkernel = conv2d_kernel_gradient(stack, dy), as (k_d, k_h, k_w, Cg, C_out)

The 2-D convolution runs through "auto" (Winograd, the vectorized loop or im2col, measured as for a 2-D layer of
k_d C_in channels), which takes the height and width padding itself; the depth padding is the zeros the stack gets
where a depth is padding (`PADS_WITH_ZEROS`: the padded input never exists). The price is the stack, k_d times the
input read; the 2-D convolutions see k_d times the channels, where Winograd saves most.

The batch runs in chunks of clips on striate's threads (each chunk's stacks, 2-D convolutions and input-gradient
sums on the thread that took it, so no two threads add into one clip), and each chunk in runs of 2-D images whose
stacks fit CHUNK_BYTES.
"""

import math

import numpy as np

from striate import algorithms  # the package that imports this module: its `auto` is looked up at each call
from striate.algorithms import chunking, depth_stack_loops
from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order
from striate.algorithms.depth_slices import check_case
from striate.algorithms.windows import padded_shape, windows_output_shape

PADS_WITH_ZEROS = True  # every pass takes `padding` (see the module's docstring)


class _Depths:
    """The depth axis of one case: its size, the kernel's depth, stride and dilation, the zero depths before x, and
    the output depth D_out."""

    def __init__(self, depth, kernel_depth, stride, dilation, padding):
        self.depth, self.kernel_depth, self.step = depth, kernel_depth, (stride, dilation)
        self.before = 0 if padding is None else padding[0][0]
        after = 0 if padding is None else padding[0][1]
        self.out = windows_output_shape((depth + self.before + after,), (kernel_depth,), (stride,), (dilation,))[0]


def _stack(x, images, depths, groups):
    """The 2-D images `images` (a slice of range(N D_out)) as (len, H, W, k_d C_in): see the module's docstring."""
    batch, _, *plane, channels = x.shape
    stack = np.empty((images.stop - images.start, math.prod(plane), groups, depths.kernel_depth, channels // groups),
                     dtype=x.dtype)
    depth_stack_loops.stack(x.reshape(batch, depths.depth, -1, channels), images.start, depths.out, depths.step,
                             depths.before, stack)
    return stack.reshape(stack.shape[0], *plane, -1)


def _add_stack(grad_stack, images, depths, groups, grad_input):
    """grad_input += each cell of grad_stack (len, H, W, k_d C_in) at the cell of x it was read from (`_stack`'s
    adjoint)."""
    batch, _, *plane, channels = grad_input.shape
    cells = grad_stack.reshape(grad_stack.shape[0], -1, groups, depths.kernel_depth, channels // groups)
    depth_stack_loops.add_stack(np.ascontiguousarray(cells), images.start, depths.out, depths.step, depths.before,
                                 grad_input.reshape(batch, depths.depth, -1, channels))


def _runs(clips, out_depth, bytes_per_image):
    """The 2-D images of `clips` (flat indices n D_out + o) in runs of even length whose stacks fit CHUNK_BYTES
    (`chunking.CHUNK_BYTES`, read at each call, as `batch_chunks` reads it)."""
    first, last = clips.start * out_depth, clips.stop * out_depth
    count = max(1, math.ceil((last - first) * bytes_per_image / chunking.CHUNK_BYTES))
    per_run = max(1, math.ceil((last - first) / count))
    return [slice(start, min(start + per_run, last)) for start in range(first, last, per_run)]


def _kernel_2d(kernel):
    """(k_d, k_h, k_w, Cg, C_out) -> (k_h, k_w, k_d Cg, C_out), the kernel of the stacked 2-D images."""
    k_d, k_h, k_w, per_group_in, channels_out = kernel.shape
    return np.ascontiguousarray(kernel.transpose(1, 2, 0, 3, 4)).reshape(k_h, k_w, k_d * per_group_in, channels_out)


def _plane_padding(padding):
    return None if padding is None else tuple(padding[1:])


def _each_clip_chunk(function, x, depths, work):
    """[function(clips, runs) for each chunk of clips of x (N, D, H, W, C)], the chunks (fixed by the problem alone)
    shared by striate's threads; runs: the chunk's 2-D images in runs whose stacks fit CHUNK_BYTES (`_runs`)."""
    bytes_per_image = math.prod(x.shape[2:]) * depths.kernel_depth * x.dtype.itemsize
    return split_batch(lambda clips: function(clips, _runs(clips, depths.out, bytes_per_image)),
                       batch_chunks(x.shape[0], depths.out * bytes_per_image, own_loop=True), work)


def _as_images(array):
    """(N, D, H, W, C) -> (N D, H, W, C): each depth of each clip one 2-D image (a view of a contiguous array)."""
    return array.reshape(-1, *array.shape[2:])


def conv_forward(x, kernel, strides, dilation, groups, padding=None):
    """x (N, D, H, W, C_in), kernel (k_d, k_h, k_w, C_in / groups, C_out) -> y (N, D_out, H_out, W_out, C_out), x
    zero-padded by `padding` (a (before, after) pair per spatial axis, or None)."""
    check_case(kernel.shape, name="depth_stack")
    depths = _Depths(x.shape[1], kernel.shape[0], strides[0], dilation[0], padding)
    kernel2d, x = _kernel_2d(kernel), np.ascontiguousarray(x)
    plane_out = windows_output_shape(padded_shape(x.shape, padding)[2:4], kernel.shape[1:3], strides[1:], dilation[1:])
    y = np.empty((x.shape[0], depths.out, *plane_out, kernel.shape[-1]), dtype=np.result_type(x, kernel))
    images_y = _as_images(y)

    def runs_forward(_, runs):
        for images in runs:
            images_y[images] = algorithms.auto.conv_forward(_stack(x, images, depths, groups), kernel2d, strides[1:],
                                                            dilation[1:], groups, padding=_plane_padding(padding))

    _each_clip_chunk(runs_forward, x, depths, y.size * math.prod(kernel.shape[:-1]))
    return y


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, padding=None):
    """dLoss/dx (input_shape) from dLoss/dy: each run's 2-D input gradient of the stack added into the cells of x
    it was read from."""
    check_case(kernel.shape, name="depth_stack")
    depths = _Depths(input_shape[1], kernel.shape[0], strides[0], dilation[0], padding)
    kernel2d = _kernel_2d(kernel)
    grad_input = np.empty(input_shape, dtype=np.result_type(grad_output, kernel))
    images_grad = _as_images(np.ascontiguousarray(grad_output))
    stacked_channels = depths.kernel_depth * input_shape[-1]

    def runs_input_gradient(clips, runs):
        grad_input[clips] = 0
        for images in runs:
            grad_stack = algorithms.auto.conv_input_gradient(
                images_grad[images], kernel2d, (images.stop - images.start, *input_shape[2:4], stacked_channels),
                strides[1:], dilation[1:], groups, padding=_plane_padding(padding))
            _add_stack(grad_stack, images, depths, groups, grad_input)

    _each_clip_chunk(runs_input_gradient, grad_input, depths, grad_output.size * math.prod(kernel.shape[:-1]))
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, padding=None):
    """dLoss/dkernel (kernel_shape): the runs' 2-D kernel gradients on their stacks, summed in order."""
    check_case(kernel_shape, name="depth_stack")
    depths = _Depths(x.shape[1], kernel_shape[0], strides[0], dilation[0], padding)
    k_d, k_h, k_w, per_group_in, channels_out = kernel_shape
    shape_2d = (k_h, k_w, k_d * per_group_in, channels_out)
    x, images_grad = np.ascontiguousarray(x), _as_images(np.ascontiguousarray(grad_output))

    def runs_kernel_gradient(_, runs):
        return [algorithms.auto.conv_kernel_gradient(_stack(x, images, depths, groups), images_grad[images],
                                                     shape_2d, strides[1:], dilation[1:], groups,
                                                     padding=_plane_padding(padding)) for images in runs]

    sums = [grad for part in _each_clip_chunk(runs_kernel_gradient, x, depths,
                                              grad_output.size * math.prod(kernel_shape[:-1])) for grad in part]
    grad_2d = sum_in_order(sums) if sums else np.zeros(shape_2d, dtype=np.result_type(x, grad_output))
    return np.ascontiguousarray(grad_2d.reshape(k_h, k_w, k_d, per_group_in, channels_out).transpose(2, 0, 1, 3, 4))
