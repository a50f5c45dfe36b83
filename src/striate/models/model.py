"""`Model`: a layer made of layers, with Keras' training methods.

Three ways to make one, as Keras:
- `striate.Sequential([...])`: a stack of layers (models/sequential.py);
- functional: `inputs = striate.Input((28, 28, 1)); outputs = layer(...)(inputs); Model(inputs, outputs)`,
  for residual and inception blocks;
- subclassing: assign layers as attributes in `__init__` and write `call(self, x, training=False)`.

Training (`compile`, `fit`, `evaluate`, `predict`, `train_on_batch`) lives in striate.training; the model
only exposes its layers and weights. No method here computes a gradient.
"""

from striate.inspect.shapes import explain_call
from striate.layers.layer import Layer, SymbolicTensor


def Input(shape, name=None):  # noqa: N802 (Keras' name)
    """A symbolic input of `shape` (without the batch axis) to start a functional model."""
    return SymbolicTensor((None, *tuple(shape)))


class Model(Layer):
    def __init__(self, inputs=None, outputs=None, name=None):
        object.__setattr__(self, "_layers", [])
        super().__init__(name=name)
        self.compiled = None
        self.epochs_trained = 0
        if inputs is not None:
            self._inputs = inputs if isinstance(inputs, list | tuple) else [inputs]
            self._outputs = outputs
            self._nodes = _topological_nodes(outputs)
            for node in self._nodes:
                self._track(node.layer)
            self.ensure_built([i.shape for i in self._inputs] if len(self._inputs) > 1 else self._inputs[0].shape)

    def __setattr__(self, name, value):
        if isinstance(value, Layer):
            self._track(value)
        super().__setattr__(name, value)

    def _track(self, layer):
        if layer is not self and all(layer is not known for known in self._layers):
            self._layers.append(layer)

    @property
    def layers(self):
        return list(self._layers)

    # ---- weights gathered from the layers ----------------------------------------------------------
    @property
    def weights(self):
        return _unique(w for layer in self._layers for w in layer.weights)

    @property
    def trainable_weights(self):
        return _unique(w for layer in self._layers for w in layer.trainable_weights)

    @property
    def non_trainable_weights(self):
        return _unique(w for layer in self._layers for w in layer.non_trainable_weights)

    # ---- forward ------------------------------------------------------------------------------------
    def call(self, inputs, training=False):
        """Runs the functional graph; a subclass replaces this."""
        values = {}
        for symbolic, value in zip(self._inputs, inputs if len(self._inputs) > 1 else [inputs]):
            values[id(symbolic)] = value
        try:
            for node in self._nodes:
                arguments = [values[id(i)] for i in node.inputs]
                values[id(node)] = node.layer(arguments if len(arguments) > 1 else arguments[0], training=training)
        except ValueError as error:
            explained = explain_call(self, inputs, error)
            if explained is None:
                raise
            raise explained from error
        return values[id(self._outputs)]

    def build(self, input_shape):
        """Builds a subclassed model's layers by tracing shapes through `call` (functional models are built)."""

    def compute_output_shape(self, input_shape):
        if hasattr(self, "_outputs"):
            return self._outputs.shape
        return self.call(SymbolicTensor(input_shape)).shape

    # ---- training, delegated -------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Set the optimizer, the loss and the metrics for `fit`, `evaluate` and `train_on_batch`.

        Also asks the C allocator to keep freed memory for the next step (`striate.core.memory`): training
        reallocates the same arrays every step, and fresh pages cost a page fault each.
        """
        from striate.core.memory import keep_freed_memory
        from striate.training.compiled import Compiled

        keep_freed_memory()
        self.compiled = Compiled(optimizer, loss, metrics)

    def fit(self, x, y, batch_size=32, epochs=1, **options):
        from striate.training.fit import fit

        return fit(self, x, y, batch_size=batch_size, epochs=epochs, **options)

    def evaluate(self, x, y, batch_size=32, verbose=0):
        from striate.training.fit import evaluate

        return evaluate(self, x, y, batch_size=batch_size, verbose=verbose)

    def predict(self, x, batch_size=32, verbose=0):
        from striate.training.fit import predict

        return predict(self, x, batch_size=batch_size, verbose=verbose)

    def train_on_batch(self, x, y):
        from striate.training.fit import train_on_batch

        return train_on_batch(self, x, y)

    def save(self, path):
        """Architecture, weights, compile settings, optimizer state and epoch in one safetensors file."""
        from striate.models.saving import save_model

        save_model(self, path)

    def save_weights(self, path):
        from striate.models.saving import save_weights

        save_weights(self, path)

    def load_weights(self, path):
        from striate.models.saving import load_weights

        load_weights(self, path)

    def summary(self, print_fn=print, arithmetic=False):
        """Keras' summary table; arithmetic=True prints striate.plan's columns instead (padding, MACs, FLOPs,
        activation memory, receptive field)."""
        if arithmetic:
            from striate.inspect.plan import plan

            print_fn(plan(self).table())
            return
        from striate.training.summary import summary_table

        print_fn(summary_table(self))


def _unique(weights):
    seen, result = set(), []
    for weight in weights:
        if id(weight) not in seen:
            seen.add(id(weight))
            result.append(weight)
    return result


def _topological_nodes(outputs):
    """The SymbolicTensors made by layers between the inputs and `outputs`, each after its inputs."""
    order, visited = [], set()
    stack = [(outputs, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited or node.layer is None:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in node.inputs)
    return order
