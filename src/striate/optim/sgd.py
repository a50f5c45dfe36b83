"""Stochastic gradient descent with optional (Nesterov) momentum, as Keras 3."""

from striate.optim.optimizer import Optimizer, check_in_range


class SGD(Optimizer):
    """Gradient descent, with momentum written as Keras 3 (v is a velocity, kept per parameter):

        momentum = 0:    p <- p - lr * g
        momentum > 0:    v <- momentum * v - lr * g;   p <- p + v
        nesterov=True:   v <- momentum * v - lr * g;   p <- p + momentum * v - lr * g

    For a constant learning rate this is PyTorch's SGD (b <- momentum * b + g; p <- p - lr * b, v = -lr * b).
    With `weight_decay`, p <- p - lr * weight_decay * p first (decoupled, as Keras; PyTorch's SGD
    weight_decay instead adds weight_decay * p to g).

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.01.
        momentum: in [0, 1). Default 0.
        nesterov: use Nesterov momentum (Sutskever et al. 2013). Default False.
        weight_decay: None or a float >= 0.
        clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.

    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()                        # w.grad = 2 w
    >>> SGD(learning_rate=0.1, momentum=0.9).apply_gradients([w])
    >>> w.numpy()                                       # w - 0.1 * 2 w
    array([0.8, 1.6], dtype=float32)
    """

    slot_names = ("momentum",)
    config_names = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.momentum = check_in_range("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _update(self, index, parameter, gradient, learning_rate):
        if self.momentum == 0:
            parameter -= gradient * learning_rate
            return
        velocity = self._slot(index, "momentum", parameter)
        velocity[...] = velocity * self.momentum - gradient * learning_rate
        if self.nesterov:
            parameter += velocity * self.momentum - gradient * learning_rate
        else:
            parameter += velocity
