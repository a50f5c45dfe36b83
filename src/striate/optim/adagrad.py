"""Adagrad (Duchi, Hazan & Singer 2011), as Keras 3."""

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class Adagrad(Optimizer):
    """Per-coordinate learning rates from the sum of all past squared gradients:

        a <- a + g^2                          (a starts at initial_accumulator_value)
        p <- p - lr * g / sqrt(a + epsilon)

    PyTorch's Adagrad (initial_accumulator_value, eps) adds eps to sqrt(a) instead and starts a at 0 by
    default; with epsilon = 0 and the same start the two are the same.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        initial_accumulator_value: >= 0. Default 0.1.
        epsilon: >= 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("accumulator",)
    config_names = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.initial_accumulator_value = check_in_range("Adagrad", "initial_accumulator_value",
                                                        initial_accumulator_value)
        self.epsilon = check_in_range("Adagrad", "epsilon", epsilon)

    def _update(self, index, parameter, gradient, learning_rate):
        accumulator = self._slot(index, "accumulator", parameter, fill=self.initial_accumulator_value)
        accumulator += np.square(gradient)
        parameter -= gradient * learning_rate / np.sqrt(accumulator + self.epsilon)
