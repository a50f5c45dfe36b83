"""Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"), as
Keras 3: the second moment of a matrix kept as its row and column means."""

import math

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class Adafactor(Optimizer):
    """Factored second moments and relative step sizes (t = iterations + 1):

        rho = min(lr, 1 / sqrt(t))                       alpha = max(epsilon_2, RMS(p)) * rho
        beta = 1 - t^beta_2_decay                        G = g^2 + epsilon_1
        weights of >= 2 axes: R <- beta R + (1 - beta) mean(G, last axis)            (shape[:-1])
                              C <- beta C + (1 - beta) mean(G, second-last axis)     (shape[:-2] + shape[-1:])
                              V = (R / mean(R, last axis))[..., None] * C[..., None, :]
        other weights:        V <- beta V + (1 - beta) G
        u = g / sqrt(V)          p <- p - alpha * u / max(1, RMS(u) / clip_threshold)

    RMS(x) = sqrt(mean(x^2)) over the whole array. Keras' relative_step is kept for its config: the step
    is min(lr, 1 / sqrt(t)) either way.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        beta_2_decay: the decay exponent of beta, <= 0. Default -0.8.
        epsilon_1: added to g^2. Default 1e-30.
        epsilon_2: the least RMS(p) a step scales with. Default 1e-3.
        clip_threshold: the RMS of u above which u is scaled down. Default 1.
        relative_step: Keras' flag (see above). Default True.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("row", "column", "velocity")
    config_names = ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold", "relative_step")

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=0.001, clip_threshold=1.0,
                 relative_step=True, weight_decay=None, **options):
        if beta_2_decay > 0:
            raise ValueError(f"Adafactor: beta_2_decay must be <= 0; received {beta_2_decay!r}")
        super().__init__(learning_rate, weight_decay, **options)
        self.beta_2_decay = float(beta_2_decay)
        self.epsilon_1 = check_in_range("Adafactor", "epsilon_1", epsilon_1)
        self.epsilon_2 = check_in_range("Adafactor", "epsilon_2", epsilon_2)
        self.clip_threshold = check_in_range("Adafactor", "clip_threshold", clip_threshold)
        if self.clip_threshold == 0:
            raise ValueError("Adafactor: clip_threshold must be > 0; received 0")
        self.relative_step = bool(relative_step)

    def _update(self, index, parameter, gradient, learning_rate):
        step = self.iterations + 1
        rho = min(learning_rate, 1 / math.sqrt(step))
        alpha = max(self.epsilon_2, _rms(parameter)) * rho
        squared = gradient * gradient + self.epsilon_1
        beta = 1 - step**self.beta_2_decay
        if parameter.ndim >= 2:
            row = self._factor(index, "row", parameter.shape[:-1], parameter.dtype)
            column = self._factor(index, "column", parameter.shape[:-2] + parameter.shape[-1:], parameter.dtype)
            row[...] = beta * row + (1 - beta) * squared.mean(axis=-1)
            column[...] = beta * column + (1 - beta) * squared.mean(axis=-2)
            velocity = self._slot(index, "velocity", parameter)
            velocity[...] = (row / row.mean(axis=-1, keepdims=True))[..., None] * column[..., None, :]
        else:
            velocity = self._slot(index, "velocity", parameter)
            velocity[...] = beta * velocity + (1 - beta) * squared
        update = gradient / np.sqrt(velocity)
        parameter -= alpha * update / max(1.0, _rms(update) / self.clip_threshold)

    def _factor(self, index, name, shape, dtype):
        """The row or column slot of parameter `index` (zeros of `shape` on first use)."""
        slots = self._slots.setdefault(index, {})
        if name not in slots:
            slots[name] = np.zeros(shape, dtype=dtype)
        elif slots[name].shape != shape:
            raise ValueError(f"Adafactor: parameter {index}'s slot '{name}' has shape {slots[name].shape}, expected "
                             f"{shape}; pass the same parameters in the same order at every step")
        return slots[name]


def _rms(x):
    return float(np.sqrt(np.mean(x * x)))
