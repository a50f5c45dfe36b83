"""Layers that wrap a function, as keras.layers: Identity (the input unchanged) and Lambda (any function of
Tensors built from striate ops, so its gradient comes from them)."""

import numpy as np

from striate.core.tensor import Tensor
from striate.layers.layer import Layer


class Identity(Layer):
    """Returns its input unchanged (a placeholder, as keras.layers.Identity)."""

    def call(self, inputs, training=False):
        return inputs


class Lambda(Layer):
    """y = function(inputs, **arguments), as keras.layers.Lambda.

    Args:
        function: a callable of a Tensor (or a list of Tensors) made of striate ops.
        output_shape: the output shape without the batch axis, or a callable input_shape -> output_shape; when
            None it is found by calling `function` once on zeros with a batch of 1.
        mask: accepted for Keras' signature; only None is supported.
        arguments: extra keyword arguments for `function`.

    A Lambda's config names its function but cannot rebuild it: as Keras' safe mode, striate never loads code
    from a file, so a model holding a Lambda is rebuilt by running the Python code that made it.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **options):
        super().__init__(**options)
        if not callable(function):
            raise ValueError(f"{self.name}: function must be a callable; received {function!r} (a Lambda read "
                             "from a file cannot be rebuilt: striate does not load code from files, as Keras' "
                             "safe_mode; build the model in Python and load only its weights)")
        if mask is not None:
            raise ValueError(f"{self.name}: only mask=None is supported; received {mask!r}")
        self.function, self.output_shape_argument = function, output_shape
        self.arguments = dict(arguments or {})

    def call(self, inputs, training=False):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if callable(self.output_shape_argument):
            return tuple(self.output_shape_argument(input_shape))
        if self.output_shape_argument is not None:
            return (input_shape[0], *self.output_shape_argument)
        return _traced_shape(self.function(_zeros_like_shape(input_shape), **self.arguments))

    def receptive_field(self, field, input_shape, output_shape):
        """None: the field ends here (a function may move values anywhere; its arithmetic is not known)."""
        return None

    def get_config(self):
        function = f"{getattr(self.function, '__module__', '?')}.{getattr(self.function, '__qualname__', '?')}"
        output_shape = self.output_shape_argument
        return {**super().get_config(), "function": function,
                "output_shape": None if output_shape is None or callable(output_shape) else list(output_shape),
                "arguments": self.arguments}


def _zeros_like_shape(shape):
    """Zeros of `shape` with a batch of 1 (a list of shapes gives a list)."""
    if isinstance(shape, list):
        return [_zeros_like_shape(s) for s in shape]
    return Tensor(np.zeros((1, *(1 if d is None else d for d in shape[1:])), np.float32))


def _traced_shape(output):
    if isinstance(output, list | tuple):
        return [_traced_shape(o) for o in output]
    return (None, *output.shape[1:])
