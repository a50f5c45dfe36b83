"""RMSprop (Hinton, Coursera lecture 6e, 2012), as Keras 3."""

import numpy as np

from striate.optim.optimizer import Optimizer, check_in_range


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of past gradients, in Keras 3's form:

        v <- rho * v + (1 - rho) * g^2
        centered=False:  d = v + epsilon
        centered=True:   a <- rho * a + (1 - rho) * g;   d = v - a^2 + epsilon
        step = lr * g / sqrt(d)
        momentum = 0:    p <- p - step
        momentum > 0:    b <- momentum * b + step;   p <- p - b

    Keras puts epsilon inside the square root; PyTorch's RMSprop (alpha = rho) adds it to sqrt(d) instead,
    and multiplies by lr after the momentum buffer. With epsilon = 0 and a constant learning rate the two
    are the same. Centered RMSprop: Graves 2013.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        rho: decay of the averages, in [0, 1). Default 0.9.
        momentum: in [0, 1). Default 0.
        epsilon: >= 0. Default 1e-7.
        centered: normalize by the estimated variance rather than the second moment. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    slot_names = ("velocity", "momentum", "average_gradient")
    config_names = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.rho = check_in_range("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = check_in_range("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = check_in_range("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)

    def _update(self, index, parameter, gradient, learning_rate):
        velocity = self._slot(index, "velocity", parameter)
        velocity[...] = self.rho * velocity + (1 - self.rho) * np.square(gradient)
        if self.centered:
            average_gradient = self._slot(index, "average_gradient", parameter)
            average_gradient[...] = self.rho * average_gradient + (1 - self.rho) * gradient
            denominator = velocity - np.square(average_gradient) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        step = learning_rate * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._slot(index, "momentum", parameter)
            momentum[...] = self.momentum * momentum + step
            parameter -= momentum
        else:
            parameter -= step
