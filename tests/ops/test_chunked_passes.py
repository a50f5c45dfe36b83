"""Passes cut into chunks of images for the threads (relu, the sum of two batches): the same values and gradients
as PyTorch, with the batch cut (workers_only) or whole."""

from contextlib import nullcontext

import numpy as np
import pytest
import torch

from oracle import check_against_torch
from striate import ops
from striate.core.runtime import workers_only

SHAPES = [(8, 5, 5, 3), (6, 7, 4), (3, 2, 2, 2, 5), (5, 4)]


def away_from_zero(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("cut", [True, False], ids=["workers_only", "whole"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_relu_in_chunks_matches_torch(shape, cut):
    with workers_only() if cut else nullcontext():
        check_against_torch(ops.relu, torch.relu, [away_from_zero(shape, sum(shape))], np.float32)


@pytest.mark.parametrize("cut", [True, False], ids=["workers_only", "whole"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_sum_of_two_batches_in_chunks_matches_torch(shape, cut):
    rng = np.random.default_rng(len(shape))
    with workers_only() if cut else nullcontext():
        check_against_torch(ops.add, torch.add, [rng.standard_normal(shape), rng.standard_normal(shape)], np.float32)


def test_streaming_passes_count_half_a_step_a_value_toward_the_split(monkeypatch):
    """relu and the sum of two batches only read and write memory: their passes count STREAMING_WORK a value toward
    PARALLEL_MIN_WORK, sigmoid's one."""
    from striate.ops import chunked

    works = []
    original = chunked.split_batch
    monkeypatch.setattr(chunked, "split_batch",
                        lambda function, parts, work: works.append(work) or original(function, parts, work))
    x = np.ones((4, 8, 8, 16), np.float32)
    with workers_only():
        ops.relu(x)
        ops.add(x, x)
        ops.sigmoid(x)
    assert works == [x.size * 0.5, x.size * 0.5, x.size]
