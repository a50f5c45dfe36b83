"""A 3-D convolution as a sum of 2-D convolutions over depth slices, each run by "auto" on its own algorithm.

Same signature and result as `striate.algorithms.direct`, for 3-D kernels (any strides, dilation and groups). With
kernel depth k_d, depth stride s_d and dilation d_d, output depth o reads input depths o s_d + i d_d, i < k_d:

    slab_i = x[:, i d_d :: s_d][:, :D_out]        the input depths kernel slice i reads, (N, D_out, H, W, C)
    forward:          y      = sum over i of conv2d(slab_i, kernel[i])            each image of a slab a 2-D image
    input gradient:   dx[:, i d_d :: s_d][:, :D_out] += conv2d_input_gradient(dy, kernel[i])      for each i
    kernel gradient:  dkernel[i] = conv2d_kernel_gradient(slab_i, dy)

Each 2-D convolution runs on N D_out images of H x W, where "auto" sends it to Winograd, the vectorized loop or
im2col as it would a 2-D layer (one measurement, the slices sharing one geometry); im2col's 3-D columns, k_d k_h
k_w C_in wide, are built at every call instead. 8 clips of 8x16x16 x 16 channels -> 16, 3x3x3 (padded: 10x18x18),
one thread, forward / input gradient / kernel gradient: im2col 7.7 / 13.5 / 8.7 ms, depth slices 4.0 / 5.0 / 3.7;
4 clips of 16x32x32 x 8 -> 32: 17 / 48 / 21 against 19 / 33 / 10. The price is a copy of each slab (its depths are
not contiguous across the batch) and the sum of k_d outputs. Both run per chunk of clips: striate's threads each take
a chunk and run its slices' 2-D convolutions in turn.
"""

import math

import numpy as np

from striate import algorithms  # the package that imports this module: its `auto` is looked up at each call
from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order


def check_case(kernel_shape, name="depth_slices"):
    """Raise ValueError unless the kernel is 3-D."""
    if len(kernel_shape) != 5:
        raise ValueError(f"{name} needs a 3-D kernel (k_d, k_h, k_w, C_in / groups, C_out); received a kernel of "
                         f"shape {tuple(kernel_shape)}")


def _output_size(size, kernel_size, stride, dilation):
    return (size - dilation * (kernel_size - 1) - 1) // stride + 1


def _depths(index, stride, dilation, out_depth):
    """The input depths kernel slice `index` reads."""
    return slice(index * dilation, index * dilation + (out_depth - 1) * stride + 1, stride)


def _slab(x, index, stride, dilation, out_depth):
    """The input depths kernel slice `index` reads, as a batch of 2-D images (N * D_out, H, W, C)."""
    return np.ascontiguousarray(x[:, _depths(index, stride, dilation, out_depth)]).reshape(-1, *x.shape[2:])


def _each_clip_chunk(function, batch, work):
    """[function(clips) for each chunk of clips], the chunks (slices of the batch, fixed by the batch alone) shared
    by striate's threads: each chunk's slab copies, 2-D convolutions and sums run on the thread that took it. One
    hand-off per pass instead of one per kernel slice, and the copies and sums in parallel too: a Conv3D layer's
    training step on 8 clips of 8x16x16 x 16 -> 16, 3x3x3, interleaved after pauses, two threads, 11.2-13.0 -> 7.3-9.8
    ms against each slice's 2-D convolution split on its own (one thread: 10.8 against 10.4 ms, unchanged)."""
    return split_batch(function, batch_chunks(batch, 0, own_loop=True), work)


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, D, H, W, C_in), kernel (k_d, k_h, k_w, C_in / groups, C_out) -> y (N, D_out, H_out, W_out, C_out)."""
    check_case(kernel.shape)
    out_depth, out_high, out_wide = (_output_size(size, k, stride, d) for size, k, stride, d in
                                     zip(x.shape[1:4], kernel.shape[:3], strides, dilation))
    y = np.empty((x.shape[0], out_depth, out_high, out_wide, kernel.shape[-1]), dtype=np.result_type(x, kernel))

    def clips_forward(clips):
        out = y[clips].reshape(-1, *y.shape[2:])
        for index in range(kernel.shape[0]):
            part = algorithms.auto.conv_forward(_slab(x[clips], index, strides[0], dilation[0], out_depth),
                                                kernel[index], strides[1:], dilation[1:], groups)
            if index == 0:
                out[...] = part
            else:
                out += part

    _each_clip_chunk(clips_forward, x.shape[0], y.size * math.prod(kernel.shape[:-1]))
    return y


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (input_shape): each kernel slice's 2-D input gradient added into the depths it read."""
    check_case(kernel.shape)
    out_depth = grad_output.shape[1]
    grad_input = np.empty(input_shape, dtype=np.result_type(grad_output, kernel))

    def clips_input_gradient(clips):
        images = np.ascontiguousarray(grad_output[clips]).reshape(-1, *grad_output.shape[2:])
        target = grad_input[clips]
        target[...] = 0
        slab_shape = (images.shape[0], *input_shape[2:])
        for index in range(kernel.shape[0]):
            part = algorithms.auto.conv_input_gradient(images, kernel[index], slab_shape, strides[1:], dilation[1:],
                                                       groups)
            target[:, _depths(index, strides[0], dilation[0], out_depth)] += part.reshape(
                target.shape[0], out_depth, *input_shape[2:])

    _each_clip_chunk(clips_input_gradient, input_shape[0], grad_output.size * math.prod(kernel.shape[:-1]))
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (kernel_shape): each kernel slice's 2-D kernel gradient on the depths it read, summed over the
    chunks of clips in order."""
    check_case(kernel_shape)
    out_depth = grad_output.shape[1]

    def clips_kernel_gradient(clips):
        images = np.ascontiguousarray(grad_output[clips]).reshape(-1, *grad_output.shape[2:])
        return np.stack([
            algorithms.auto.conv_kernel_gradient(_slab(x[clips], index, strides[0], dilation[0], out_depth), images,
                                                 kernel_shape[1:], strides[1:], dilation[1:], groups)
            for index in range(kernel_shape[0])])

    return sum_in_order(_each_clip_chunk(clips_kernel_gradient, x.shape[0],
                                         grad_output.size * math.prod(kernel_shape[:-1])))
