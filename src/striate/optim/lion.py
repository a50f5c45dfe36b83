"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), as Keras 3."""

import numbers

import numpy as np

from striate.optim.optimizer import Optimizer


class Lion(Optimizer):
    """EvoLved sign momentum: every coordinate moves by exactly lr, in the sign of an interpolated momentum:

        p <- p - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m <- beta_2 * m + (1 - beta_2) * g

    Its steps are larger than Adam's, so the paper uses a learning rate 3-10x smaller.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        beta_1: weight of the momentum in the step, in [0, 1]. Default 0.9.
        beta_2: decay of the momentum, in [0, 1]. Default 0.99.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("momentum",)
    config_names = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, **options):
        super().__init__(learning_rate, weight_decay, **options)
        for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"Lion: {name} must be a number in [0, 1]; received {value!r}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def _update(self, index, parameter, gradient, learning_rate):
        m = self._slot(index, "momentum", parameter)
        parameter -= np.sign(m * self.beta_1 + gradient * (1 - self.beta_1)) * learning_rate
        m[...] = m * self.beta_2 + gradient * (1 - self.beta_2)
