"""Adadelta (Zeiler 2012), as Keras 3."""

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class Adadelta(Optimizer):
    """Steps scaled by the ratio of running RMS of past steps and of gradients (rms(x) = sqrt(x + epsilon)):

        a <- rho * a + (1 - rho) * g^2
        delta = -rms(d) * g / rms(a)
        d <- rho * d + (1 - rho) * delta^2
        p <- p + lr * delta

    Zeiler's rule has lr = 1; Keras' default is 0.001. PyTorch's Adadelta(lr, rho, eps) is the same rule.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        rho: decay of the averages, in [0, 1). Default 0.95.
        epsilon: > 0 keeps the first steps from being 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")
    config_names = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.rho = check_in_range("Adadelta", "rho", rho, 0.0, 1.0)
        self.epsilon = check_in_range("Adadelta", "epsilon", epsilon)

    def _update(self, index, parameter, gradient, learning_rate):
        gradients = self._slot(index, "accumulated_grad", parameter)
        deltas = self._slot(index, "accumulated_delta_var", parameter)
        gradients[...] = gradients * self.rho + np.square(gradient) * (1 - self.rho)
        delta = -np.sqrt(deltas + self.epsilon) * gradient / np.sqrt(gradients + self.epsilon)
        deltas[...] = deltas * self.rho + np.square(delta) * (1 - self.rho)
        parameter += delta * learning_rate
