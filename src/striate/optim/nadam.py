"""Nadam (Dozat 2016): Adam with Nesterov momentum, as Keras 3."""

import numpy as np

from striate.optim.optimizer import AdaptiveMoments

MOMENTUM_DECAY = 0.96  # mu_t = beta_1 * (1 - 0.5 * 0.96^t), Keras' momentum schedule


class Nadam(AdaptiveMoments):
    """Nesterov-accelerated Adam, in Keras 3's form (t = iterations + 1, the number of this update):

        mu_t = beta_1 * (1 - 0.5 * 0.96^t)          (the momentum schedule)
        prod_t = mu_1 * mu_2 * ... * mu_t
        m <- m + (1 - beta_1) * (g - m)
        v <- v + (1 - beta_2) * (g^2 - v)
        m_hat = mu_{t+1} * m / (1 - prod_t * mu_{t+1}) + (1 - mu_t) * g / (1 - prod_t)
        v_hat = v / (1 - beta_2^t)
        p <- p - lr * m_hat / (sqrt(v_hat) + epsilon)

    PyTorch's NAdam schedules mu_t = beta_1 * (1 - 0.5 * 0.96^(t * momentum_decay)), momentum_decay = 0.004,
    and adds epsilon to sqrt(v_hat) the same way: with momentum_decay = 1 and epsilon = 0 the two agree.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        beta_1: in [0, 1). Default 0.9.
        beta_2: in [0, 1). Default 0.999.
        epsilon: >= 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("momentum", "velocity")
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, **options):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, **options)
        self._product = (0, 1.0)  # (t, prod_t), advanced one step at a time

    def _momentum(self, step):
        return self.beta_1 * (1 - 0.5 * MOMENTUM_DECAY**step)

    def _momentum_product(self, step):
        """prod_{i <= step} mu_i, carried over from the previous step (recomputed after a set_state)."""
        done, product = self._product if self._product[0] <= step else (0, 1.0)
        for i in range(done + 1, step + 1):
            product *= self._momentum(i)
        self._product = (step, product)
        return product

    def _update(self, index, parameter, gradient, learning_rate):
        step = self.iterations + 1
        mu, mu_next = self._momentum(step), self._momentum(step + 1)
        product = self._momentum_product(step)
        m = self._slot(index, "momentum", parameter)
        v = self._slot(index, "velocity", parameter)
        m += (gradient - m) * (1 - self.beta_1)
        v += (np.square(gradient) - v) * (1 - self.beta_2)
        m_hat = m * (mu_next / (1 - product * mu_next)) + gradient * ((1 - mu) / (1 - product))
        v_hat = v / (1 - self.beta_2**step)
        parameter -= m_hat * learning_rate / (np.sqrt(v_hat) + self.epsilon)
