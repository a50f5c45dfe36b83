"""Keras' other merge layers (Add and Concatenate are in merge.py): Multiply, Subtract, Average, Maximum,
Minimum, Dot, and their functional forms multiply, subtract, average, maximum, minimum, dot.

The elementwise ones take a list of inputs of one shape (or shapes that broadcast, as Keras); Dot takes two.
"""

import math

import numpy as np

from striate import ops
from striate.layers.layer import Layer

NORMALIZE_EPSILON = 1e-7  # Keras' backend.epsilon(), the floor of the norm in Dot(normalize=True)


def broadcast_shape(op, shapes):
    """The shape elementwise ops give inputs of `shapes` (batch axis None), NumPy's broadcasting rule."""
    if len(shapes) < 2:
        raise ValueError(f"{op}: needs a list of at least 2 inputs; received {len(shapes)}")
    try:
        rest = np.broadcast_shapes(*(tuple(1 if d is None else d for d in s[1:]) for s in shapes))
    except ValueError:
        raise ValueError(f"{op}: input shapes do not broadcast; received {list(shapes)}") from None
    return (shapes[0][0], *rest)


class _Merge(Layer):
    """An elementwise merge of a list of inputs: `combine(a, b)` folded over the list."""

    def call(self, inputs, training=False):
        result = inputs[0]
        for other in inputs[1:]:
            result = self.combine(result, other)
        return result

    def compute_output_shape(self, input_shape):
        return broadcast_shape(self.name, input_shape)

    def floating_point_operations(self, input_shape, output_shape):
        """One operation per output for each input after the first (n - 1 for n inputs)."""
        return math.prod(output_shape[1:]) * (len(input_shape) - 1)


class Multiply(_Merge):
    """Elementwise product of a list of inputs."""

    def combine(self, a, b):
        return a * b


class Subtract(_Merge):
    """inputs[0] - inputs[1], exactly two inputs."""

    def call(self, inputs, training=False):
        return inputs[0] - inputs[1]

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: subtracts exactly 2 inputs; received {len(input_shape)}")
        return broadcast_shape(self.name, input_shape)


class Average(_Merge):
    """Elementwise mean of a list of inputs."""

    def call(self, inputs, training=False):
        total = inputs[0]
        for other in inputs[1:]:
            total = total + other
        return total / len(inputs)

    def floating_point_operations(self, input_shape, output_shape):
        """n - 1 additions and a divide per output: n for n inputs."""
        return math.prod(output_shape[1:]) * len(input_shape)


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    def combine(self, a, b):
        return ops.maximum(a, b)


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    def combine(self, a, b):
        return ops.minimum(a, b)


class Dot(Layer):
    """Per-sample dot product of two inputs along `axes`, as keras.layers.Dot (Keras' batch_dot):

        x (N, *x_rest with K on axes[0]), y (N, *y_rest with K on axes[1])  ->  (N, *x_rest, *y_rest)
        out[n, p, q] = sum_k x[n, p, k] y[n, k, q]      (two (N, K) inputs give (N, 1))

    Args:
        axes: an int (the same axis of both) or a pair; never the batch axis 0.
        normalize: L2-normalize each input along its axis first, x / max(||x||, 1e-7): the cosine similarity.
    """

    def __init__(self, axes, normalize=False, **options):
        super().__init__(**options)
        self.axes = int(axes) if isinstance(axes, int | np.integer) else [int(a) for a in axes]
        self.normalize = bool(normalize)

    def _axes(self, shapes):
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        if len(pair) != 2:
            raise ValueError(f"{self.name}: axes must be an int or 2 ints; received {self.axes}")
        axes = [a % len(shape) for a, shape in zip(pair, shapes)]
        if 0 in axes:
            raise ValueError(f"{self.name}: cannot take the dot product over the batch axis 0; received "
                             f"axes={self.axes} for inputs {shapes}")
        return axes

    def call(self, inputs, training=False):
        x, y = inputs
        self.compute_output_shape([(None, *x.shape[1:]), (None, *y.shape[1:])])
        a, b = self._axes([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalized(x, a), _l2_normalized(y, b)
        x_rest = [d for i, d in enumerate(x.shape[1:], start=1) if i != a]
        y_rest = [d for i, d in enumerate(y.shape[1:], start=1) if i != b]
        n = x.shape[0]
        x_moved = x.transpose((0, *(i for i in range(1, x.ndim) if i != a), a))
        y_moved = y.transpose((0, b, *(i for i in range(1, y.ndim) if i != b)))
        product = x_moved.reshape(n, math.prod(x_rest), x.shape[a]) @ y_moved.reshape(n, y.shape[b], -1)
        return product.reshape(n, *x_rest, *y_rest) if x_rest or y_rest else product.reshape(n, 1)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"{self.name}: takes a list of exactly 2 inputs; received {input_shape}")
        x_shape, y_shape = input_shape
        a, b = self._axes(input_shape)
        if x_shape[a] != y_shape[b]:
            raise ValueError(f"{self.name}: the summed axes differ: {x_shape}[{a}] = {x_shape[a]}, {y_shape}[{b}] "
                             f"= {y_shape[b]}")
        rest = [d for i, d in enumerate(x_shape) if i not in (0, a)] + [d for i, d in enumerate(y_shape)
                                                                       if i not in (0, b)]
        return (x_shape[0], *rest) if rest else (x_shape[0], 1)

    def multiply_accumulates(self, input_shape, output_shape):
        """K per output: each output sums K products."""
        x_shape, _ = input_shape
        return math.prod(output_shape[1:]) * x_shape[self._axes(input_shape)[0]]

    def floating_point_operations(self, input_shape, output_shape):
        """2 per multiply-accumulate; normalize=True adds 3 per input element (square, sum, divide)."""
        normalizing = 3 * sum(math.prod(shape[1:]) for shape in input_shape) if self.normalize else 0
        return super().floating_point_operations(input_shape, output_shape) + normalizing

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalized(x, axis):
    norm = ops.sqrt((x * x).sum(axis=axis, keepdims=True))
    return x / ops.maximum(norm, NORMALIZE_EPSILON)


def multiply(inputs, **options):
    """Multiply(**options)(inputs), as keras.layers.multiply."""
    return Multiply(**options)(inputs)


def subtract(inputs, **options):
    """Subtract(**options)(inputs): inputs[0] - inputs[1], as keras.layers.subtract."""
    return Subtract(**options)(inputs)


def average(inputs, **options):
    """Average(**options)(inputs), as keras.layers.average."""
    return Average(**options)(inputs)


def maximum(inputs, **options):
    """Maximum(**options)(inputs), as keras.layers.maximum."""
    return Maximum(**options)(inputs)


def minimum(inputs, **options):
    """Minimum(**options)(inputs), as keras.layers.minimum."""
    return Minimum(**options)(inputs)


def dot(inputs, axes=-1, normalize=False, **options):
    """Dot(axes, normalize, **options)(inputs), as keras.layers.dot."""
    return Dot(axes=axes, normalize=normalize, **options)(inputs)
