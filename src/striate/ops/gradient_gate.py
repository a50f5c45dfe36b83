"""`gradient_gate`: identity forward, only the positive part of the gradient backward.

Placed after a ReLU, it turns backpropagation into guided backpropagation (Springenberg et al. 2015,
"Striving for Simplicity: The All Convolutional Net", section 3.4): ReLU's own backward multiplies by
(x > 0), the gate by (grad > 0), so the gradient passed on is grad * (x > 0) * (grad > 0).
"""

import numpy as np

from striate.core.function import Function


class GradientGate(Function):
    """y = x; dLoss/dx = max(dLoss/dy, 0)."""

    def forward(self, x):
        return x  # the same array: as for reshape's views, no op writes into its input

    def backward(self, grad):
        return (np.maximum(grad, 0),)


def gradient_gate(x):
    """x unchanged; backward lets only positive gradients through: dx = max(grad, 0). Any shape."""
    return GradientGate.apply(x)
