"""`FilterBank`: a Conv2D whose kernel is a given, fixed bank of filters (Sobel, Gabor, ...), never trained.

It is a Conv2D (no bias, no activation) in every respect the rest of striate asks about: output shape, padding,
receptive field, parameters (all non-trainable) and multiply-accumulates, so `summary` and `striate.plan`
count it as the convolution it is.
"""

import numpy as np

from striate import functional as F
from striate.layers.convolution import Conv2D

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class FilterBank(Conv2D):
    """A frozen 2-D convolution with the kernels given: y = conv2d(x, kernels), as keras.layers.Conv2D with
    trainable=False, use_bias=False and kernel_initializer=Constant(kernels).

    Args:
        kernels: (kh, kw, C_in, filters), Keras' kernel layout (e.g. striate.filters.gabor_bank(4, 2)), or one 2-D
            filter (kh, kw) for a single-channel input.
        strides, dilation_rate: an int or one per axis.
        padding: "same" (default: the output keeps H x W), "valid", or explicit as striate.functional.conv2d.
        padding_mode: what "same" padding holds: "zeros" (as Conv2D), "reflect", "replicate" or "circular".
    Weights: kernel (kh, kw, C_in, filters), non-trainable: fit leaves it as it is.

    Shape: (N, H, W, C_in) -> (N, H_out, W_out, filters), H_out by conv2d's formula (H for "same", stride 1).
    """

    def __init__(self, kernels, strides=1, padding="same", dilation_rate=1, padding_mode="zeros", name=None,
                 input_shape=None):
        kernels = np.array(kernels, dtype=np.float32)
        if kernels.ndim == 2:
            kernels = kernels[:, :, None, None]
        if kernels.ndim != 4 or 0 in kernels.shape:
            raise ValueError(f"FilterBank: kernels must be (kh, kw, C_in, filters) or (kh, kw); "
                             f"received shape {kernels.shape}")
        if not np.isfinite(kernels).all():
            raise ValueError(f"FilterBank: kernels must be finite; received {int((~np.isfinite(kernels)).sum())} "
                             f"NaN or infinite values in shape {kernels.shape}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"FilterBank: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}; "
                             f"received {padding_mode!r}")
        super().__init__(kernels.shape[3], kernels.shape[:2], strides, padding, dilation_rate=dilation_rate,
                         use_bias=False, kernel_initializer="zeros", name=name, input_shape=input_shape,
                         trainable=False)
        self.kernels = kernels
        self.padding_mode = padding_mode

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels != self.kernels.shape[2]:
            raise ValueError(f"{self.name}: the kernels {self.kernels.shape} (kh, kw, C_in, filters) expect "
                             f"C_in = {self.kernels.shape[2]} channels; received input shape {input_shape}")
        self.kernel = self.add_weight("kernel", self.kernels.shape, "zeros", trainable=False)
        self.kernel.data[...] = self.kernels
        self.bias = None

    def call(self, inputs, training=False):
        return F.conv2d(inputs, self.kernel, None, self.strides, self.padding, self.dilation_rate,
                        padding_mode=self.padding_mode)

    def get_config(self):
        kernels = self.kernel.data if self.built else self.kernels
        return {"name": self.name, "kernels": kernels.tolist(), "strides": self.strides, "padding": self.padding,
                "dilation_rate": self.dilation_rate, "padding_mode": self.padding_mode}
