"""`apply`: filter one image with a kernel, by striate's own convolution (striate.functional.conv2d).

Padding modes are striate's pad modes; scipy.ndimage names the same extensions differently:

    striate / PyTorch   NumPy np.pad     scipy.ndimage     [1 2 3] padded by 2
    "constant"          "constant"       "constant"        0 0 [1 2 3] 0 0
    "reflect"           "reflect"        "mirror"          3 2 [1 2 3] 2 1
    "replicate"         "edge"           "nearest"         1 1 [1 2 3] 3 3
    "circular"          "wrap"           "wrap"            2 3 [1 2 3] 1 2

scipy.ndimage's own default "reflect" (NumPy "symmetric", 2 1 [1 2 3] 3 2, the edge cell repeated) has no
striate counterpart: compare with scipy's mode="mirror".
"""

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate import functional as F
from striate.core.runtime import no_grad
from striate.functional.convolution import PaddingMode
from striate.ops.padding import PAD_MODES

CONV_PADDING_MODES: dict[str, PaddingMode] = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate",
                                              "circular": "circular"}
MODES = ("correlate", "convolve")
PADDINGS = ("same", "valid")
CHANNELS = ("each", "sum")


def apply(image: ArrayLike, kernel: ArrayLike, mode: Literal["correlate", "convolve"] = "correlate",
          padding: Literal["same", "valid"] = "same",
          padding_mode: Literal["constant", "reflect", "replicate", "circular"] = "reflect",
          channels: Literal["each", "sum"] = "each") -> NDArray[np.floating[Any]]:
    """Filter one image: (H, W) greyscale or (H, W, C), with a kernel in any of these layouts:

        (kh, kw)                 one 2-D filter
        (kh, kw, 1, C_out)       C_out filters, each used for every channel (C_in = 1 stands for any C)
        (kh, kw, C, C_out)       per-channel filters: Keras' Conv2D kernel ("sum") or DepthwiseConv2D's ("each")

    channels="each" (a depthwise convolution, as DepthwiseConv2D): every channel is filtered on its own, so a blur
    of a colour photograph stays colour:

        y[i, j, c * C_out + o] = sum_{a, b} x_pad[i + a, j + b, c] * k[a, b, c or 0, o]

    channels="sum" (a convolution layer, as Conv2D): the channels are summed,

        y[i, j, o] = sum_{a, b, c} x_pad[i + a, j + b, c] * k[a, b, c or 0, o]

    mode "correlate" slides the kernel as it is (a conv layer's cross-correlation); "convolve" flips it first,
    k[kh - 1 - a, kw - 1 - b] (true convolution, scipy.ndimage.convolve). padding "same" keeps H x W, filling the
    border by `padding_mode` (see this module's table; scipy's names differ); "valid" keeps only the positions
    where the kernel fits: (H - kh + 1, W - kw + 1).

    Shape: the channel axis is (H_out, W_out, channels out), dropped only when the image is (H, W) and one channel
    comes out; channels out = C * C_out ("each") or C_out ("sum"). The result is float32, or float64 for a
    float64 image.

    >>> apply(np.arange(9.0).reshape(3, 3), [[0, 0, 0], [0, 1, 0], [0, 0, 0]]).shape
    (3, 3)
    """
    image, kernel = _checked(image, kernel, mode, padding, padding_mode, channels)
    greyscale = image.ndim == 2
    pixels = image[:, :, None] if greyscale else image
    count = pixels.shape[2]
    if mode == "convolve":
        kernel = kernel[::-1, ::-1]
    if channels == "each":
        if kernel.shape[2] == 1:
            kernel = np.repeat(kernel, count, axis=2)
        grouped = kernel.reshape(*kernel.shape[:2], 1, count * kernel.shape[3])  # (kh, kw, 1, C * C_out)
        groups = count
    else:
        grouped = np.repeat(kernel, count, axis=2) if kernel.shape[2] == 1 else kernel
        groups = 1
    with no_grad():
        filtered = F.conv2d(pixels[None], np.ascontiguousarray(grouped), padding=padding, groups=groups,
                            padding_mode=CONV_PADDING_MODES[padding_mode]).numpy()[0]
    return filtered[:, :, 0] if greyscale and filtered.shape[2] == 1 else filtered


def _checked(image: ArrayLike, kernel: ArrayLike, mode: str, padding: str, padding_mode: str,
             channels: str) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """(image, kernel as (kh, kw, C_in, C_out)) in the image's float dtype, or one ValueError naming what is wrong."""
    for argument, value, choices in (("mode", mode, MODES), ("padding", padding, PADDINGS),
                                     ("padding_mode", padding_mode, PAD_MODES), ("channels", channels, CHANNELS)):
        if value not in choices:
            raise ValueError(f"filters.apply: {argument} must be one of {', '.join(map(repr, choices))}; "
                             f"received {value!r}")
    image, kernel = np.asarray(image), np.asarray(kernel)
    for what, array in (("image", image), ("kernel", kernel)):
        if array.dtype.kind not in "biuf":
            raise ValueError(f"filters.apply: the {what} must hold numbers; received dtype {array.dtype}")
    dtype = np.float64 if image.dtype == np.float64 else np.float32
    image, kernel = image.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
    if image.ndim not in (2, 3) or 0 in image.shape:
        raise ValueError(f"filters.apply: expects one image (H, W) or (H, W, C); received shape {image.shape}")
    if kernel.ndim == 2:
        kernel = kernel[:, :, None, None]
    if kernel.ndim != 4 or 0 in kernel.shape:
        raise ValueError(f"filters.apply: the kernel must be (kh, kw) or (kh, kw, C_in, C_out); "
                         f"received shape {kernel.shape}")
    count = 1 if image.ndim == 2 else image.shape[2]
    if kernel.shape[2] not in (1, count):
        kind = "greyscale (H, W)" if image.ndim == 2 else f"{count}-channel"
        raise ValueError(f"filters.apply: a {kind} image of shape {image.shape} cannot take a kernel for "
                         f"C_in = {kernel.shape[2]} channels {kernel.shape} (kh, kw, C_in, C_out); use a kernel "
                         f"with C_in = 1 or {count}")
    height, width = image.shape[:2]
    kh, kw = kernel.shape[:2]
    if padding == "valid" and (kh > height or kw > width):
        raise ValueError(f"filters.apply: a {kh}x{kw} kernel does not fit a {height}x{width} image with "
                         f"padding 'valid'; received image {image.shape}, kernel {kernel.shape}")
    largest_pad = max(kh, kw) // 2  # "same" puts the odd cell after: pads (k - 1) // 2 before, k // 2 after
    limits = {"reflect": min(height, width) - 1, "circular": min(height, width)}
    if padding == "same" and largest_pad > limits.get(padding_mode, largest_pad):
        raise ValueError(f"filters.apply: {padding_mode!r} padding of a {kh}x{kw} kernel adds {largest_pad} cells, "
                         f"more than a {height}x{width} image can {'mirror' if padding_mode == 'reflect' else 'wrap'}"
                         f"; received image {image.shape}")
    return image, kernel
