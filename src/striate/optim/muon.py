"""Muon (Jordan et al. 2024, "Muon: MomentUm Orthogonalized by Newton-Schulz"), as Keras 3: 2D weights
step along their orthogonalized momentum; all other weights (and embeddings, and excluded layers) by AdamW."""

import math
import re

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


def newton_schulz(x, steps, a=3.4445, b=-4.775, c=2.0315):
    """An approximation of U V^T for x = U S V^T (the nearest semi-orthogonal matrix): x scaled to
    Frobenius norm ~1, then `steps` times x <- a x + (b A + c A^2) x, A = x x^T (on the wide orientation).

    Shape:
        x (..., R, C); the result has the same shape.
    """
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = np.swapaxes(x, -2, -1)
    x = x / (np.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
    for _ in range(steps):
        gram = x @ np.swapaxes(x, -2, -1)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return np.swapaxes(x, -2, -1) if tall else x


class Muon(Optimizer):
    """Per 2D weight p (R, C), with momentum m (t = iterations + 1):

        m <- momentum * m + g
        d = g + momentum * m  (nesterov)  or  m
        p <- p - lr * newton_schulz(d) * sqrt(max(R, C)) * rms_rate       (no last factors if rms_rate is None)

    and per other weight (rank != 2, a name containing "embedding" with exclude_embeddings, or one matching
    a pattern of exclude_layers), AdamW with lr * adam_lr_ratio:

        m <- m + (1 - adam_beta_1)(g - m)     v <- v + (1 - adam_beta_2)(g^2 - v)
        p <- p - lr' sqrt(1 - adam_beta_2^t) / (1 - adam_beta_1^t) * m / (sqrt(v) + epsilon)

    Weight decay p <- p - p * wd * lr comes first, wd = weight_decay for Muon's weights and
    adam_weight_decay for AdamW's (both 0.004 by default, as Keras).

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        adam_beta_1, adam_beta_2, epsilon, adam_weight_decay, adam_lr_ratio: AdamW's, for the other weights.
        weight_decay: Muon's weights' decay. Default 0.004.
        exclude_layers: regular expressions; weights whose name matches one go to AdamW.
        exclude_embeddings: weights whose name contains "embedding" go to AdamW. Default True.
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients. ns_steps: its iterations. Default 5.
        momentum: in [0, 1). Default 0.95. nesterov: Default True.
        rms_rate: scales the step to the RMS of an AdamW step (Liu et al. 2025); None leaves it. Default 0.2.
        clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("momentum", "velocity")
    config_names = ("adam_beta_1", "adam_beta_2", "epsilon", "exclude_layers", "muon_a", "muon_b", "muon_c",
                    "adam_lr_ratio", "momentum", "ns_steps", "nesterov", "exclude_embeddings", "adam_weight_decay",
                    "rms_rate")

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,
                 epsilon=1e-7, weight_decay=0.004, exclude_layers=None, exclude_embeddings=True, muon_a=3.4445,
                 muon_b=-4.775, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2, **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.adam_beta_1 = check_in_range("Muon", "adam_beta_1", adam_beta_1, 0.0, 1.0)
        self.adam_beta_2 = check_in_range("Muon", "adam_beta_2", adam_beta_2, 0.0, 1.0)
        self.epsilon = check_in_range("Muon", "epsilon", epsilon)
        self.adam_weight_decay = None if adam_weight_decay is None else check_in_range(
            "Muon", "adam_weight_decay", adam_weight_decay)
        self.momentum = check_in_range("Muon", "momentum", momentum, 0.0, 1.0)
        if not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"Muon: ns_steps must be an integer >= 0; received {ns_steps!r}")
        self.muon_a, self.muon_b, self.muon_c, self.ns_steps = muon_a, muon_b, muon_c, ns_steps
        self.adam_lr_ratio, self.nesterov, self.rms_rate = adam_lr_ratio, nesterov, rms_rate
        self.exclude_layers, self.exclude_embeddings = list(exclude_layers or []), exclude_embeddings
        self._adamw = {}  # parameter index -> (updated by AdamW, decays)

    def uses_adamw(self, parameter):
        """Whether a weight (a Tensor; its `name` is Keras' variable path) is updated by AdamW."""
        name = getattr(parameter, "name", None) or ""
        return (parameter.data.ndim != 2 or (self.exclude_embeddings and "embedding" in name.lower())
                or any(re.search(pattern, name) for pattern in self.exclude_layers))

    def apply_gradients(self, parameters):
        """As Optimizer's, with each weight's decay (weight_decay or adam_weight_decay) applied in `_update`."""
        self._adamw = {index: (self.uses_adamw(parameter), super(Muon, self)._decays(parameter))
                       for index, parameter in enumerate(parameters)}
        super().apply_gradients(parameters)

    def _decays(self, parameter):
        return False  # _update decays, with the rate of the parameter's rule

    def _update(self, index, parameter, gradient, learning_rate):
        adamw, decays = self._adamw[index]
        decay = self.adam_weight_decay if adamw else self.weight_decay
        if decays and decay is not None:
            parameter -= parameter * decay * learning_rate
        m = self._slot(index, "momentum", parameter)
        if adamw:
            step = self.iterations + 1
            v = self._slot(index, "velocity", parameter)
            alpha = learning_rate * self.adam_lr_ratio * math.sqrt(1 - self.adam_beta_2**step) / (
                1 - self.adam_beta_1**step)
            m += (gradient - m) * (1 - self.adam_beta_1)
            v += (gradient * gradient - v) * (1 - self.adam_beta_2)
            parameter -= m * alpha / (np.sqrt(v) + self.epsilon)
            return
        m += gradient + m * (self.momentum - 1)
        direction = gradient + self.momentum * m if self.nesterov else m
        step = learning_rate * newton_schulz(direction, self.ns_steps, self.muon_a, self.muon_b, self.muon_c)
        if self.rms_rate is not None:
            step = step * math.sqrt(max(parameter.shape)) * self.rms_rate
        parameter -= step
