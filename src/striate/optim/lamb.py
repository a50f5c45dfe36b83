"""LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes"), as
Keras 3: Adam's step, rescaled per weight array by the trust ratio ||w|| / ||step||."""

import numpy as np

from striate.optim.optimizer import AdaptiveMoments


class Lamb(AdaptiveMoments):
    """Layer-wise adaptive moments (t = iterations + 1):

        m <- m + (1 - beta_1) * (g - m)          v <- v + (1 - beta_2) * (g^2 - v)
        r = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)
        p <- p - lr * (||p|| / ||r||) * r        (the ratio is 1 where ||p|| or ||r|| is 0)

    norms over the whole weight array. Weight decay is the base class's decoupled one (Keras' Lamb).

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        beta_1, beta_2: in [0, 1). Defaults 0.9, 0.999.
        epsilon: >= 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("momentum", "velocity")

    def _update(self, index, parameter, gradient, learning_rate):
        step = self.iterations + 1
        m = self._slot(index, "momentum", parameter)
        v = self._slot(index, "velocity", parameter)
        m += (gradient - m) * (1 - self.beta_1)
        v += (gradient * gradient - v) * (1 - self.beta_2)
        update = (m / (1 - self.beta_1**step)) / (np.sqrt(v / (1 - self.beta_2**step)) + self.epsilon)
        weight_norm, update_norm = np.sqrt(np.sum(parameter * parameter)), np.sqrt(np.sum(update * update))
        ratio = weight_norm / update_norm if weight_norm > 0 and update_norm > 0 else 1.0
        parameter -= update * (ratio * learning_rate)
