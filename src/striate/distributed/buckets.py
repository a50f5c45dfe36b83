"""Gradient averaging over ranks in a few large allreduces: parameters packed into contiguous buckets.

One MPI call per parameter would pay the network's latency once per tensor (8 for the MNIST CNN, 161 for
ResNet-50); one call for everything would hold the whole model twice in memory at once. As PyTorch's
DistributedDataParallel and Horovod's tensor fusion, the gradients are copied into buckets of about
`bucket_bytes` each (consecutive parameters of one dtype; 25 MB holds the MNIST CNN's 4.8 MB in one), every
bucket's allreduce is started at once, then all are awaited.

The average is weighted by the samples each rank saw, so that uneven shards give the gradient of the loss's
mean over the global batch, as one process computing the whole batch would:

    g = sum_r n_r * g_r / sum_r n_r        (g_r: rank r's gradient of its shard's mean loss; n_r: its samples)

Each rank backpropagates n_r times its shard's mean loss (`fit` does), so its gradients arrive already
multiplied by n_r; that way the gradients a synchronized batch norm sums over the ranks during backward are
weighted alike. The buckets sum over the ranks and divide by N = sum_r n_r, which rides in the first slot of
the first bucket, so the weights cost no separate call. With equal shards this is the plain mean of the g_r.
"""

import numpy as np

from striate.distributed import collectives, world

BUCKET_BYTES = 25 * 2**20  # PyTorch DistributedDataParallel's default bucket_cap_mb


class GradientBuckets:
    """Buckets for the gradients of `parameters` (Tensors, in a fixed order: the same on every rank)."""

    def __init__(self, parameters, bucket_bytes=BUCKET_BYTES):
        self.shapes = [p.data.shape for p in parameters]
        self.places = []  # per parameter: (bucket index, start, stop)
        first_dtype = np.dtype(parameters[0].data.dtype) if parameters else np.dtype(np.float32)
        sizes, dtypes, filled = [1], [first_dtype], [False]  # the first bucket's slot 0 holds the sample count
        for parameter in parameters:
            dtype, count = np.dtype(parameter.data.dtype), parameter.data.size
            if dtype != dtypes[-1] or (filled[-1] and (sizes[-1] + count) * dtype.itemsize > bucket_bytes):
                sizes.append(0)
                dtypes.append(dtype)
                filled.append(False)
            self.places.append((len(sizes) - 1, sizes[-1], sizes[-1] + count))
            sizes[-1] += count
            filled[-1] = True
        self.buckets = [np.zeros(size, dtype=dtype) for size, dtype in zip(sizes, dtypes)]

    def average(self, parameters, count):
        """Replace each parameter's .grad, this rank's gradient of its shard's loss sum (n_r * g_r; None counts
        as zeros), by the sum over the ranks divided by all their samples; `count` is this rank's n_r. Returns
        the samples of all ranks together.
        """
        if len(parameters) != len(self.places):
            raise ValueError(f"GradientBuckets.average: built for {len(self.places)} parameters; received "
                             f"{len(parameters)}")
        self.buckets[0][0] = count
        for parameter, (bucket, start, stop) in zip(parameters, self.places):
            target = self.buckets[bucket][start:stop]
            if parameter.grad is None:
                target[...] = 0
            else:
                target[...] = np.asarray(parameter.grad).reshape(-1)
        self._sum_over_ranks()
        total = float(self.buckets[0][0])
        if total <= 0:
            raise ValueError("GradientBuckets.average: no rank had a sample in this step (every shard was empty)")
        for parameter, shape, (bucket, start, stop) in zip(parameters, self.shapes, self.places):
            gradient = self.buckets[bucket][start:stop]
            gradient /= total
            parameter.grad = gradient.reshape(shape)
        return int(round(total))

    def _sum_over_ranks(self):
        communicator = world.communicator()
        if communicator is None:
            return
        from mpi4py import MPI

        requests = [communicator.Iallreduce(MPI.IN_PLACE, bucket, op=MPI.SUM) for bucket in self.buckets]
        for index, request in enumerate(requests):
            collectives.wait(request, f"the allreduce of gradient bucket {index + 1} of {len(requests)}")
