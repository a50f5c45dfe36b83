"""`Sequential`: layers applied one after the other, as keras.Sequential."""

from striate.layers.core import InputLayer
from striate.models.model import Model


class Sequential(Model):
    """A plain stack: y = layer_n(... layer_2(layer_1(x))).

    >>> model = Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), Flatten(), Dense(10)])
    """

    def __init__(self, layers=(), name=None):
        super().__init__(name=name)
        for layer in layers:
            self.add(layer)

    def add(self, layer):
        """Append a layer; the model is built as soon as the first layer knows its input shape."""
        self._track(layer)
        first = self._layers[0]
        if first.input_shape is not None:
            self._build_from(first.input_shape)

    def _build_from(self, input_shape):
        shape = input_shape
        for layer in self._layers:
            if isinstance(layer, InputLayer):
                layer.ensure_built(shape)
                continue
            layer.ensure_built(shape)
            shape = layer.compute_output_shape(shape)
        self.input_shape, self.output_shape, self.built = input_shape, shape, True

    def ensure_built(self, input_shape):
        if not self.built:
            self._build_from(input_shape)

    def call(self, inputs, training=False):
        for layer in self._layers:
            inputs = layer(inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape
