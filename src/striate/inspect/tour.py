"""A tour of the lectures' worked examples, each computed by striate (the README's main command)."""

import numpy as np

import striate.functional as F
from striate import Tensor
from striate.inspect.one_output import arithmetic_of_one_output

SIX_BY_SIX = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                       [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=np.float32)
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float32)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)


def single_channel_conv(image, kernel, **options):
    """conv2d on one (H, W) image with one (kh, kw) filter, returning (H_out, W_out)."""
    return F.conv2d(image[None, :, :, None], kernel[:, :, None, None], **options).numpy()[0, :, :, 0]


def run_tour(say=print):
    say("1. The 6x6 image and the vertical-edge filter (valid, stride 1) give a 4x4 map:")
    say(_matrix(single_channel_conv(SIX_BY_SIX, VERTICAL_EDGE)))
    say("   its top-left value: " + arithmetic_of_one_output(SIX_BY_SIX, VERTICAL_EDGE, 0, 0))

    bright_dark = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float32)
    say("\n2. A bright|dark edge lights up as a band of 30s:")
    say(_matrix(single_channel_conv(bright_dark, VERTICAL_EDGE)))

    say("\n3. True convolution flips the kernel; cross-correlation (what CNN layers compute) does not.")
    ramp = np.tile(np.arange(5, dtype=np.float32), (5, 1))
    say("   Sobel-x on a left-to-right ramp, correlate: " + _row(F.correlate(ramp, SOBEL_X).numpy()[0]))
    say("   Sobel-x on a left-to-right ramp, convolve:  " + _row(F.convolve(ramp, SOBEL_X).numpy()[0]))

    say("\n4. Output sizes, floor((n + 2p - k) / s) + 1:")
    say(f"   7x7, 3x3 kernel, padding 1, stride 1 -> {F.conv_output_length(7, 3, 1, 1)}")
    say(f"   7x7, 3x3 kernel, padding 1, stride 2 -> {F.conv_output_length(7, 3, 2, 1)}")
    say(f"   AlexNet conv1: 227, 11x11, stride 4 -> {F.conv_output_length(227, 11, 4)}")
    first = F.conv2d(np.zeros((1, 600, 600, 1), np.float32), np.zeros((5, 5, 1, 8), np.float32), strides=2,
                     padding=2)
    second = F.conv2d(first, np.zeros((3, 3, 8, 4), np.float32), strides=3, padding=1)
    say(f"   600x600x1 -> 5x5 x8, pad 2, stride 2 -> {first.shape[1:]} -> 3x3 x4, pad 1, stride 3 -> "
        f"{second.shape[1:]}")

    say("\n5. Max and average pooling, 2x2 windows, stride 2:")
    block = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=np.float32)[None, :, :, None]
    say("   max:     " + _row(F.max_pool2d(block).numpy().ravel()))
    say("   average: " + _row(F.avg_pool2d(block).numpy().ravel()))

    say("\n6. A transposed convolution grows a 3x3 input with a 3x3 filter of ones to 5x5:")
    say(_matrix(F.conv_transpose2d(np.ones((1, 3, 3, 1), np.float32), np.ones((3, 3, 1, 1), np.float32))
                .numpy()[0, :, :, 0]))

    say("\n7. Backpropagation: d sum(conv2d(x, w)) / dw: each weight collects the 16 input cells it multiplied")
    x = Tensor(SIX_BY_SIX[None, :, :, None])
    w = Tensor(VERTICAL_EDGE[:, :, None, None], requires_grad=True)
    F.conv2d(x, w).sum().backward()
    say(_matrix(w.grad[:, :, 0, 0]))


def _row(values):
    return " ".join(f"{v:g}" for v in values)


def _matrix(array):
    width = max(len(f"{v:g}") for v in array.ravel())
    return "\n".join("   " + " ".join(f"{v:g}".rjust(width) for v in row) for row in array)
