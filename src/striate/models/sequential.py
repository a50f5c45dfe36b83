"""`Sequential`: layers applied one after the other, as keras.Sequential."""

from collections.abc import Iterable

from striate.inspect.shapes import explain_call, trace
from striate.layers.core import InputLayer
from striate.layers.layer import Layer, SymbolicTensor
from striate.models.fusion import chain_plan
from striate.models.model import Model


class Sequential(Model):
    """A plain stack: y = layer_n(... layer_2(layer_1(x))).

    >>> model = Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), Flatten(), Dense(10)])
    >>> model.output_shape, model.count_params()        # 26 * 26 * 32 inputs to Dense: 216,330 + 320
    ((None, 10), 216650)
    """

    def __init__(self, layers: Iterable[Layer | SymbolicTensor] = (), name: str | None = None) -> None:
        super().__init__(name=name)
        for layer in layers:
            self.add(layer)

    def add(self, layer: Layer | SymbolicTensor) -> None:
        """Append a layer, or first a `striate.Input(shape)` or `InputLayer(shape)` that gives the input shape
        (as Keras; it is not one of `model.layers`). The model is built as soon as the input shape is known."""
        if isinstance(layer, SymbolicTensor):
            if layer.layer is not None or self._layers:
                raise ValueError(f"Sequential.add: takes layers, and striate.Input(shape) only before the first "
                                 f"layer; received {layer!r} after {len(self._layers)} layer(s)")
            self.input_shape = layer.shape
            return
        if isinstance(layer, InputLayer) and not self._layers:  # as keras.Sequential: it gives the input shape,
            self.input_shape = layer.input_shape                 # and model.layers leaves it out
            return
        self._track(layer)
        self._steps = None
        input_shape = self.input_shape if self.input_shape is not None else self._layers[0].input_shape
        if input_shape is not None:
            self._build_from(input_shape)

    def _build_from(self, input_shape):
        """Build each layer on the shape that reaches it; a layer that does not fit raises a ShapeError showing
        the chain of shapes and the failed formula (striate.inspect.shapes)."""
        steps = trace(self, input_shape, build=True)
        self.input_shape, self.output_shape, self.built = input_shape, steps[-1].output_shape, True

    def ensure_built(self, input_shape):
        if not self.built:
            self._build_from(input_shape)

    def call(self, inputs, training=False):
        x = inputs
        try:
            for step, _ in self._fusion_plan():
                x = step.run([x], training)
        except ValueError as error:
            explained = explain_call(self, inputs, error)
            if explained is None:
                raise
            raise explained from error
        return x

    def _fusion_plan(self):
        """The steps of `call`: the layers, with runs that one op computes fused (striate.models.fusion); made
        once per list of layers."""
        if getattr(self, "_steps", None) is None:
            self._steps = chain_plan(self._layers)
        return self._steps

    def compute_output_shape(self, input_shape):
        for layer in self._layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape
