"""Elementwise passes over a batch, cut into chunks of images for striate's threads.

An op whose work is one pass over an activation (batch norm, relu, the sum of a residual connection) sees its
arrays as rows (M, C), M every position of every image and C the last axis, and runs its pass on the rows of
each chunk of images (`batch_chunks`: fixed by the problem, so sums added chunk by chunk come out the same on
1 thread or 16; `split_batch` runs a pass below PARALLEL_MIN_WORK on the calling thread alone).
"""

import math

import numpy as np

from striate.algorithms.chunking import batch_chunks, split_batch

# elementwise steps a value counts for, toward PARALLEL_MIN_WORK, in a pass that does little more than read and write
# memory (relu, leaky relu and their gradients, a sum): such a pass of 524,288 float32 values takes 60-80 us on one
# thread, about what handing half of it to a worker costs, so it splits only from twice that size
# (docs/algorithms.md)
STREAMING_WORK = 0.5


def rows(array):
    """The array as (M, C): every axis but the last flattened (a view of a contiguous array)."""
    return array.reshape(-1, array.shape[-1])


def each_chunk(x, function, streaming=False):
    """[function(slice of rows(x) for chunk) for each chunk of x's batch], shared by striate's threads, in chunk
    order; a streaming pass's work counts STREAMING_WORK a value. An x of fewer than two axes is one chunk."""
    if x.ndim < 2:
        return [function(slice(None))]
    per_image = math.prod(x.shape[1:-1])
    parts = [slice(c.start * per_image, c.stop * per_image) for c in batch_chunks(x.shape[0], x[:1].nbytes)]
    return split_batch(function, parts, work=x.size * (STREAMING_WORK if streaming else 1))


def elementwise(function, *arrays, streaming=False):
    """function(*arrays, out=new array) over the rows of each chunk of the batch, on striate's threads, when the
    arrays are contiguous batches of two images or more of one shape and dtype; else one call (the same values:
    the function is elementwise). `streaming`: see each_chunk."""
    first = arrays[0]
    if first.ndim < 2 or first.shape[0] < 2 or any(
            a.shape != first.shape or a.dtype != first.dtype or not a.flags.c_contiguous for a in arrays):
        return function(*arrays)
    out = np.empty_like(first)
    inputs, out_rows = [rows(a) for a in arrays], rows(out)
    each_chunk(first, lambda part: function(*(a[part] for a in inputs), out=out_rows[part]), streaming)
    return out
