"""MNIST as the networks want it: float32 pixels in [0, 1], with a channel axis (N, 28, 28, 1)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

PIXEL_SCALE = np.float32(1 / 255)


def as_network_input(images: NDArray[Any]) -> NDArray[np.float32]:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return images[..., np.newaxis].astype(np.float32) * PIXEL_SCALE
