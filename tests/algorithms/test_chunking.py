"""Chunks, threads and the training step's `workers_only` mode: the same numbers, only the threads change."""

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from striate import Tensor
from striate.algorithms import chunking


def _blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_chunks_cover_the_batch_evenly_within_the_budget():
    chunks = chunking.batch_chunks(9, bytes_per_image=1, budget=4)  # 3 chunks of at most 4, rounded up to 4
    assert [(c.start, c.stop) for c in chunks] == [(0, 3), (3, 6), (6, 9)]
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=100) == [slice(0, 9)]


def test_in_workers_only_mode_every_batch_is_split_for_both_workers():
    with chunking.workers_only():
        chunks = chunking.batch_chunks(9, bytes_per_image=1, budget=100)
    assert [(c.start, c.stop) for c in chunks] == [(0, 5), (5, 9)]
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=100) == [slice(0, 9)]  # and only there


def test_workers_only_holds_blas_to_one_thread_and_gives_the_count_back():
    before = _blas_threads()
    with chunking.workers_only():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_in_blocks_equals_numpy(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((301, 280)).astype(dtype), rng.standard_normal((280, 257)).astype(dtype)
    assert a.shape[0] * a.shape[1] * b.shape[1] >= chunking.MATMUL_SPLIT_MIN_WORK  # the split really runs
    with chunking.workers_only():
        product, transposed = chunking.matmul(a, b), chunking.matmul(a.T, a)
    np.testing.assert_allclose(product, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(transposed, a.T @ a, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-3)
    assert product.dtype == dtype


def test_dense_gradients_in_workers_only_mode_equal_the_formulas():
    """dL/dx = dy W^T and dL/dW = x^T dy, with both products cut into row blocks."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((300, 400)), rng.standard_normal((400, 200))
    upstream = rng.standard_normal((300, 200))
    inputs, weights = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    with chunking.workers_only():
        y = inputs @ weights
        y.backward(upstream)
    np.testing.assert_allclose(y.data, x @ w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(inputs.grad, upstream @ w.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.grad, x.T @ upstream, rtol=1e-10, atol=1e-12)


def test_split_batch_returns_the_results_in_chunk_order_whichever_thread_ran_them():
    chunks = [slice(start, start + 1) for start in range(9)]

    def slow_on_odd(chunk):
        time.sleep(0.002 * (chunk.start % 2))
        return chunk.start, threading.current_thread().name

    results = chunking.split_batch(slow_on_odd, chunks, work=chunking.PARALLEL_MIN_WORK)
    assert [start for start, _ in results] == list(range(9))
    assert len({name for _, name in results}) == 2  # the calling thread and the worker both took chunks


def test_an_error_in_a_chunk_reaches_the_caller_after_the_other_thread_is_done():
    done = []

    def fails_on_first(chunk):
        if chunk.start == 0:
            raise ValueError("chunk 0")
        time.sleep(0.01)
        done.append(chunk.start)

    with pytest.raises(ValueError, match="chunk 0"):
        chunking.split_batch(fails_on_first, [slice(i, i + 1) for i in range(4)], work=chunking.PARALLEL_MIN_WORK)
    assert len(done) == len(set(done))  # no chunk ran twice
    time.sleep(0.05)
    settled = list(done)
    time.sleep(0.05)
    assert done == settled  # nothing still running once split_batch has returned


def test_a_split_inside_a_chunk_runs_in_that_thread_instead_of_waiting_for_the_busy_worker():
    chunks = [slice(i, i + 1) for i in range(4)]

    def outer(chunk):
        inner = chunking.split_batch(lambda c: c.start * 10, chunks, work=chunking.PARALLEL_MIN_WORK)
        return chunk.start, inner

    returned = {}
    caller = threading.Thread(target=lambda: returned.update(results=chunking.split_batch(
        outer, chunks, work=chunking.PARALLEL_MIN_WORK)), daemon=True)
    caller.start()
    caller.join(timeout=20)
    assert not caller.is_alive(), "split_batch inside a chunk deadlocked"
    assert returned["results"] == [(i, [0, 10, 20, 30]) for i in range(4)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_of_a_wide_result_in_column_blocks_equals_numpy(dtype):
    """dy (64, 60) @ W^T (60, 6000): more columns than rows, cut into column blocks (W^T a transposed view)."""
    rng = np.random.default_rng(2)
    a, w = rng.standard_normal((64, 60)).astype(dtype), rng.standard_normal((6000, 60)).astype(dtype)
    assert 64 * 60 * 6000 >= chunking.MATMUL_SPLIT_MIN_WORK
    with chunking.workers_only():
        product = chunking.matmul(a, w.T)
    np.testing.assert_allclose(product, a @ w.T, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)
    assert product.dtype == dtype and product.shape == (64, 6000)
