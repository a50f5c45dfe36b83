"""Chunks and the training step's `workers_only` mode: the same numbers, only the threads change."""

import numpy as np
import pytest

from striate import Tensor
from striate.algorithms import chunking
from striate.core import runtime


def even_chunks(batch, count):
    """`count` runs of ceil(batch / count) images (the last one shorter), written out."""
    per_chunk = -(-batch // count)
    return [slice(start, min(start + per_chunk, batch)) for start in range(0, batch, per_chunk)]


def test_chunks_cover_the_batch_evenly_within_the_budget():
    # 9 images of which 4 fit the budget: 3 chunks, rounded up to a multiple of PARALLEL_CHUNKS (at most 9)
    parallel = chunking.PARALLEL_CHUNKS
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=4) == even_chunks(9, min(9, -(-3 // parallel) * parallel))
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=100) == [slice(0, 9)]


def test_a_pass_of_striates_own_loops_is_split_for_the_threads_in_every_mode():
    # 9 images that fit one budget: one chunk for a BLAS pass (its product gets BLAS's threads), PARALLEL_CHUNKS
    # for a compiled loop of striate's, which only the workers can share; one image stays one chunk
    parallel = chunking.PARALLEL_CHUNKS
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=100) == [slice(0, 9)]
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=100, own_loop=True) == even_chunks(9, parallel)
    assert chunking.batch_chunks(1, bytes_per_image=1, budget=100, own_loop=True) == [slice(0, 1)]


def test_an_image_larger_than_the_budget_is_cut_into_runs_of_its_output_rows():
    # 10 bytes per image, budget 4: 3 budgets, rounded up to a multiple of PARALLEL_CHUNKS row runs of each image
    parallel = chunking.PARALLEL_CHUNKS
    blocks = min(7, -(-3 // parallel) * parallel)
    rows = even_chunks(7, blocks)
    assert chunking.image_and_row_chunks(2, 7, bytes_per_image=10, budget=4) == [
        (slice(image, image + 1), run) for image in range(2) for run in rows]
    # images that fit are whole, in batch_chunks' runs; so is one with a single row
    assert chunking.image_and_row_chunks(9, 7, bytes_per_image=1, budget=4) == [
        (run, slice(None)) for run in chunking.batch_chunks(9, 1, 4)]
    assert chunking.image_and_row_chunks(2, 1, bytes_per_image=10, budget=4) == [
        (run, slice(None)) for run in chunking.batch_chunks(2, 10, 4)]


def test_in_workers_only_mode_every_batch_is_split_for_the_workers():
    with runtime.workers_only():
        chunks = chunking.batch_chunks(9, bytes_per_image=1, budget=100)
    assert chunks == even_chunks(9, min(9, chunking.PARALLEL_CHUNKS))
    assert chunking.batch_chunks(9, bytes_per_image=1, budget=100) == [slice(0, 9)]  # and only there


def test_the_chunks_do_not_depend_on_the_thread_count(monkeypatch):
    cases = [(128, 78_400, None), (9, 1, 4), (1000, 0, None), (3, 10, 100)]

    def all_chunks():
        with runtime.workers_only():
            return [chunking.batch_chunks(*case) for case in cases]

    monkeypatch.setattr(runtime, "_requested_threads", 1)
    on_one = all_chunks()
    for threads in (2, 3, 8):
        monkeypatch.setattr(runtime, "_requested_threads", threads)
        assert all_chunks() == on_one


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_in_blocks_equals_numpy(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((301, 280)).astype(dtype), rng.standard_normal((280, 257)).astype(dtype)
    assert a.shape[0] * a.shape[1] * b.shape[1] >= chunking.MATMUL_SPLIT_MIN_WORK  # the split really runs
    with runtime.workers_only():
        product, transposed = chunking.matmul(a, b), chunking.matmul(a.T, a)
    assert product.dtype == dtype
    for result, left, right in [(product, a, b), (transposed, a.T, a)]:
        # a dot product of K terms in floating point is within K * eps * (|left| @ |right|) of the exact one
        # (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), whatever blocks BLAS summed it in
        exact = left.astype(np.longdouble) @ right.astype(np.longdouble)
        bound = left.shape[1] * np.finfo(dtype).eps * (np.abs(left).astype(np.longdouble) @ np.abs(right))
        assert np.all(np.abs(result - exact) <= bound)


def test_dense_gradients_in_workers_only_mode_equal_the_formulas():
    """dL/dx = dy W^T and dL/dW = x^T dy, with both products cut into row blocks."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((300, 400)), rng.standard_normal((400, 200))
    upstream = rng.standard_normal((300, 200))
    inputs, weights = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    with runtime.workers_only():
        y = inputs @ weights
        y.backward(upstream)
    np.testing.assert_allclose(y.data, x @ w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(inputs.grad, upstream @ w.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.grad, x.T @ upstream, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_of_a_wide_result_in_column_blocks_equals_numpy(dtype):
    """dy (64, 60) @ W^T (60, 6000): more columns than rows, cut into column blocks (W^T a transposed view)."""
    rng = np.random.default_rng(2)
    a, w = rng.standard_normal((64, 60)).astype(dtype), rng.standard_normal((6000, 60)).astype(dtype)
    assert 64 * 60 * 6000 >= chunking.MATMUL_SPLIT_MIN_WORK
    with runtime.workers_only():
        product = chunking.matmul(a, w.T)
    np.testing.assert_allclose(product, a @ w.T, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)
    assert product.dtype == dtype and product.shape == (64, 6000)


def test_the_chunks_partial_sums_are_added_in_order_into_the_first():
    """float32 values whose sum depends on the order: ((a + b) + c), into a's own memory, not a copy."""
    a, b, c = (np.array([value], dtype=np.float32) for value in (1e8, 1.0, -1e8))
    total = chunking.sum_in_order([a, b, c])
    assert total is a
    assert total[0] == (np.float32(1e8) + np.float32(1.0)) + np.float32(-1e8) == 0.0  # 1e8 + 1 rounds to 1e8
