"""Adam (Kingma & Ba 2015), as Keras 3."""

import math

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class Adam(Optimizer):
    """Adaptive moment estimation, in Keras 3's form (t = iterations + 1, the number of this update):

        m <- m + (1 - beta_1) * (g - m)
        v <- v + (1 - beta_2) * (g^2 - v)
        lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        p <- p - lr_t * m / (sqrt(v) + epsilon)

    epsilon is the paper's "epsilon hat" (Kingma & Ba 2015, just before section 2.1): it is added to the
    uncorrected sqrt(v). PyTorch adds it to sqrt(v / (1 - beta_2^t)) instead; with epsilon = 0 the two are
    the same. With `weight_decay`, p <- p - lr * weight_decay * p first: AdamW (Loshchilov & Hutter 2019).

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        beta_1: decay of the first-moment average m, in [0, 1). Default 0.9.
        beta_2: decay of the second-moment average v, in [0, 1). Default 0.999.
        epsilon: >= 0. Default 1e-7.
        weight_decay: None or a float >= 0.
    """

    slot_names = ("momentum", "velocity")
    config_names = ("beta_1", "beta_2", "epsilon", "weight_decay")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.beta_1 = check_in_range("Adam", "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_in_range("Adam", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_in_range("Adam", "epsilon", epsilon)

    def _update(self, index, parameter, gradient, learning_rate):
        step = self.iterations + 1
        step_size = learning_rate * math.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)
        first_moment = self._slot(index, "momentum", parameter)
        second_moment = self._slot(index, "velocity", parameter)
        first_moment += (gradient - first_moment) * (1 - self.beta_1)
        second_moment += (np.square(gradient) - second_moment) * (1 - self.beta_2)
        parameter -= first_moment * step_size / (np.sqrt(second_moment) + self.epsilon)
