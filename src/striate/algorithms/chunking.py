"""Bounded memory and two threads, shared by the fast convolution algorithms.

`batch_chunks` cuts the batch into runs of images whose scratch buffers (im2col columns, Winograd tiles)
fit a fixed budget, so no algorithm ever builds a matrix proportional to the whole batch.

`split_batch` runs a function on every chunk, two chunks at a time in two threads (the calling thread and one
worker). NumPy releases the GIL inside its loops and inside BLAS calls, so the two threads really run at
once; while they do, BLAS is held to one thread (threadpoolctl), or each thread's matrix product would start
its own BLAS threads and the two cores would be oversubscribed. Small problems run in the calling thread
alone: waking the worker costs more than it saves.

A training step runs whole in `workers_only` mode: BLAS stays on one thread for the whole step, every chunked
pass is cut into at least one chunk per thread, and large 2-D matrix products (`matmul`, the dense layers)
are cut into row blocks for the two threads too. Otherwise OpenBLAS's own threads, woken by a two-thread
product, keep spinning for a while after it and compete with striate's two threads for the two cores.

Nothing here touches an environment variable: the BLAS thread count is set through threadpoolctl's API for
the duration of the call and given back afterwards.
"""

import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

import numpy as np
from threadpoolctl import ThreadpoolController

WORKERS = 2  # threads that share a split: the calling thread and WORKERS - 1 pool threads
CHUNK_BYTES = 4 * 2**20  # scratch per chunk: a few MiB keeps a chunk's buffers in the L2/L3 caches
PARALLEL_MIN_WORK = 500_000  # multiply-adds (or elementwise steps) below which one thread is faster than two
MATMUL_SPLIT_MIN_WORK = 20_000_000  # the same for `matmul`'s row blocks (one BLAS call each, no chunk loop)

_pool = None
_controller = None
_workers_only = False
_splitting = threading.local()  # .active: this thread is running chunks of a split_batch call


def batch_chunks(batch, bytes_per_image, budget=None):
    """Slices of the batch axis, each holding as many images as fit `budget` bytes of scratch (at least one).

    `budget` defaults to CHUNK_BYTES, read at each call.
    """
    budget = CHUNK_BYTES if budget is None else budget
    per_chunk = max(1, int(budget // max(1, bytes_per_image)))
    count = math.ceil(batch / per_chunk)
    if count > 1 or _workers_only:  # a multiple of the workers, so that neither waits for the other at the end
        count = min(batch, math.ceil(count / WORKERS) * WORKERS)
    # even chunks: 9 images in budgets of 4 give 3, 3, 3 rather than 4, 4, 1
    per_chunk = math.ceil(batch / count)
    return [slice(start, min(start + per_chunk, batch)) for start in range(0, batch, per_chunk)]


def split_batch(function, chunks, work):
    """[function(chunk) for chunk in chunks], on two threads with single-threaded BLAS when `work` is large.

    `work` is the multiply-add count of the whole call, used to skip the threads on small problems. The two
    threads are the calling thread and one worker: both take the next chunk not yet taken until none is left
    (`itertools.count` hands out each index once; its `next` is atomic in CPython), so a thread slowed by other
    jobs simply takes fewer chunks, and only one thread has to be woken per call.
    """
    global _pool
    if len(chunks) < 2 or work < PARALLEL_MIN_WORK or getattr(_splitting, "active", False):
        # a split inside a chunk runs in its thread: the worker it would wait for may be running this very chunk
        return [function(chunk) for chunk in chunks]
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=WORKERS - 1, thread_name_prefix="striate-worker")
    results = [None] * len(chunks)
    indices = itertools.count()

    def take_chunks():
        _splitting.active = True
        try:
            for index in indices:
                if index >= len(chunks):
                    return
                results[index] = function(chunks[index])
        finally:
            _splitting.active = False

    with nullcontext() if _workers_only else _one_blas_thread():  # workers_only holds BLAS at one thread already
        worker = _pool.submit(take_chunks)
        try:
            take_chunks()
        finally:
            worker.result()  # the worker's chunks are done (or its error raised) before anything returns
    return results


def _one_blas_thread():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


@contextmanager
def workers_only():
    """A context (a training step) in which BLAS runs on one thread and `split_batch`'s two threads do all the
    parallel work."""
    global _workers_only
    previous = _workers_only
    with _one_blas_thread():
        _workers_only = True
        try:
            yield
        finally:
            _workers_only = previous


def matmul(a, b):
    """a @ b for 2-D a (M, K) and b (K, N); in `workers_only` mode a large product is cut into one block per
    worker along the longer axis of the result: rows of a, or columns of b (a dense layer's input gradient
    dy (128, 128) @ W^T (128, 9216): 2.1 ms in column blocks, 2.4 ms in row blocks, where each thread reads all
    of W)."""
    rows, columns = a.shape[0], b.shape[1]
    if not _workers_only or max(rows, columns) < WORKERS or rows * a.shape[1] * columns < MATMUL_SPLIT_MIN_WORK:
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
