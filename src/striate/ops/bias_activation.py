"""A layer's bias and activation applied in place to the fresh output of its op, and their gradients.

An op that computes z = A x (a convolution, a dense product) into a fresh array can finish the layer in place:

    y = act(z + b)              forward: b (C,) added per channel of the last axis, then act, over y itself
    dz = act'(y) dy             backward, from the kept output y alone (relu, tanh, sigmoid: `IN_PLACE_ACTIVATIONS`)
    db = dz summed over every axis but the last

which saves the two passes and the two output-sized arrays that separate add and activation ops would take. The
bias with relu is one compiled pass, and so is act'(y) dy together with db (`striate.ops.activation_loops`); an
output that is not contiguous (separable's) gets NumPy's functions instead. The batch (the first axis) is cut into
chunks of images for striate's threads.
"""

import numpy as np

from striate.algorithms.chunking import batch_chunks, split_batch, sum_in_order
from striate.core.function import sum_leading_axes
from striate.ops import activation_loops
from striate.ops.activations import IN_PLACE_ACTIVATIONS

TILED_BIAS_CHANNELS = 32  # below this many channels the bias is tiled along rows of W*C (when it pays: see below)
TILED_BIAS_MIN_ROWS = 32  # ... and only over more rows than this: over fewer, making the tile costs more than it saves
SMALL_OUTPUT = 2048  # values up to which NumPy's broadcast add and the activation run at once (see below)


def add_bias_and_activate(y, bias, activation):
    """activation(y + bias) (bias and activation each optional), in place in a fresh contiguous y, the batch split
    over the workers (`striate.algorithms.chunking`); the bias (and relu) in one compiled pass
    (`striate.ops.activation_loops`) over rows of the C channels, or, with few channels and many rows, over rows of
    the last two axes (W*C) with the bias tiled to match, so that the loop along a row is long enough to vectorize.
    Measured (us, rows of C against tiled): 1 x 198 x 128 4.4 / 14.4, 1 x 32x32 x 16 6.6 / 8.8, 2 x 32x32 x 16
    12.2 / 10.3, 128 x 24x24 x 6 15.9 / 10.8. Up to SMALL_OUTPUT values (a dense layer's or a small map's output at
    batch 1) NumPy's broadcast add and the activation on all of y cost less than the chunks and the compiled pass
    set up (us, these passes against NumPy's: 1 x 120 relu 5.8 / 4.1, 1 x 10 bias alone 6.0 / 2.2, 1 x 28x28 x 1
    sigmoid 13.4 / 8.1; 1 x 7x7 x 64 relu 6.4 / 6.9 and 1 x 14x14 x 32 relu 6.4 / 8.7 past it), with the same bits."""
    values = IN_PLACE_ACTIVATIONS[activation][0] if activation is not None else None
    if bias is None and values is None:
        return y
    if not y.flags.c_contiguous or (bias is not None and np.result_type(y, bias) != y.dtype):
        y = y if bias is None else add_bias(y, bias)
        return y if values is None else values(y, out=y)
    if y.size <= SMALL_OUTPUT:
        y = y if bias is None else np.add(y, bias, out=y)
        return y if values is None else values(y, out=y)
    channels, tiled_length = y.shape[-1], y.shape[-2] * y.shape[-1]
    tiled = channels < TILED_BIAS_CHANNELS and y.size > TILED_BIAS_MIN_ROWS * tiled_length
    row_length = tiled_length if tiled else channels
    bias_row = None if bias is None else (np.tile(bias, y.shape[-2]) if tiled else bias)

    def chunk(images):
        part = y[images]
        if bias_row is not None and activation == "relu":
            activation_loops.add_bias_relu(part.reshape(-1, row_length), bias_row)
            return
        if bias_row is not None:
            activation_loops.add_bias(part.reshape(-1, row_length), bias_row)
        if values is not None:
            values(part, out=part)

    split_batch(chunk, batch_chunks(y.shape[0], y[:1].nbytes), work=y.size)
    return y


def through_activation_and_bias(op, grad):
    """(dz, db) for an op with a fused activation and bias (a convolution, the dense op: its `activation`, its kept
    output `result` and its `needs_input_grad`): dz = dy * act'(y) from the kept output
    (dy itself without activation), db = dz summed over all but the channels when the bias (a third input) wants
    a gradient, else None."""
    wants_bias_gradient = len(op.needs_input_grad) == 3 and op.needs_input_grad[2]
    if op.activation is not None:
        return _activation_gradient(op.activation, grad, op.result, wants_bias_gradient)
    return grad, (sum_leading_axes(grad, grad.ndim - 1) if wants_bias_gradient else None)


def _activation_gradient(activation, grad, y, with_bias_gradient):
    """(dz, db): dz = dy * act'(y), the activation's gradient from its output y, and db = dz summed over all but
    the channel axis (None unless asked for), in one compiled pass on the workers."""
    dtype = np.result_type(grad, y)
    if not y.flags.c_contiguous or y.dtype != dtype:
        out = IN_PLACE_ACTIVATIONS[activation][1](grad, y)
        return out, (sum_leading_axes(out, out.ndim - 1) if with_bias_gradient else None)
    grad = np.ascontiguousarray(grad, dtype=dtype)
    out = np.empty(y.shape, dtype=dtype)
    row_length = y.shape[-2] * y.shape[-1]
    kind, one = activation_loops.KINDS[activation], dtype.type(1)

    def chunk(images):
        row_sums = np.zeros(row_length)
        activation_loops.gradient_and_row_sums(kind, *(a[images].reshape(-1, row_length) for a in (grad, y, out)),
                                               row_sums, one)
        return row_sums

    row_sums = sum_in_order(split_batch(chunk, batch_chunks(y.shape[0], y[:1].nbytes), work=y.size))
    bias_gradient = row_sums.reshape(y.shape[-2:]).sum(axis=0).astype(dtype) if with_bias_gradient else None
    return out, bias_gradient


def add_bias(y, bias):
    """y (N, *out, C) + bias (C,), in place into y when y is a fresh contiguous array of the result's dtype.

    The rows are widened to the last two axes, bias tiled to match: with C = 6 channels NumPy's broadcast add
    would run its inner loop 6 floats at a time.
    """
    if not y.flags.c_contiguous or y.ndim < 3 or np.result_type(y, bias) != y.dtype:
        return y + bias
    rows = y.reshape(-1, y.shape[-2] * y.shape[-1])
    np.add(rows, np.tile(bias, y.shape[-2]), out=rows)
    return y
