"""The arithmetic of one value of a 2-D convolution or pooling layer, computed from the layer's input.

For output (i, j, o) of a Conv2D with kernel w (kh, kw, C_in / groups, C_out), bias b, strides (s_h, s_w),
dilation (d_h, d_w) and (p_top, p_left) cells of padding before the input, the window reads the input cells

    (i s_h + a d_h - p_top,  j s_w + c d_w - p_left),    a < kh, c < kw

(a cell outside the input is padding: zero), over the input channels of o's group g = o // (C_out / groups),
channels g C_in / groups ... (g + 1) C_in / groups - 1, and

    z = sum over a, c and the channels of window * w[:, :, :, o]  +  b[o],      y = activation(z).

DepthwiseConv2D (kernel (kh, kw, C_in, m)): output channel o = k m + q reads input channel k alone with kernel
w[:, :, k, q]. MaxPooling2D / AveragePooling2D: the window of channel o, y = its maximum (padding cells never
win) or the mean of its cells inside the input (Keras' "same"). The padding is striate's (`padding_pairs`:
TensorFlow's "same" rule), so y equals the layer's own output.

    >>> image = np.arange(64, dtype="float32").reshape(8, 8, 1) / 64       # (H, W, C): the layer's input
    >>> conv = Conv2D(4, 3)
    >>> output = conv(image[None]).numpy()
    >>> cell = cell_arithmetic(conv, image, 5, 5, 3)                        # output (5, 5), channel 3
    >>> cell.products.shape                                                 # (kh, kw, channels of the group)
    (3, 3, 1)
    >>> bool(np.isclose(cell.value, output[0, 5, 5, 3]))
    True
"""

from dataclasses import dataclass

import numpy as np

from striate.core.tensor import Tensor
from striate.functional.arguments import padding_pairs
from striate.functional.output_size import is_int
from striate.layers import activations
from striate.layers.convolution import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from striate.layers.pooling import AveragePooling2D, MaxPooling2D

KINDS = {"convolution": Conv2D, "depthwise convolution": DepthwiseConv2D, "max pooling": MaxPooling2D,
         "average pooling": AveragePooling2D}
UNSUPPORTED = (Conv2DTranspose, SeparableConv2D)  # subclasses of the kinds above, computed otherwise


@dataclass(eq=False)
class CellArithmetic:
    """How output (row, column, channel) of one layer is computed; arrays in float64.

    kind: a key of KINDS. origin: (row, column) of the window's top-left cell in input coordinates (negative
    inside the padding). cells: (kh, kw, 2) input coordinates of every window cell (dilation spreads them).
    inside: (kh, kw) bool, False for padding cells. input_channels: the input channels read, one per entry of
    the last axis of window, kernel and products. window: (kh, kw, n) input values (0 in the padding).
    kernel, products: (kh, kw, n) for convolutions, None for pooling. channel_sums: (n,) sums of the products
    (of the window for pooling). total: their sum (convolution), the maximum or the mean (pooling).
    bias: b[o] or None. z: total + bias. activation: the layer's activation name ("linear" for pooling).
    value: activation(z), what the layer outputs.
    """

    kind: str
    layer: str
    position: tuple
    channel: int
    padding: tuple
    strides: tuple
    dilation: tuple
    origin: tuple
    cells: np.ndarray
    inside: np.ndarray
    input_channels: list
    window: np.ndarray
    kernel: np.ndarray | None
    products: np.ndarray | None
    channel_sums: np.ndarray
    total: float
    bias: float | None
    z: float
    activation: str
    value: float


def arithmetic_kind(layer):
    """The key of KINDS whose arithmetic `cell_arithmetic` writes out for `layer`, or None."""
    if isinstance(layer, UNSUPPORTED):
        return None
    for kind, layer_type in KINDS.items():
        if isinstance(layer, layer_type):
            return kind
    return None


def cell_arithmetic(layer, layer_input, row, column, channel):
    """The arithmetic of output (row, column, channel) of `layer` for one input (see the module's docstring).

    Args:
        layer: a built Conv2D, DepthwiseConv2D, MaxPooling2D or AveragePooling2D (not a transposed or separable
            convolution).
        layer_input: (H, W, C) what the layer receives (the previous layer's output for one image).
        row, column, channel: the output cell.
    Returns a CellArithmetic. Raises ValueError for another layer, a softmax activation (it mixes the channels
    of a position), an input of the wrong channel count or a cell outside the output.
    """
    op = "cell_arithmetic"
    kind = arithmetic_kind(layer)
    if kind is None:
        raise ValueError(f"{op}: layer {layer.name!r} is a {type(layer).__name__}; the arithmetic of one value is "
                         f"written out for {', '.join(t.__name__ for t in KINDS.values())} layers")
    x = np.asarray(layer_input, dtype=np.float64)
    pooling = kind.endswith("pooling")
    size = layer.pool_size if pooling else layer.kernel_size
    dilation = (1, 1) if pooling else tuple(layer.dilation_rate)
    expected_channels = _input_channels(layer, pooling)
    if x.ndim != 3 or (expected_channels is not None and x.shape[2] != expected_channels):
        raise ValueError(f"{op}: layer {layer.name!r} takes (H, W, {expected_channels or 'C'}) inputs; received "
                         f"layer_input of shape {x.shape}")
    activation = "linear" if pooling else activations.name_of(layer.activation)
    if activation == "softmax":
        raise ValueError(f"{op}: layer {layer.name!r} ends with softmax, which mixes the channels of a position; "
                         "its arithmetic is not one window's")
    pads = padding_pairs(layer.name, layer.padding, x.shape[:2], size, layer.strides, dilation)
    out_shape = layer.compute_output_shape((None, *x.shape))[1:]
    if not all(is_int(v) for v in (row, column, channel)) or not (
            0 <= row < out_shape[0] and 0 <= column < out_shape[1] and 0 <= channel < out_shape[2]):
        raise ValueError(f"{op}: layer {layer.name!r} outputs {out_shape[0]}x{out_shape[1]}x{out_shape[2]} "
                         f"(rows, columns, channels); received row={row!r}, column={column!r}, channel={channel!r}")

    origin = (row * layer.strides[0] - pads[0][0], column * layer.strides[1] - pads[1][0])
    offsets = np.stack(np.meshgrid(np.arange(size[0]) * dilation[0], np.arange(size[1]) * dilation[1],
                                   indexing="ij"), axis=-1)
    cells = offsets + np.array(origin)
    inside = ((cells[..., 0] >= 0) & (cells[..., 0] < x.shape[0]) & (cells[..., 1] >= 0)
              & (cells[..., 1] < x.shape[1]))
    input_channels, kernel = _channels_and_kernel(layer, kind, x.shape[2], channel)
    clipped = np.clip(cells, 0, np.array(x.shape[:2]) - 1)
    window = np.where(inside[..., None], x[clipped[..., 0], clipped[..., 1]][..., input_channels], 0.0)

    products = None if kernel is None else window * kernel
    bias = None
    if kind == "max pooling":
        channel_sums = window.sum(axis=(0, 1))
        total = float(window[inside].max())
    elif kind == "average pooling":
        channel_sums = window.sum(axis=(0, 1))
        total = float(channel_sums[0] / inside.sum())
    else:
        channel_sums = products.sum(axis=(0, 1))
        total = float(channel_sums.sum())
        if layer.bias is not None:
            bias = float(layer.bias.numpy()[channel])
    z = total + (bias or 0.0)
    value = float(layer.activation(Tensor(np.array([z]))).numpy()[0]) if not pooling else z
    return CellArithmetic(kind, layer.name, (row, column), channel, pads, tuple(layer.strides), dilation, origin,
                          cells, inside, input_channels, window, kernel, products, channel_sums, total, bias, z,
                          activation, value)


def _input_channels(layer, pooling):
    """The channel count the layer's kernel was built for (None for pooling: any)."""
    if pooling:
        return None
    kernel = layer.kernel.numpy()
    return kernel.shape[2] * (1 if isinstance(layer, DepthwiseConv2D) else layer.groups)


def _channels_and_kernel(layer, kind, channels, out):
    """The input channels output channel `out` reads, and its kernel (kh, kw, len(channels)) (None: pooling)."""
    if kind.endswith("pooling"):
        return [out], None
    weights = layer.kernel.numpy().astype(np.float64)
    if kind == "depthwise convolution":
        source, copy = divmod(out, layer.depth_multiplier)
        return [source], weights[:, :, source : source + 1, copy]
    per_group = channels // layer.groups
    group = out // (layer.filters // layer.groups)
    return list(range(group * per_group, (group + 1) * per_group)), weights[:, :, :, out]
