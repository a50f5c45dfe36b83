"""Inverted dropout: zero each value with probability `rate`, scale the survivors by 1 / (1 - rate)."""

import numpy as np

from striate.core.function import Function
from striate.core.runtime import split_batch
from striate.core.tensor import as_tensor

BLOCK = 2**16  # values per block of the mask, each block drawn from its own generator (about 0.2 ms)


class Dropout(Function):
    def forward(self, x, keep_scaled):
        self.keep_scaled = keep_scaled
        return x * keep_scaled

    def backward(self, grad):
        return (grad * self.keep_scaled,)


def dropout(x, rate, training=True, seed=None):
    """Inverted dropout (Srivastava et al. 2014): E[output] = x, so inference needs no rescaling.

    Args:
        x: any shape.
        rate: probability of dropping each value, 0 <= rate < 1.
        training: when False, x passes unchanged.
        seed: an int or a `numpy.random.Generator` for a repeatable mask; None draws a fresh one.
    """
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must satisfy 0 <= rate < 1; received rate={rate}")
    x = as_tensor(x)
    if not training or rate == 0:
        return x
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return Dropout.apply(x, keep_scaled=_keep_scaled(rng, x.shape, rate, x.dtype))


def _keep_scaled(rng, shape, rate, dtype):
    """The mask: 1 / (1 - rate) where a uniform draw in x's dtype is >= rate, else 0.

    Drawing the numbers is most of dropout's time (the MNIST CNN's 1.2 M values: 2.6 ms on one thread), so the
    flat mask is cut into blocks of BLOCK values, block b drawn from a generator seeded with the b-th of the
    seeds drawn from `rng`, and the blocks are shared by the runtime's threads. The blocks depend on the size
    only: the same `rng` state gives the same mask on any number of threads.
    """
    keep_scaled = np.empty(shape, dtype=dtype)
    flat = keep_scaled.reshape(-1)
    blocks = [slice(start, min(start + BLOCK, flat.size)) for start in range(0, flat.size, BLOCK)]
    seeds = rng.integers(2**63, size=len(blocks))
    draw_dtype = np.float32 if dtype == np.float32 else np.float64  # the two dtypes a Generator draws
    scale = dtype.type(1 - rate)

    def draw(index):
        block = blocks[index]
        uniform = np.random.default_rng(seeds[index]).random(block.stop - block.start, dtype=draw_dtype)
        np.divide(uniform >= rate, scale, out=flat[block])

    split_batch(draw, range(len(blocks)), work=flat.size)
    return keep_scaled
