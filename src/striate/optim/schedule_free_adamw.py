"""Schedule-free AdamW (Defazio et al. 2024, "The Road Less Scheduled"), as Keras 3: no learning-rate
schedule is needed, the weights being an interpolation between an Adam-style iterate z and the running
average x of the z's."""

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class ScheduleFreeAdamW(Optimizer):
    """Per weight y (the model's weights), with z ("momentum", starting at the initial weights) and v, at
    step t = iterations + 1 and lr' = lr * min(t / warmup_steps, 1) (lr without warmup):

        v <- v + (1 - beta_2) * (g^2 - v)
        z' = z - lr' * g / (sqrt(v / (1 - beta_2^t)) + epsilon)
        x  = (y - (1 - beta_1) * z) / beta_1          (the average, recovered from y and the old z)
        x' = (1 - 1/t) * x + (1/t) * z'
        y <- (1 - beta_1) * z' + beta_1 * x'          z <- z'

    so x is the uniform average of the z's of all steps so far. Weight decay is the base class's decoupled
    one, applied to y before the step (Keras' order). Keras evaluates a model at y; the paper evaluates it
    at x.

    Keras 3.15 on its torch backend reads the old z through a reference that its in-place update of z
    changes, so from the second step on it recovers x from z' instead of z; striate follows the paper and
    Keras' source as written (the same first step; see tests/optim/test_more_optimizers_vs_keras.py).

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.0025.
        beta_1: the interpolation between z and x, in (0, 1). Default 0.9.
        beta_2: in [0, 1). Default 0.999.
        epsilon: >= 0. Default 1e-8.
        warmup_steps: the steps over which lr ramps up linearly from lr / warmup_steps; 0 for none.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("momentum", "velocity")
    config_names = ("beta_1", "beta_2", "epsilon", "warmup_steps")

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0,
                 weight_decay=None, **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.beta_1 = check_in_range("ScheduleFreeAdamW", "beta_1", beta_1, 0.0, 1.0)
        if self.beta_1 == 0:
            raise ValueError("ScheduleFreeAdamW: beta_1 must be in (0, 1); received 0")
        self.beta_2 = check_in_range("ScheduleFreeAdamW", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_in_range("ScheduleFreeAdamW", "epsilon", epsilon)
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"ScheduleFreeAdamW: warmup_steps must be an integer >= 0; received {warmup_steps!r}")
        self.warmup_steps = warmup_steps

    def apply_gradients(self, parameters):
        """As Optimizer's; z starts as a copy of each weight as given, before any weight decay."""
        for index, parameter in enumerate(parameters):
            if parameter.grad is not None and "momentum" not in self._slots.get(index, {}):
                self._slots.setdefault(index, {})["momentum"] = np.array(parameter.data, copy=True)
        super().apply_gradients(parameters)

    def _update(self, index, parameter, gradient, learning_rate):
        step = self.iterations + 1
        if self.warmup_steps > 0:
            learning_rate = learning_rate * min(step / self.warmup_steps, 1.0)
        z = self._slot(index, "momentum", parameter)
        v = self._slot(index, "velocity", parameter)
        v += (gradient * gradient - v) * (1 - self.beta_2)
        x = (parameter - (1 - self.beta_1) * z) / self.beta_1
        z -= learning_rate * gradient / (np.sqrt(v / (1 - self.beta_2**step)) + self.epsilon)
        weight = 1.0 / step
        x = (1 - weight) * x + weight * z
        parameter[...] = (1 - self.beta_1) * z + self.beta_1 * x
