"""Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm, as Keras 3."""

import numpy as np

from striate.optim.optimizer import AdaptiveMoments


class Adamax(AdaptiveMoments):
    """Adam with the second moment replaced by an exponentially weighted infinity norm u (t = iterations + 1):

        m <- m + (1 - beta_1) * (g - m)
        u <- max(beta_2 * u, |g|)
        p <- p - lr * m / ((1 - beta_1^t) * (u + epsilon))

    PyTorch's Adamax adds epsilon inside the max (u <- max(beta_2 * u, |g| + eps)); with epsilon = 0 the two
    are the same.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        beta_1: in [0, 1). Default 0.9.
        beta_2: in [0, 1). Default 0.999.
        epsilon: >= 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("momentum", "norm")

    def _update(self, index, parameter, gradient, learning_rate):
        step = self.iterations + 1
        m = self._slot(index, "momentum", parameter)
        u = self._slot(index, "norm", parameter)
        m += (gradient - m) * (1 - self.beta_1)
        np.maximum(u * self.beta_2, np.abs(gradient), out=u)
        parameter -= m * learning_rate / ((u + self.epsilon) * (1 - self.beta_1**step))
