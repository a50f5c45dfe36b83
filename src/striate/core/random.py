"""One random generator for weight initialization, dropout masks and shuffling.

`set_random_seed(seed)` makes everything that draws from it repeatable bit for bit, as Keras'
`keras.utils.set_random_seed`.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed: int | None) -> None:
    """Reseed striate's generator: the same seed gives the same initial weights, masks and batch order."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """striate's shared `numpy.random.Generator`."""
    return _generator


def get_state() -> Mapping[str, Any]:
    """The generator's state as a JSON-able dict (saved in checkpoints so a resumed run continues exactly)."""
    return _generator.bit_generator.state


def set_state(state: Mapping[str, Any]) -> None:
    """Restore a state from `get_state`."""
    _generator.bit_generator.state = state
