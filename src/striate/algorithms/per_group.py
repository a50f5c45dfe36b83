"""A grouped convolution as one ungrouped convolution per group, each run by "auto" on its own algorithm.

Same signature and result as `striate.algorithms.direct`, for groups G > 1 (ResNeXt's 32 groups, AlexNet's 2).
Group g reads input channels g Cg ... (g + 1) Cg - 1 and writes output channels g Cog ... (g + 1) Cog - 1, so

    forward:         y[..., group g's outputs]  = conv(x[..., group g's inputs], kernel[..., group g's outputs])
    input gradient:  dx[..., group g's inputs]  = conv_input_gradient(dy[..., group g's outputs], that kernel)
    kernel gradient: dW[..., group g's outputs] = conv_kernel_gradient(x[..., group g's inputs], dy[..., ...])

each an ungrouped convolution of Cg -> Cog channels, which "auto" sends to Winograd, the vectorized loop or im2col
as it would a layer of that size (the groups share one geometry, so one measurement). im2col's batched products
over the groups, (G, M, K Cg) @ (G, K Cg, Cog), are thin, and its col2im per group thinner: on 32 images of
16x16 x 64 channels in 4 groups, 3x3, one thread, forward, input and kernel gradient took 5.7, 11.2 and 6.3 ms
there, 3.1, 4.3 and 3.2 ms here; in 32 groups of 4 channels (128 in all) 35, 51 and 24 against 11, 8 and 14.
The price is a copy of each group's channels (x and dy are channels-last: a group's channels are not contiguous)
and one joining the groups' results.

It takes the zero padding itself (`PADS_WITH_ZEROS`), passing it on to "auto".
"""

import math

import numpy as np

from striate import algorithms  # the package that imports this module: its `auto` is looked up at each call
from striate.algorithms.chunking import split_batch

PADS_WITH_ZEROS = True


def check_case(groups, name="per_group"):
    """Raise ValueError unless the convolution has several groups."""
    if groups < 2:
        raise ValueError(f"{name} needs groups > 1 (an ungrouped convolution is one group already); received "
                         f"groups={groups}")


def _group_channels(array, group, count):
    """array[..., group * count : (group + 1) * count] as a contiguous array."""
    return np.ascontiguousarray(array[..., group * count : (group + 1) * count])


def _each_group(groups, work, convolution):
    """convolution(g) for every group, joined along the channels; the groups are the parts shared by striate's
    threads (each group's convolution then runs on the thread that took it: cutting each small convolution of a
    group into chunks of images instead paid a hand-off per group and pass, 1.7 times the time on two threads)."""
    return np.concatenate(split_batch(convolution, list(range(groups)), work), axis=-1)


def conv_forward(x, kernel, strides, dilation, groups, padding=None):
    """x (N, *spatial, Cg * G), kernel (*k, Cg, Cog * G) -> y (N, *out, Cog * G)."""
    check_case(groups)
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    return _each_group(groups, math.prod(x.shape[:-1]) * kernel.size, lambda g: algorithms.auto.conv_forward(
        _group_channels(x, g, per_group_in), _group_channels(kernel, g, per_group_out), strides, dilation, 1,
        padding))


def conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, padding=None):
    """dLoss/dx (input_shape): each group's input gradient in its input channels."""
    check_case(groups)
    per_group_in, per_group_out = kernel.shape[-2], kernel.shape[-1] // groups
    group_shape = (*input_shape[:-1], per_group_in)
    return _each_group(groups, math.prod(grad_output.shape[:-1]) * kernel.size,
                       lambda g: algorithms.auto.conv_input_gradient(
                           _group_channels(grad_output, g, per_group_out), _group_channels(kernel, g, per_group_out),
                           group_shape, strides, dilation, 1, padding))


def conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, padding=None):
    """dLoss/dkernel (*k, Cg, Cog * G): each group's kernel gradient in its output channels."""
    check_case(groups)
    per_group_in, per_group_out = kernel_shape[-2], kernel_shape[-1] // groups
    group_kernel_shape = (*kernel_shape[:-1], per_group_out)
    return _each_group(groups, math.prod(grad_output.shape[:-1]) * math.prod(kernel_shape),
                       lambda g: algorithms.auto.conv_kernel_gradient(
                           _group_channels(x, g, per_group_in), _group_channels(grad_output, g, per_group_out),
                           group_kernel_shape, strides, dilation, 1, padding))
