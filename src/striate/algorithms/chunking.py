"""Bounded memory, and the parts a pass is cut into for striate's workers (`striate.core.runtime`).

`batch_chunks` cuts the batch into runs of images whose scratch buffers (im2col columns, Winograd tiles)
fit a fixed budget, so no algorithm ever builds a matrix proportional to the whole batch. `split_batch`
(from the runtime) runs a function on every chunk, the chunks shared by the runtime's threads.

The chunks depend on the problem only, never on the thread count: a kernel gradient summed chunk by chunk, a
product computed block by block, is the same to the last bit on 1 thread or 16. In `workers_only` mode (a
training step, an inference pass) every batch of at least two images is cut into a multiple of
PARALLEL_CHUNKS chunks, so that at least that many threads share it, and large 2-D matrix products
(`matmul`, the dense layers) are cut into blocks the same way.
"""

import math
import threading

import numpy as np

from striate.core.runtime import in_workers_only, split_batch

CHUNK_BYTES = 4 * 2**20  # scratch per chunk: a few MiB keeps a chunk's buffers in the L2/L3 caches
# in workers_only mode the chunk count is a multiple of this (at most one image per chunk): a property of the
# problem, not of the thread count. 2 measured best on 2 cores (4 no change, 8 slower: docs/algorithms.md); a pass
# larger than one scratch budget has as many chunks as budgets, which keeps more threads busy
PARALLEL_CHUNKS = 2
MATMUL_SPLIT_MIN_WORK = 20_000_000  # multiply-adds below which `matmul` runs one BLAS call (no blocks)


def batch_chunks(batch, bytes_per_image, budget=None, own_loop=False):
    """Slices of the batch axis, each holding as many images as fit `budget` bytes of scratch (at least one).

    `budget` defaults to CHUNK_BYTES, read at each call. When the batch needs several chunks, or in
    `workers_only` mode, their count is rounded up to a multiple of PARALLEL_CHUNKS (at most `batch`); with
    own_loop=True in every mode: the parts are striate's own compiled loops, which BLAS's threads do not run, so
    one chunk would leave the other threads idle.
    """
    if batch <= 1:  # what the rule below gives one image, in any mode, without its arithmetic (batch-1 inference);
        return [slice(0, batch)]  # an empty batch is one empty chunk
    budget = CHUNK_BYTES if budget is None else budget
    per_chunk = max(1, int(budget // max(1, bytes_per_image)))
    count = math.ceil(batch / per_chunk)
    if count > 1 or own_loop or in_workers_only():
        count = min(batch, math.ceil(count / PARALLEL_CHUNKS) * PARALLEL_CHUNKS)
    # even chunks: 9 images in budgets of 4 give 3, 3, 3 rather than 4, 4, 1
    per_chunk = math.ceil(batch / count)
    return [slice(start, min(start + per_chunk, batch)) for start in range(0, batch, per_chunk)]


def sum_in_order(parts):
    """parts[0] + parts[1] + ... + parts[-1], added in this order into parts[0]: the chunks' partial sums (fresh
    arrays of one dtype, as `split_batch` returns them) without the copy of the first that `sum` makes (0 +
    parts[0]), so one pass less over a kernel-sized array (ResNet-18's 3x3x512x512: 9.4 MB)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def image_and_row_chunks(batch, rows, bytes_per_image, budget=None):
    """[(images, rows)]: slices of the batch axis and of each image's output rows (its first spatial axis), each
    part's scratch within `budget` bytes (CHUNK_BYTES by default).

    While one image fits the budget, the parts are `batch_chunks`'s runs of whole images (rows: all). An image that
    does not fit is cut into runs of `rows` that do, image by image, their count rounded up to a multiple of
    PARALLEL_CHUNKS: the scratch stays bounded however large one image is (ResNet-18's 7x7 stem at 224x224 has
    7.4 MB of im2col columns per image), and a single large image runs on several threads. Like `batch_chunks`, the
    parts depend on the problem only.
    """
    budget = CHUNK_BYTES if budget is None else budget
    if bytes_per_image <= budget or rows < 2:
        return [(images, slice(None)) for images in batch_chunks(batch, bytes_per_image, budget)]
    blocks = math.ceil(bytes_per_image / budget)
    blocks = min(rows, math.ceil(blocks / PARALLEL_CHUNKS) * PARALLEL_CHUNKS)
    per_block = math.ceil(rows / blocks)
    return [(slice(image, image + 1), slice(start, min(start + per_block, rows)))
            for image in range(batch) for start in range(0, rows, per_block)]


def matmul(a, b):
    """a @ b for 2-D a (M, K) and b (K, N); in `workers_only` mode a large product is cut into blocks (as
    `batch_chunks` cuts a batch) along the longer axis of the result: rows of a, or columns of b (a dense
    layer's input gradient dy (128, 128) @ W^T (128, 9216): 2.1 ms in column blocks, 2.4 ms in row blocks,
    where each thread reads all of W)."""
    rows, columns = a.shape[0], b.shape[1]
    if not in_workers_only() or rows * a.shape[1] * columns < MATMUL_SPLIT_MIN_WORK:
        return a @ b
    out = np.empty((rows, columns), dtype=np.result_type(a, b))

    def rows_product(block):
        out[block] = a[block] @ b

    def columns_product(block):
        out[:, block] = a @ b[:, block]

    by_rows = rows >= columns
    split_batch(rows_product if by_rows else columns_product, batch_chunks(rows if by_rows else columns, 0),
                work=rows * a.shape[1] * columns)
    return out


_scratch = threading.local()


def scratch(name, shape, dtype):
    """An uninitialised buffer of `shape` that this thread reuses on every call under `name`.

    Each worker thread keeps its own, grown when a larger one is asked for, so chunk after chunk (and call
    after call) writes into the same memory instead of allocating new columns.
    """
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    buffers = _scratch.__dict__.setdefault("buffers", {})
    buffer = buffers.get((name, dtype))
    if buffer is None or buffer.size < size:
        buffer = buffers[(name, dtype)] = np.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)


def matmul_into(a, b, out):
    """out[...] = a @ b for stacks of matrices, through BLAS.

    np.matmul(..., out=) can fall back to NumPy's own loop (ten times slower on thin matrices), while np.dot
    with a contiguous `out` of the right dtype always calls BLAS; other outputs get a temporary.
    """
    if a.ndim == 2:
        a, b, out_stack = a[None], b[None], out[None]
    else:
        out_stack = out
    for index in range(a.shape[0]):
        target = out_stack[index]
        if target.flags.c_contiguous and target.dtype == np.result_type(a, b):
            np.dot(a[index], b[index if b.shape[0] > 1 else 0], out=target)
        else:
            target[...] = a[index] @ b[index if b.shape[0] > 1 else 0]
    return out
