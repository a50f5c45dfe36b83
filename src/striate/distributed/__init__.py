"""Data-parallel training over the processes of an MPI job (mpi4py), as Horovod does it: docs/distributed.md.

    mpiexec -n 4 python train.py              # train.py calls model.fit(x, y, batch_size=256, distributed=True)
    mpiexec -n 4 striate train lenet5 --distributed --out runs/lenet5

- `init()`, `rank()`, `size()`, `is_main()`: who this process is (world.py); without MPI, rank 0 of 1.
- `allreduce_`, `allreduce`, `broadcast_`, `broadcast_json`, `broadcast_arrays`, `barrier`: collectives that end
  the job with a message instead of hanging when a rank stops answering, none of them pickling (collectives.py);
  `abort_on_error()`.
- `DataParallel`: what `fit(distributed=True)` does: shards, fused gradient allreduce, reduced logs
  (data_parallel.py, buckets.py, sharding.py).
- `allreduce_sum`: a differentiable sum over ranks, under BatchNormalization(synchronized=True).
"""

from striate.distributed.allreduce_op import allreduce_sum
from striate.distributed.collectives import (
    abort_on_error,
    allreduce,
    allreduce_,
    barrier,
    broadcast_,
    broadcast_arrays,
    broadcast_json,
)
from striate.distributed.data_parallel import DataParallel, check_identical_weights
from striate.distributed.sharding import shard, shard_bounds
from striate.distributed.world import init, is_main, rank, size

__all__ = ["DataParallel", "abort_on_error", "allreduce", "allreduce_", "allreduce_sum", "barrier", "broadcast_",
           "broadcast_arrays", "broadcast_json", "check_identical_weights", "init", "is_main", "rank", "shard",
           "shard_bounds", "size"]
