"""Run under mpiexec by test_sync_batch_norm.py: each rank normalizes its shard of one global batch with
batch_norm(synchronized=True), backpropagates its shard of one upstream gradient, and writes OUT/rank<r>.npz:
its output and input gradient rows, its share of the gamma and beta gradients, and the moving statistics.

    mpiexec -n 3 python job_sync_batch_norm.py OUT
"""

import sys

import numpy as np

import striate.functional as F
from striate import Tensor, distributed

GLOBAL_SHAPE = (10, 3, 3, 4)  # 10 samples over 3 ranks: 4, 3 and 3


def global_batch():
    """(x, upstream gradient, gamma, beta), float64, the same on every rank."""
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=GLOBAL_SHAPE)
    return x, rng.normal(size=GLOBAL_SHAPE), rng.normal(size=4), rng.normal(size=4)


def main(out):
    rank, size = distributed.init(timeout=60)
    x, upstream, gamma, beta = global_batch()
    start, stop = distributed.shard_bounds(len(x), rank, size)
    mine = Tensor(x[start:stop], requires_grad=True)
    gamma, beta = Tensor(gamma, requires_grad=True), Tensor(beta, requires_grad=True)
    moving_mean, moving_variance = np.zeros(4), np.ones(4)
    y = F.batch_norm(mine, moving_mean, moving_variance, gamma, beta, training=True, momentum=0.9,
                     synchronized=True)
    y.backward(upstream[start:stop])
    np.savez(f"{out}/rank{rank}.npz", y=y.data, dx=mine.grad, dgamma=gamma.grad, dbeta=beta.grad,
             moving_mean=moving_mean, moving_variance=moving_variance)


if __name__ == "__main__":
    main(sys.argv[1])
