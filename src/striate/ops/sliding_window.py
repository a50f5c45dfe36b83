"""`sliding_window`: every (strided, dilated) window of a channels-last input, as one view.

(N, *spatial, C) -> (N, *out, *window, C). Pooling is this op followed by a max or a mean over the window
axes; backward is the col2im scatter-add of `striate.algorithms.windows`.
"""

from striate.algorithms.windows import scatter_windows, window_view
from striate.core.function import Function


class SlidingWindow(Function):
    def forward(self, x, window_shape, strides, dilation):
        self.input_shape, self.strides, self.dilation = x.shape, strides, dilation
        return window_view(x, window_shape, strides, dilation)

    def backward(self, grad):
        return (scatter_windows(grad, self.input_shape, self.strides, self.dilation),)


def sliding_window(x, window_shape, strides, dilation):
    """Windows of `x` (N, *spatial, C): out = floor((n - d(k-1) - 1) / s) + 1 positions per axis.

    Arguments are tuples with one entry per spatial axis; `x` must already be padded.
    """
    return SlidingWindow.apply(x, window_shape=tuple(window_shape), strides=tuple(strides), dilation=tuple(dilation))
