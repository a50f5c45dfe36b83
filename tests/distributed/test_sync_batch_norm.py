"""batch_norm(synchronized=True) over 3 MPI processes equals PyTorch's batch norm of the global batch: the
output, the input gradient (through the statistics of every rank's samples), gamma's and beta's gradients
(summed over the ranks, as the gradient allreduce sums them) and the moving statistics."""

import numpy as np
import pytest
import torch
from job_sync_batch_norm import global_batch
from mpi_jobs import run_python_job

PROCESSES = 3


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("sync_batch_norm")
    run_python_job(PROCESSES, "job_sync_batch_norm.py", out)
    return [np.load(out / f"rank{rank}.npz") for rank in range(PROCESSES)]


def torch_batch_norm():
    """(output, input gradient, gamma gradient, beta gradient, batch mean, biased batch variance) in float64."""
    x, upstream, gamma, beta = (torch.tensor(a, requires_grad=True) for a in global_batch())
    channels_first = x.permute(0, 3, 1, 2)
    y = torch.nn.functional.batch_norm(channels_first, None, None, gamma, beta, training=True, eps=1e-3)
    y = y.permute(0, 2, 3, 1)
    y.backward(upstream)
    flat = x.detach().reshape(-1, 4)
    return y.detach().numpy(), x.grad.numpy(), gamma.grad.numpy(), beta.grad.numpy(), \
        flat.mean(0).numpy(), flat.var(0, unbiased=False).numpy()


def test_forward_and_gradients_equal_torch_batch_norm_of_the_global_batch(ranks):
    y, dx, dgamma, dbeta, _, _ = torch_batch_norm()
    assert [len(rank["y"]) for rank in ranks] == [4, 3, 3]
    np.testing.assert_allclose(np.concatenate([rank["y"] for rank in ranks]), y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([rank["dx"] for rank in ranks]), dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sum(rank["dgamma"] for rank in ranks), dgamma, rtol=1e-10)
    np.testing.assert_allclose(sum(rank["dbeta"] for rank in ranks), dbeta, rtol=1e-10)


def test_every_rank_moves_its_statistics_by_the_global_batch_statistics(ranks):
    *_, mean, variance = torch_batch_norm()
    for rank in ranks:   # Keras' rule, momentum 0.9, from zeros and ones
        np.testing.assert_allclose(rank["moving_mean"], 0.1 * mean, rtol=1e-12)
        np.testing.assert_allclose(rank["moving_variance"], 0.9 + 0.1 * variance, rtol=1e-12)
