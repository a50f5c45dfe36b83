"""`DataParallel`: what `model.fit(..., distributed=True)` does on each rank of an MPI job.

    mpiexec -n 4 python train.py          # train.py: model.fit(x, y, batch_size=256, distributed=True)

Every rank runs the same script on the same data. In each step:

1. the global batch (batch_size samples, drawn in the order one process would draw them) is cut into one
   contiguous shard per rank (`sharding.shard_bounds`); each rank gathers only its shard's samples;
2. each rank runs forward on its shard and backward from n_r times the shard's mean loss (n_r: its samples);
3. the gradients are summed over the ranks in a few fused allreduces and divided by the global batch size
   (`buckets.GradientBuckets`): the result is the gradient of the loss's mean over the global batch, also
   through BatchNormalization(synchronized=True), whose statistics couple the ranks' samples;
4. every rank applies the same optimizer update to the same weights, so the weights stay identical.

At the start of `fit` rank 0's weights and optimizer state are broadcast to all ranks; at the start of every
epoch rank 0's random generator state, so that every rank draws the same batch order; then ranks 1 ... p-1
move their generator to a stream of their own (`jumped(rank)`), so their dropout masks differ from rank 0's.
The epoch's logs (loss, metrics, validation) are sums over all ranks' samples, divided by their count: what
one process would report. The progress bar is drawn by rank 0 only; its running loss and metrics are rank 0's
own shard's until the epoch's line, which is the global one.

With `check_weights_every=N` (debugging) the ranks compare a SHA-256 digest of their weights after every N
steps (and after each epoch's last) and all raise if any differs.
"""

import hashlib

import numpy as np

from striate.core import random as striate_random
from striate.distributed import collectives, world
from striate.distributed.buckets import BUCKET_BYTES, GradientBuckets
from striate.distributed.sharding import shard, shard_bounds


class DataParallel:
    """Data-parallel training over the ranks of an MPI job; pass `distributed=DataParallel(...)` (or True for
    the defaults) to `model.fit`.

    Args:
        check_weights_every: 0 (off), or N: compare the weights of all ranks after every N steps.
        bucket_bytes: the size of the gradient buckets (25 MB, PyTorch's default).
        timeout: seconds a collective may wait before the job is ended (None: `world.init`'s, 300 s).
    """

    def __init__(self, check_weights_every=0, bucket_bytes=BUCKET_BYTES, timeout=None):
        if isinstance(check_weights_every, bool) or not isinstance(check_weights_every, int) or check_weights_every < 0:
            raise ValueError(f"DataParallel: check_weights_every must be an int >= 0; received {check_weights_every!r}")
        self.check_weights_every, self.bucket_bytes = check_weights_every, bucket_bytes
        self.rank, self.size = world.init(timeout)
        self.is_main = self.rank == 0
        self.model = self.buckets = None
        self.steps = self.step_images = self.epoch_images = 0

    # ---- the start of fit -------------------------------------------------------------------------------------
    def attach(self, model):
        """Give every rank rank 0's weights and optimizer state, and make the gradient buckets."""
        self.model = model
        weights = model.weights
        _agree("the number of weights", [len(weights), sum(w.data.size for w in weights)])
        for index, weight in enumerate(weights):
            if weight.data.flags.c_contiguous:
                collectives.broadcast_(weight.data, what=f"the broadcast of weight {index}")
            else:
                weight.data[...] = collectives.broadcast_(np.ascontiguousarray(weight.data))
        if model.compiled is not None and self.size > 1:
            optimizer = model.compiled.optimizer
            optimizer.set_state(collectives.broadcast_arrays(optimizer.get_state(), what="the optimizer state"))
        self.buckets = GradientBuckets(model.trainable_weights, self.bucket_bytes)
        self.steps = 0
        return self

    # ---- each epoch ---------------------------------------------------------------------------------------------
    def epoch(self, data):
        """This rank's shard of each global batch of the next epoch of `data` (fit's `Batches`), as
        (x, y, sample_weight) batches.

        Arrays: the order is the one `Batches` draws from striate's generator (with rank 0's state), and only
        the shard's rows are gathered. A dataset with a `shard_batches(count, index)` method (such as
        `image_dataset_from_directory`'s) reads only this rank's files; any other dataset's batches are
        sliced after they are read.
        """
        if data.limit is not None:
            raise ValueError(f"fit(distributed=True): steps_per_epoch is not supported (the ranks would have to "
                             f"agree on where each epoch stops); received steps_per_epoch={data.limit}")
        self.epoch_images = 0
        striate_random.set_state(collectives.broadcast_json(striate_random.get_state(), what="the random state"))
        if data.dataset:
            return self._dataset_shards(data)
        _agree("the number of samples and batch_size", [data.samples, data.batch_size])
        self._refuse_empty_shards(data.samples, data.batch_size)
        order = striate_random.generator().permutation(data.samples) if data.shuffle else np.arange(data.samples)
        self._own_random_stream()
        return self._array_shards(data, order)

    def _array_shards(self, data, order):
        for start in range(0, len(order), data.batch_size):
            mine = shard(order[start:start + data.batch_size], self.rank, self.size)
            x = [np.asarray(part)[mine] for part in data.x] if isinstance(data.x, list | tuple) else data.x[mine]
            weights = None if data.sample_weight is None else data.sample_weight[mine]
            yield x, np.asarray(data.y)[mine], weights

    def _dataset_shards(self, data):
        source = data.x
        if hasattr(source, "shard_batches"):
            batches = source.shard_batches(self.size, self.rank)
        else:
            every = (source[index] for index in range(len(source))) if hasattr(source, "__getitem__") and hasattr(
                source, "__len__") else iter(source)
            batches = (_shard_element(element, self.rank, self.size) for element in every)
        self._own_random_stream()
        for element in batches:
            x, y, weights = (*element, None, None)[:3] if isinstance(element, tuple) else (element, None, None)
            if data.class_weight is not None:
                from striate.training.fit import _sample_weights

                weights = _sample_weights("fit", y, None, data.class_weight, len(y))
            yield x, y, weights
        if hasattr(source, "on_epoch_end"):
            source.on_epoch_end()

    def _own_random_stream(self):
        """Ranks 1 ... p-1 move striate's generator to streams of their own (dropout, augmentation)."""
        if self.rank:
            striate_random.set_state(striate_random.generator().bit_generator.jumped(self.rank).state)

    def _refuse_empty_shards(self, samples, batch_size):
        """Refuse, on every rank alike, a batch too small to give each rank a sample when the model has
        synchronized batch normalization (a rank without samples cannot take part in its allreduces)."""
        smallest = min(batch_size, samples % batch_size or batch_size)
        if smallest < self.size and _has_synchronized_batch_norm(self.model):
            raise ValueError(f"fit(distributed=True): a batch of {smallest} samples (batch_size {batch_size}, "
                             f"{samples} samples) leaves ranks of {self.size} without a sample, which a synchronized "
                             f"BatchNormalization cannot take; choose a batch_size that leaves no last batch smaller "
                             f"than {self.size}")

    # ---- each step -------------------------------------------------------------------------------------------
    def average_gradients(self, parameters, count):
        """Replace the gradients (of this rank's shard's loss sum) by their sum over all ranks divided by the
        global batch size (`count`: this rank's samples).

        With check_weights_every=N, the weights are first compared (they hold the previous step's update)."""
        if self.check_weights_every and self.steps and self.steps % self.check_weights_every == 0:
            check_identical_weights(self.model, f"step {self.steps}")
        self.step_images = self.buckets.average(parameters, count)
        self.epoch_images += self.step_images
        self.steps += 1

    def step_without_samples(self, parameters, optimizer):
        """A step for a rank whose shard is empty: it adds nothing to the average but applies the same update
        as every other rank. Returns no logs."""
        for parameter in parameters:
            parameter.grad = None
        self.average_gradients(parameters, 0)
        optimizer.apply_gradients(parameters)
        return {}

    def global_counts(self):
        """(images in the last step, images so far this epoch), over all ranks: what the progress bar counts."""
        return self.step_images, self.epoch_images

    # ---- each epoch's end --------------------------------------------------------------------------------------
    def epoch_logs(self, running):
        """The epoch's logs over all ranks from this rank's `Running` (fit's running means): each log's sum over
        the samples, summed over the ranks, divided by all the samples. A metric object (update_state / result)
        is weighted by each rank's samples, which is exact for a mean over samples such as accuracy."""
        if self.check_weights_every:
            check_identical_weights(self.model, f"step {self.steps}, the epoch's last")
        names, local = running.compiled.names(), running.result()
        sums = [running.totals.get(name, local[name] * running.seen) for name in names] + [running.seen]
        summed = collectives.allreduce(np.array(sums, np.float64), what="the allreduce of the epoch's metrics")
        total = max(float(summed[-1]), 1.0)
        return {name: value / total for name, value in zip(names, summed[:-1].tolist())}

    def evaluate(self, model, data, batch_size):
        """`evaluate` of `data` ((x, y) or (x, y, sample_weight) arrays, or a dataset) with the samples shared
        over the ranks: each rank scores its contiguous slice (or its files), and the logs are weighted by each
        rank's samples."""
        from striate.training.fit import evaluate, is_dataset

        if is_dataset(data):
            every = (data.shard_batches(self.size, self.rank) if hasattr(data, "shard_batches")
                     else (_shard_element(element, self.rank, self.size) for element in data))
            mine = [element for element in every if len(element[0] if isinstance(element, tuple) else element)]
            count = sum(len(element[0] if isinstance(element, tuple) else element) for element in mine)
            logs = evaluate(model, iter(mine), verbose=0, return_dict=True) if mine else {}
        else:
            x, y, *weights = data
            start, stop = shard_bounds(len(y), self.rank, self.size)
            count = stop - start
            x = [part[start:stop] for part in x] if isinstance(x, list | tuple) else x[start:stop]
            weights = weights[0][start:stop] if weights and weights[0] is not None else None
            logs = evaluate(model, x, y[start:stop], batch_size=batch_size, sample_weight=weights, verbose=0,
                            return_dict=True) if count else {}
        names = model.compiled.names()
        weighted = [logs.get(name, 0.0) * count for name in names] + [count]
        summed = collectives.allreduce(np.array(weighted, np.float64), what="the allreduce of validation metrics")
        total = max(float(summed[-1]), 1.0)
        return {name: value / total for name, value in zip(names, summed[:-1].tolist())}


def data_parallel(model, distributed):
    """The DataParallel `fit` uses for `distributed` (False, True or a DataParallel), attached to `model`;
    None for False."""
    if distributed is False or distributed is None:
        return None
    if distributed is True:
        distributed = DataParallel()
    if not isinstance(distributed, DataParallel):
        raise ValueError(f"fit: distributed must be True, False or a striate.distributed.DataParallel; received "
                         f"{distributed!r}")
    return distributed.attach(model)


def check_identical_weights(model, when):
    """Raise on every rank if any rank's weights differ from rank 0's (a SHA-256 digest of all weights)."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.data).tobytes())
    mine = np.frombuffer(digest.digest(), dtype=np.uint8).copy()
    reference = collectives.broadcast_(mine.copy(), what="the broadcast of rank 0's weight digest")
    differing = collectives.allreduce(np.array([int(not np.array_equal(mine, reference))], np.int64),
                                      what="the weight check")
    if differing[0]:
        raise RuntimeError(f"DataParallel: after {when} the weights of {int(differing[0])} rank(s) of "
                           f"{world.size()} differ from rank 0's")


def _agree(what, values):
    """Raise on every rank if any rank's `values` (ints) differ from rank 0's."""
    mine = np.array(values, dtype=np.int64)
    reference = collectives.broadcast_(mine.copy(), what=f"the check of {what}")
    differing = collectives.allreduce(np.array([int(not np.array_equal(mine, reference))], np.int64),
                                      what=f"the check of {what}")
    if differing[0]:
        raise ValueError(f"fit(distributed=True): every rank must have the same {what}; rank 0 has "
                         f"{reference.tolist()}, rank {world.rank()} {mine.tolist()} ({int(differing[0])} rank(s) "
                         f"differ)")


def _shard_element(element, rank, size):
    """Rank `rank`'s slice of each part of a dataset's batch: x, or a tuple (x, y) / (x, y, sample_weight)."""
    if isinstance(element, tuple):
        return tuple(None if part is None else shard(part, rank, size) for part in element)
    return shard(element, rank, size)


def _has_synchronized_batch_norm(model):
    layers, seen = [model], set()
    while layers:
        layer = layers.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if getattr(layer, "synchronized", False):
            return True
        layers.extend(layer.sublayers())
    return False
