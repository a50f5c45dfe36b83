"""Inverted dropout: zero each value with probability `rate`, scale the survivors by 1 / (1 - rate)."""

import numpy as np

from striate.core.function import Function
from striate.core.tensor import as_tensor


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
    keep = rng.random(x.shape) >= rate
    keep_scaled = keep.astype(x.dtype) / x.dtype.type(1 - rate)
    return Dropout.apply(x, keep_scaled=keep_scaled)
