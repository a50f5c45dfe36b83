"""FTRL-Proximal (McMahan et al. 2013, "Ad Click Prediction: a View from the Trenches"), as Keras 3."""

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class Ftrl(Optimizer):
    """Follow The Regularized Leader: per coordinate, an accumulator n of squared gradients and a linear term
    z; the weight is the closed-form minimizer of z w + l1 |w| + (sqrt(n) / lr + 2 l2) w^2 / 2 (with
    learning_rate_power p = -0.5; in general n^-p replaces sqrt(n)):

        g' = g + 2 * l2_shrinkage * w
        n' = n + g^2
        z <- z + g' - (n'^-p - n^-p) / lr * w
        w <- (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 * (l2 + beta / (2 lr)))        (0 where |z| <= l1)
        n <- n'

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        learning_rate_power: <= 0. Default -0.5.
        initial_accumulator_value: n's start, >= 0. Default 0.1.
        l1_regularization_strength, l2_regularization_strength: >= 0. Default 0.
        l2_shrinkage_regularization_strength: >= 0, an L2 penalty added to the gradient only. Default 0.
        beta: > 0 adds beta / (2 lr) to l2 (the paper's beta). Default 0.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("accumulator", "linear")
    config_names = ("learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
                    "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta")

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None, **options):
        if learning_rate_power > 0:
            raise ValueError(f"Ftrl: learning_rate_power must be <= 0; received {learning_rate_power!r}")
        super().__init__(learning_rate, weight_decay, **options)
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = check_in_range("Ftrl", "initial_accumulator_value",
                                                        initial_accumulator_value)
        self.l1_regularization_strength = check_in_range("Ftrl", "l1_regularization_strength",
                                                         l1_regularization_strength)
        self.l2_regularization_strength = check_in_range("Ftrl", "l2_regularization_strength",
                                                         l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = check_in_range(
            "Ftrl", "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)
        self.beta = check_in_range("Ftrl", "beta", beta)

    def _update(self, index, parameter, gradient, learning_rate):
        accumulator = self._slot(index, "accumulator", parameter, fill=self.initial_accumulator_value)
        linear = self._slot(index, "linear", parameter)
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        shrunk_gradient = gradient + 2 * self.l2_shrinkage_regularization_strength * parameter
        new_accumulator = accumulator + gradient * gradient
        linear += shrunk_gradient - (new_accumulator**power - accumulator**power) / learning_rate * parameter
        quadratic = new_accumulator**power / learning_rate + 2 * l2
        l1 = self.l1_regularization_strength
        parameter[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
        accumulator[...] = new_accumulator
