"""Which samples of a global batch each rank takes: a contiguous slice, as even as the batch allows.

A batch of B samples over p ranks: rank r takes B // p samples, plus one if r < B % p, starting where rank
r - 1 stopped. So B = 10 over p = 3 gives ranks 4, 3 and 3 samples: [0, 4), [4, 7), [7, 10). The split depends
on B, p and r only, so every rank computes every rank's shard without asking.
"""


def shard_bounds(total, rank, size):
    """(start, stop) of rank `rank`'s slice of `total` samples split over `size` ranks.

        start = rank * (total // size) + min(rank, total % size)
        stop  = start + total // size + (1 if rank < total % size else 0)
    """
    if not 0 <= rank < size:
        raise ValueError(f"shard_bounds: rank must be in [0, size); received rank={rank}, size={size}")
    if total < 0:
        raise ValueError(f"shard_bounds: total must be >= 0; received {total}")
    base, extra = divmod(total, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def shard(batch, rank, size):
    """Rank `rank`'s slice of `batch` (anything indexable along its first axis, with len)."""
    start, stop = shard_bounds(len(batch), rank, size)
    return batch[start:stop]
