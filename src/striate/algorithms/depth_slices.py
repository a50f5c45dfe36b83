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
not contiguous across the batch) and the sum of k_d outputs.
"""

import numpy as np

from striate import algorithms  # the package that imports this module: its `auto` is looked up at each call


def check_case(kernel_shape, name="depth_slices"):
    """Raise ValueError unless the kernel is 3-D."""
    if len(kernel_shape) != 5:
        raise ValueError(f"{name} needs a 3-D kernel (k_d, k_h, k_w, C_in / groups, C_out); received a kernel of "
                         f"shape {tuple(kernel_shape)}")


def _output_depth(depth, kernel_depth, stride, dilation):
    return (depth - dilation * (kernel_depth - 1) - 1) // stride + 1


def _slab(x, index, stride, dilation, out_depth):
    """The input depths kernel slice `index` reads, as a batch of 2-D images (N * D_out, H, W, C)."""
    depths = slice(index * dilation, index * dilation + (out_depth - 1) * stride + 1, stride)
    return np.ascontiguousarray(x[:, depths]).reshape(-1, *x.shape[2:])


def conv_forward(x, kernel, strides, dilation, groups):
    """x (N, D, H, W, C_in), kernel (k_d, k_h, k_w, C_in / groups, C_out) -> y (N, D_out, H_out, W_out, C_out)."""
    check_case(kernel.shape)
    out_depth = _output_depth(x.shape[1], kernel.shape[0], strides[0], dilation[0])
    y = None
    for index in range(kernel.shape[0]):
        part = algorithms.auto.conv_forward(_slab(x, index, strides[0], dilation[0], out_depth), kernel[index],
                                            strides[1:], dilation[1:], groups)
        y = part if y is None else np.add(y, part, out=y)
    return y.reshape(x.shape[0], out_depth, *y.shape[1:])


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups):
    """dLoss/dx (input_shape): each kernel slice's 2-D input gradient added into the depths it read."""
    check_case(kernel.shape)
    batch, out_depth = input_shape[0], grad_output.shape[1]
    images = np.ascontiguousarray(grad_output).reshape(-1, *grad_output.shape[2:])
    slab_shape = (batch * out_depth, *input_shape[2:])
    grad_input = np.zeros(input_shape, dtype=np.result_type(grad_output, kernel))
    for index in range(kernel.shape[0]):
        part = algorithms.auto.conv_input_gradient(images, kernel[index], slab_shape, strides[1:], dilation[1:], groups)
        depths = slice(index * dilation[0], index * dilation[0] + (out_depth - 1) * strides[0] + 1, strides[0])
        grad_input[:, depths] += part.reshape(batch, out_depth, *input_shape[2:])
    return grad_input


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups):
    """dLoss/dkernel (kernel_shape): each kernel slice's 2-D kernel gradient on the depths it read."""
    check_case(kernel_shape)
    out_depth = grad_output.shape[1]
    images = np.ascontiguousarray(grad_output).reshape(-1, *grad_output.shape[2:])
    return np.stack([
        algorithms.auto.conv_kernel_gradient(_slab(x, index, strides[0], dilation[0], out_depth), images,
                                             kernel_shape[1:], strides[1:], dilation[1:], groups)
        for index in range(kernel_shape[0])])
