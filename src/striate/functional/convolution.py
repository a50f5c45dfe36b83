"""Convolution on channels-last batches: conv1d/2d/3d, transposed, depthwise and separable.

Every function here is a composition of ops (pad, convolution or transposed_convolution, add): none of
them writes a gradient.
"""

import functools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from striate.core.tensor import Tensor, as_tensor
from striate.core.types import IntOrTuple, Padding, Shape
from striate.functional.arguments import (
    KERNEL_LAYOUTS,
    LAYOUTS,
    check_groups,
    check_input_rank,
    check_numeric,
    check_window_fits,
    is_plain,
    padding_pairs,
    per_axis,
)
from striate.functional.output_size import (
    conv_transpose_output_length,
    effective_kernel_size,
    is_int,
    output_formula,
    padding_pair,
)
from striate.ops import add, convolution, getitem, pad, relu, reshape, sigmoid, tanh, transposed_convolution
from striate.ops.activations import IN_PLACE_ACTIVATIONS
from striate.ops.padding import check_pad_arguments

PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
Activation = Literal["relu", "tanh", "sigmoid"] | None


def conv1d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
           padding: Padding = "valid", dilation_rate: IntOrTuple = 1, groups: int = 1,
           padding_mode: PaddingMode = "zeros", algorithm: str = "auto", activation: Activation = None) -> Tensor:
    """1-D convolution (cross-correlation) of x (N, W, C_in) with kernel (kw, C_in // groups, C_out).

    See `conv2d`; the same arguments with one spatial axis.
    """
    return _conv("conv1d", 1, x, kernel, bias, strides, padding, dilation_rate, groups, padding_mode, algorithm,
                 activation)


def conv2d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
           padding: Padding = "valid", dilation_rate: IntOrTuple = 1, groups: int = 1,
           padding_mode: PaddingMode = "zeros", algorithm: str = "auto", activation: Activation = None) -> Tensor:
    """2-D convolution as deep-learning libraries define it (cross-correlation: the kernel is not flipped):

        y[n, i, j, o] = bias[o] + sum_{a, b, c} x_pad[n, i*s_h + a*d_h, j*s_w + b*d_w, g*Cg + c] * w[a, b, c, o]

    where g = o // (C_out / groups) is the group of filter o and Cg = C_in / groups.

    Args:
        x: (N, H, W, C_in), channels last.
        kernel: (kh, kw, C_in // groups, C_out), as Keras.
        bias: (C_out,) or None.
        strides: int or (s_h, s_w).
        padding: "valid"; "same" (TensorFlow's rule, for any stride, dilation and even kernel: out = ceil(n/s),
            the odd cell after); "full" (d(k-1) cells each side); an int p; (p_h, p_w); or
            ((top, bottom), (left, right)).
        dilation_rate: int or (d_h, d_w); the kernel cells are d apart.
        groups: split the channels into independent groups; groups == C_in is depthwise.
        padding_mode: what the padding holds: "zeros", "reflect", "replicate" or "circular".
        algorithm: "auto" (the table in striate.algorithms picks per layer and pass), or one of "direct" (the
            lectures' loop; slow, the reference), "im2col", "winograd", "fft", "separable", "pointwise", "depthwise",
            "toeplitz".
        activation: None, or "relu", "tanh" or "sigmoid" applied to the result inside the same op (in place:
            one array less and one pass less than a separate activation, as a Conv2D layer uses it).

    Shape:
        (N, H, W, C_in) -> (N, H_out, W_out, C_out) with H_out = floor((H + p_top + p_bottom - d(k-1) - 1) / s) + 1.

    >>> conv2d(np.ones((1, 6, 6, 1)), np.ones((3, 3, 1, 1))).shape
    (1, 4, 4, 1)
    """
    return _conv("conv2d", 2, x, kernel, bias, strides, padding, dilation_rate, groups, padding_mode, algorithm,
                 activation)


def conv3d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
           padding: Padding = "valid", dilation_rate: IntOrTuple = 1, groups: int = 1,
           padding_mode: PaddingMode = "zeros", algorithm: str = "auto", activation: Activation = None) -> Tensor:
    """3-D convolution of x (N, D, H, W, C_in) with kernel (kd, kh, kw, C_in // groups, C_out). See `conv2d`."""
    return _conv("conv3d", 3, x, kernel, bias, strides, padding, dilation_rate, groups, padding_mode, algorithm,
                 activation)


def _conv(op: str, rank: int, x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None, strides: IntOrTuple,
          padding: Padding, dilation_rate: IntOrTuple, groups: int, padding_mode: str, algorithm: str,
          activation: str | None = None) -> Tensor:
    inputs, weights, bias_tensor = _operands(op, x, kernel, bias)
    arguments = (strides, padding, dilation_rate, groups, padding_mode, activation)
    plan = _remembered_conv_plan if is_plain(arguments) else _conv_plan
    steps, dilation, pads, padded = plan(op, rank, inputs.shape, weights.shape,
                                         None if bias_tensor is None else bias_tensor.shape, *arguments)
    if padded:
        if padding_mode == "zeros":  # the convolution op pads with zeros itself
            return convolution(inputs, weights, steps, dilation, groups, algorithm, bias=bias_tensor,
                               activation=activation, padding=pads)
        inputs = pad(inputs, ((0, 0), *pads, (0, 0)), mode=PADDING_MODES[padding_mode])
    return convolution(inputs, weights, steps, dilation, groups, algorithm, bias=bias_tensor, activation=activation)


def _operands(op: str, x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None) -> tuple[Tensor, Tensor, Tensor | None]:
    """(x, kernel, bias or None) as Tensors, after refusing non-numeric data."""
    check_numeric(op, "input", x)
    check_numeric(op, "kernel", kernel)
    if bias is not None:
        check_numeric(op, "bias", bias)
    return as_tensor(x), as_tensor(kernel), None if bias is None else as_tensor(bias)


def _conv_plan(op: str, rank: int, input_shape: Shape, kernel_shape: Shape, bias_shape: Shape | None,
               strides: IntOrTuple, padding: Padding, dilation_rate: IntOrTuple, groups: int, padding_mode: str,
               activation: str | None) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...], bool]:
    """(strides, dilation, (before, after) padding per spatial axis, whether any is not zero) of a convolution
    call, after checking the activation, the geometry (`_conv_geometry`) and the bias's shape (raising, naming
    `op`, for the first that fails): what the shapes and arguments alone decide."""
    _check_activation(op, activation)
    steps, dilation, pads = _conv_geometry(op, rank, input_shape, kernel_shape, strides, padding, dilation_rate,
                                           groups, padding_mode)
    _check_bias_shape(op, bias_shape, kernel_shape[-1])
    return steps, dilation, pads, any(before or after for before, after in pads)


# A layer convolves with the same arguments at every call: its checked plan is kept per case (a failing check raises
# every time, as nothing is kept for it)
_remembered_conv_plan = functools.lru_cache(maxsize=1024)(_conv_plan)


def _check_activation(op: str, activation: str | None) -> None:
    if activation is not None and activation not in IN_PLACE_ACTIVATIONS:
        raise ValueError(f"{op}: activation must be None or one of {sorted(IN_PLACE_ACTIVATIONS)} (applied inside the "
                         f"op); received {activation!r}")


def _conv_geometry(op: str, rank: int, input_shape: Shape, kernel_shape: Shape, strides: IntOrTuple,
                   padding: Padding, dilation_rate: IntOrTuple, groups: int,
                   padding_mode: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(strides, dilation, (before, after) padding per spatial axis) of a convolution of an input of `input_shape`
    with a kernel of `kernel_shape`, after checking every argument (raising, naming `op`, for the first that fails)."""
    check_input_rank(op, input_shape, rank)
    _check_kernel(op, rank, input_shape, kernel_shape, groups)
    steps = per_axis(op, "strides", strides, rank)
    dilation = per_axis(op, "dilation_rate", dilation_rate, rank)
    kernel_size, spatial = kernel_shape[:rank], input_shape[1:-1]
    pads = padding_pairs(op, padding, spatial, kernel_size, steps, dilation)
    check_window_fits(op, spatial, kernel_size, steps, dilation, pads)
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: unknown padding_mode {padding_mode!r}; expected one of {list(PADDING_MODES)}")
    check_pad_arguments(op, input_shape, ((0, 0), *pads, (0, 0)), PADDING_MODES[padding_mode])
    return steps, dilation, pads


def _check_kernel(op: str, rank: int, input_shape: Shape, kernel_shape: Shape, groups: int) -> None:
    if len(kernel_shape) != rank + 2:
        raise ValueError(f"{op}: the kernel must have rank {rank + 2} {KERNEL_LAYOUTS[rank]}; "
                         f"received shape {tuple(kernel_shape)}")
    channels_in = input_shape[-1]
    check_groups(op, groups, channels_in, kernel_shape[-1])
    if kernel_shape[-2] * groups != channels_in:
        hint = ""
        if input_shape[1] == kernel_shape[-2] * groups:
            hint = f"; the input's axis 1 has {input_shape[1]}: did you pass NCHW? striate is channels-last"
        raise ValueError(
            f"{op}: the input has {channels_in} channels (last axis of {LAYOUTS[rank]} shape "
            f"{tuple(input_shape)}) but the kernel {tuple(kernel_shape)} {KERNEL_LAYOUTS[rank]} expects "
            f"C_in = {kernel_shape[-2]} x groups {groups} = {kernel_shape[-2] * groups}{hint}"
        )


def _check_bias_shape(op: str, bias_shape: Shape | None, channels_out: int) -> None:
    if bias_shape is not None and bias_shape != (channels_out,):
        raise ValueError(f"{op}: bias must have shape ({channels_out},), one per filter; received {bias_shape}")


def conv_transpose1d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
                     padding: Padding = "valid", output_padding: IntOrTuple | None = None,
                     dilation_rate: IntOrTuple = 1, groups: int = 1, algorithm: str = "auto",
                     activation: Activation = None) -> Tensor:
    """Transposed 1-D convolution of x (N, W, C_in) with kernel (kw, C_out // groups, C_in). See `conv_transpose2d`."""
    return _conv_transpose("conv_transpose1d", 1, x, kernel, bias, strides, padding, output_padding,
                           dilation_rate, groups, algorithm, activation)


def conv_transpose2d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
                     padding: Padding = "valid", output_padding: IntOrTuple | None = None,
                     dilation_rate: IntOrTuple = 1, groups: int = 1, algorithm: str = "auto",
                     activation: Activation = None) -> Tensor:
    """Transposed convolution ("deconvolution", fractionally strided convolution), as Keras' Conv2DTranspose.

    It is exactly the adjoint of conv2d: conv_transpose2d(y, w) equals the gradient of
    sum(conv2d(x, w, padding=P) * y) with respect to x, where x has this function's output shape. Each input
    cell stamps the kernel, scaled by its value, onto the output; overlapping stamps add.

    Args:
        x: (N, H, W, C_in).
        kernel: (kh, kw, C_out // groups, C_in), Keras' layout (the matching conv2d's kernel).
        padding: "valid", "same", "full", an int, or per-axis ints / (before, after) pairs: the padding of
            the matching conv2d, so padding removes cells from the output.
        output_padding: extra cells at the end of each axis (int or per axis), each < stride; None follows
            Keras' rule (see `conv_transpose_output_length`).
        groups: G splits the channels into independent groups, as PyTorch's ConvTranspose2d: input channels
            g*C_in/G ... (g+1)*C_in/G - 1 make output channels g*C_out/G ... (g+1)*C_out/G - 1 (the adjoint of
            conv2d with the same groups).
        activation: None, "relu", "tanh" or "sigmoid", applied inside the op with the bias (as conv2d's).

    Shape:
        H_out = (H - 1) s + d(k-1) + 1 - p_top - p_bottom + output_padding;
        with output_padding None: "valid" H s + max(d(k-1) + 1 - s, 0), "same" H s.

    >>> conv_transpose2d(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1))).shape     # the lectures' 3x3 -> 5x5
    (1, 5, 5, 1)
    """
    return _conv_transpose("conv_transpose2d", 2, x, kernel, bias, strides, padding, output_padding,
                           dilation_rate, groups, algorithm, activation)


def conv_transpose3d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
                     padding: Padding = "valid", output_padding: IntOrTuple | None = None,
                     dilation_rate: IntOrTuple = 1, groups: int = 1, algorithm: str = "auto",
                     activation: Activation = None) -> Tensor:
    """Transposed 3-D convolution of x (N, D, H, W, C_in) with kernel (kd, kh, kw, C_out // groups, C_in)."""
    return _conv_transpose("conv_transpose3d", 3, x, kernel, bias, strides, padding, output_padding,
                           dilation_rate, groups, algorithm, activation)


def _conv_transpose(op: str, rank: int, x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None,
                    strides: IntOrTuple, padding: Padding, output_padding: IntOrTuple | None,
                    dilation_rate: IntOrTuple, groups: int, algorithm: str, activation: str | None = None) -> Tensor:
    inputs, weights, bias_tensor = _operands(op, x, kernel, bias)
    arguments = (strides, padding, output_padding, dilation_rate, groups, activation)
    plan = _remembered_conv_transpose_plan if is_plain(arguments) else _conv_transpose_plan
    steps, dilation, out_shape, crop_start, reached, crop = plan(
        op, rank, inputs.shape, weights.shape, None if bias_tensor is None else bias_tensor.shape, *arguments)
    channels_out = weights.shape[-2] * groups
    if crop is not None:
        # the output lies inside the cells the matching convolution reaches: the op drops the others (the padding)
        return transposed_convolution(inputs, weights, (inputs.shape[0], *out_shape, channels_out), steps, dilation,
                                      groups=groups, algorithm=algorithm, bias=bias_tensor, activation=activation,
                                      padding=crop)
    # output_padding reaches past them: those cells are zeros, added after; the bias and activation then follow
    full = transposed_convolution(inputs, weights, (inputs.shape[0], *reached, channels_out), steps, dilation,
                                  groups=groups, algorithm=algorithm)
    y = _window_of(full, crop_start, out_shape)
    y = y if bias_tensor is None else add(y, bias_tensor)
    return y if activation is None else {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}[activation](y)


def _conv_transpose_geometry(op: str, rank: int, input_shape: Shape, kernel_shape: Shape, strides: IntOrTuple,
                             padding: Padding, output_padding: IntOrTuple | None, dilation_rate: IntOrTuple,
                             groups: int) -> tuple[tuple[int, ...], ...]:
    """(strides, dilation, output spatial shape, its first cell in the matching convolution's input gradient, the
    cells that gradient covers) of a transposed convolution, after checking every argument (raising, naming `op`,
    for the first that fails)."""
    check_input_rank(op, input_shape, rank)
    if len(kernel_shape) != rank + 2:
        raise ValueError(f"{op}: the kernel must have rank {rank + 2} (*kernel_size, C_out // groups, C_in); "
                         f"received shape {tuple(kernel_shape)}")
    if kernel_shape[-1] != input_shape[-1]:
        raise ValueError(f"{op}: the input has {input_shape[-1]} channels (last axis of shape {tuple(input_shape)}) "
                         f"but the kernel {tuple(kernel_shape)} (*kernel_size, C_out // groups, C_in) expects C_in = "
                         f"{kernel_shape[-1]}")
    if not is_int(groups) or groups < 1 or input_shape[-1] % groups:
        raise ValueError(f"{op}: groups must be a positive int dividing the input channels "
                         f"C_in={input_shape[-1]}; received {groups!r}")
    steps = per_axis(op, "strides", strides, rank)
    dilation = per_axis(op, "dilation_rate", dilation_rate, rank)
    extras: Sequence[int | None]
    if output_padding is None or is_int(output_padding):
        extras = (output_padding,) * rank
    elif not isinstance(output_padding, tuple | list) or len(output_padding) != rank:
        raise ValueError(f"{op}: output_padding must be None, an int or {rank} ints; received {output_padding!r}")
    else:
        extras = output_padding
    kernel_size, spatial = kernel_shape[:rank], input_shape[1:-1]
    axis_paddings: Sequence[str | int | tuple[int, int]]
    if isinstance(padding, str) or is_int(padding):
        axis_paddings = [padding] * rank
    else:
        axis_paddings = padding_pairs(op, padding, spatial, kernel_size, steps, dilation)
    out_shape, crop_start = [], []
    for n, k, s, d, axis_padding, extra in zip(spatial, kernel_size, steps, dilation, axis_paddings, extras):
        length = conv_transpose_output_length(n, k, s, axis_padding, extra, d, op=op)
        # the matching convolution pads `length` cells by (before, after) and must give back n cells
        before, after = padding_pair(axis_padding, length, k, s, d, op=op)
        k_eff = effective_kernel_size(k, d)
        if (length + before + after - k_eff) // s + 1 != n:
            raise ValueError(
                f"{op}: padding {axis_padding!r} with output_padding {extra} makes an output of {length} cells, "
                f"but convolving {length} cells back gives {output_formula(length, before + after, k_eff, s)} "
                f"cells, not the input's {n}: no convolution has this transpose"
            )
        out_shape.append(length)
        crop_start.append(before)
    # the matching convolution reaches (n - 1) s + k_eff cells; its input gradient covers exactly those
    reached = tuple((n - 1) * s + effective_kernel_size(k, d) for n, k, s, d in zip(spatial, kernel_size, steps,
                                                                                       dilation))
    return steps, dilation, tuple(out_shape), tuple(crop_start), reached


def _conv_transpose_plan(op: str, rank: int, input_shape: Shape, kernel_shape: Shape, bias_shape: Shape | None,
                         strides: IntOrTuple, padding: Padding, output_padding: IntOrTuple | None,
                         dilation_rate: IntOrTuple, groups: int, activation: str | None) -> tuple[Any, ...]:
    """`_conv_transpose_geometry`'s (strides, dilation, output shape, its first cell, the cells reached), then the
    (before, after) cells of the reached ones to drop where the output lies inside them, else None; after checking
    the activation, the geometry and the bias's shape: what the shapes and arguments alone decide."""
    _check_activation(op, activation)
    steps, dilation, out_shape, crop_start, reached = _conv_transpose_geometry(
        op, rank, input_shape, kernel_shape, strides, padding, output_padding, dilation_rate, groups)
    _check_bias_shape(op, bias_shape, kernel_shape[-2] * groups)
    inside = all(b + length <= n for b, length, n in zip(crop_start, out_shape, reached))
    crop = tuple((b, n - b - length) for b, length, n in zip(crop_start, out_shape, reached)) if inside else None
    return steps, dilation, out_shape, crop_start, reached, crop


_remembered_conv_transpose_plan = functools.lru_cache(maxsize=1024)(_conv_transpose_plan)


def _window_of(full: Tensor, start: Sequence[int], shape: Sequence[int]) -> Tensor:
    """Cells [start, start + shape) of `full` on each spatial axis; cells past its end are zeros."""
    spatial = full.shape[1:-1]
    available = tuple(min(length, n - b) for length, n, b in zip(shape, spatial, start))
    cropped = getitem(full, (slice(None), *(slice(b, b + a) for b, a in zip(start, available)), slice(None)))
    missing = tuple(length - a for length, a in zip(shape, available))
    if any(missing):
        cropped = pad(cropped, ((0, 0), *((0, m) for m in missing), (0, 0)))
    return cropped


def depthwise_conv2d(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None, strides: IntOrTuple = 1,
                     padding: Padding = "valid", dilation_rate: IntOrTuple = 1, algorithm: str = "auto",
                     activation: Activation = None) -> Tensor:
    """Depthwise convolution, as Keras' DepthwiseConv2D: each input channel convolved with its own filters.

    Args:
        x: (N, H, W, C_in).
        kernel: (kh, kw, C_in, depth_multiplier).
        bias: (C_in * depth_multiplier,) or None.
    Output channel c * depth_multiplier + m is input channel c convolved with kernel[:, :, c, m]; the rest
    of the arguments (activation included) and the output size are those of `conv2d`. It is conv2d with
    groups = C_in.
    """
    op = "depthwise_conv2d"
    check_numeric(op, "kernel", kernel)
    kernel = as_tensor(kernel)
    x_shape = np.shape(x)
    if kernel.ndim != 4:
        raise ValueError(f"{op}: the kernel must have rank 4 (kh, kw, C_in, depth_multiplier); "
                         f"received shape {kernel.shape}")
    if len(x_shape) == 4 and x_shape[-1] != kernel.shape[2]:
        raise ValueError(f"{op}: the input has {x_shape[-1]} channels (last axis of (N, H, W, C) shape {x_shape}) "
                         f"but the kernel {kernel.shape} (kh, kw, C_in, depth_multiplier) expects "
                         f"C_in = {kernel.shape[2]}")
    kh, kw, channels, multiplier = kernel.shape
    grouped = reshape(kernel, (kh, kw, 1, channels * multiplier))
    return _conv(op, 2, x, grouped, bias, strides, padding, dilation_rate, channels, "zeros", algorithm, activation)


def separable_conv2d(x: ArrayLike, depthwise_kernel: ArrayLike, pointwise_kernel: ArrayLike,
                     bias: ArrayLike | None = None, strides: IntOrTuple = 1, padding: Padding = "valid",
                     dilation_rate: IntOrTuple = 1, algorithm: str = "auto") -> Tensor:
    """Depthwise-separable convolution, as Keras' SeparableConv2D: `depthwise_conv2d`, then a 1x1 conv2d.

    Args:
        depthwise_kernel: (kh, kw, C_in, depth_multiplier); strides, padding and dilation apply here.
        pointwise_kernel: (1, 1, C_in * depth_multiplier, C_out).
        bias: (C_out,) or None, added after the pointwise step.

    Multiplies per output cell: kh kw C_in m + C_in m C_out, against kh kw C_in C_out for a full conv2d.
    """
    depthwise = depthwise_conv2d(x, depthwise_kernel, None, strides, padding, dilation_rate, algorithm)
    if np.ndim(pointwise_kernel) != 4 or np.shape(pointwise_kernel)[:2] != (1, 1):
        raise ValueError(f"separable_conv2d: the pointwise kernel must have shape (1, 1, C_in * depth_multiplier, "
                         f"C_out); received {np.shape(pointwise_kernel)}")
    return _conv("separable_conv2d", 2, depthwise, pointwise_kernel, bias, 1, "valid", 1, 1, "zeros", algorithm)
