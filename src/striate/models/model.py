"""`Model`: a layer made of layers, with Keras' training methods.

Three ways to make one, as Keras:
- `striate.Sequential([...])`: a stack of layers (models/sequential.py);
- functional: `inputs = striate.Input((28, 28, 1)); outputs = layer(...)(inputs); Model(inputs, outputs)`,
  for residual and inception blocks;
- subclassing: assign layers as attributes in `__init__` and write `call(self, x, training=False)`.

Training (`compile`, `fit`, `evaluate`, `predict`, `train_on_batch`) lives in striate.training; the model
only exposes its layers and weights. No method here computes a gradient.
"""

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from numpy.typing import ArrayLike, NDArray

from striate.inspect.shapes import explain_call
from striate.layers.layer import Layer, SymbolicTensor
from striate.models.fusion import fusion_plan

if TYPE_CHECKING:
    from striate.optim.optimizer import Optimizer
    from striate.training.callbacks import Callback, History
    from striate.training.fit import Logs, Verbose


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):  # noqa: N802 (Keras' name)
    """A symbolic input of `shape` (without the batch axis; None for a size that varies, e.g. (None, None, 3)
    for images of any size) to start a functional model, as keras.Input. `dtype` is the inputs' type
    ("float32" by default; "int32" for token ids); `batch_shape` gives the batch axis too."""
    if (shape is None) == (batch_shape is None):
        raise ValueError(f"Input: give shape or batch_shape, one of them; received shape={shape}, "
                         f"batch_shape={batch_shape}")
    shape = tuple(batch_shape) if batch_shape is not None else (batch_size, *tuple(shape))
    symbolic = SymbolicTensor((None, *shape[1:]))
    symbolic.dtype, symbolic.name = dtype or "float32", name
    return symbolic


class Model(Layer):
    _layers: list[Layer]
    stop_training: bool  # set by fit and its callbacks (striate.training.fit)
    _initial_epoch: int | None

    def __init__(self, inputs=None, outputs=None, name=None):
        object.__setattr__(self, "_layers", [])
        object.__setattr__(self, "_tracked", set())  # id() of each of _layers: tracking n layers is O(n), not O(n^2)
        super().__init__(name=name)
        self.compiled = None
        self.epochs_trained = 0
        if inputs is not None:
            self._inputs = inputs if isinstance(inputs, list | tuple) else [inputs]
            self._outputs = outputs
            self._nodes, layers = _graph_order(self._inputs, outputs)
            for layer in layers:
                self._track(layer)
            self.ensure_built([i.shape for i in self._inputs] if len(self._inputs) > 1 else self._inputs[0].shape)

    def __setattr__(self, name, value):
        if isinstance(value, Layer):
            self._track(value)
        super().__setattr__(name, value)

    def _track(self, layer):
        if layer is not self and id(layer) not in self._tracked:
            self._tracked.add(id(layer))
            self._layers.append(layer)

    @property
    def layers(self):
        """The model's layers in Keras' order (an Input is not a layer of it)."""
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name`, or the one at `index` of `layers` (keras.Model.get_layer)."""
        if (name is None) == (index is None):
            raise ValueError(f"get_layer: give name or index, one of them; received name={name!r}, index={index!r}")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: the model has {len(self._layers)} layers; received index={index}")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are {[la.name for la in self._layers]}")

    @property
    def inputs(self):
        """The functional model's symbolic inputs, as a list; for a built Sequential one input of its shape."""
        if hasattr(self, "_inputs"):
            return list(self._inputs)
        return None if self.input_shape is None else [SymbolicTensor(self.input_shape)]

    @property
    def outputs(self):
        """The symbolic outputs, as a list (one: striate's models have one output)."""
        if hasattr(self, "_outputs"):
            return [self._outputs]
        return None if self.output_shape is None else [SymbolicTensor(self.output_shape)]

    @property
    def optimizer(self):
        """The optimizer given to compile (None before), as keras.Model.optimizer."""
        return None if self.compiled is None else self.compiled.optimizer

    def sublayers(self):
        return self.layers

    # ---- weights gathered from the layers ----------------------------------------------------------
    @property
    def weights(self):
        return _unique(w for layer in self._layers for w in layer.weights)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique(w for layer in self._layers for w in layer.trainable_weights)

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return _unique(w for layer in self._layers for w in layer.non_trainable_weights)

    # ---- forward ------------------------------------------------------------------------------------
    def call(self, inputs, training=False):
        """Runs the functional graph; a subclass replaces this."""
        values = {}
        for symbolic, value in zip(self._inputs, inputs if len(self._inputs) > 1 else [inputs]):
            values[id(symbolic)] = value
        try:
            for step, first in self._fusion_plan():
                values[id(step.node)] = step.run([values[id(i)] for i in first.inputs], training)
        except ValueError as error:
            explained = explain_call(self, inputs, error)
            if explained is None:
                raise
            raise explained from error
        return values[id(self._outputs)]

    def _fusion_plan(self):
        """The steps of `call`: the nodes, with runs of layers that one op computes fused (striate.models.fusion);
        made once."""
        if getattr(self, "_steps", None) is None:
            outputs = self._outputs if isinstance(self._outputs, list | tuple) else [self._outputs]
            self._steps = fusion_plan(self._nodes, outputs)
        return self._steps

    def build(self, input_shape):
        """Builds a subclassed model's layers by tracing shapes through `call` (functional models are built)."""

    def compute_output_shape(self, input_shape):
        if hasattr(self, "_outputs"):
            return self._outputs.shape
        return self.call(SymbolicTensor(input_shape)).shape

    # ---- arithmetic by shapes alone: a model used as a layer answers with the plan of its layers -------------
    def _plan(self, input_shape):
        from striate.inspect.plan import plan

        shapes = [s[1:] for s in input_shape] if isinstance(input_shape, list) else input_shape[1:]
        return plan(self, shapes)

    def parameter_count(self, input_shape):
        if self.built:
            return super().parameter_count(input_shape)
        totals = self._plan(input_shape).totals
        return totals["params"], totals["trainable_params"] if self.trainable else 0

    def multiply_accumulates(self, input_shape, output_shape):
        return self._plan(input_shape).totals["macs"]

    def floating_point_operations(self, input_shape, output_shape):
        return self._plan(input_shape).totals["flops"]

    def receptive_field(self, field, input_shape, output_shape):
        """The field of the model's output (size S, jump J, start s0 in its input's pixels) composed with the
        field before it: size + (S - 1) * jump, jump * J, start + s0 * jump; None for several inputs or outputs."""
        if isinstance(input_shape, list) or isinstance(output_shape, list):
            return None
        last = self._plan(input_shape).rows[-1]
        if last.receptive_field is None or len(last.receptive_field) != len(field):
            return None
        return tuple((size + (inner - 1) * jump, jump * inner_jump, start + inner_start * jump)
                     for (size, jump, start), inner, inner_jump, inner_start
                     in zip(field, last.receptive_field, last.jump, last.start))

    # ---- training, delegated -------------------------------------------------------------------------
    def compile(self, optimizer: "str | Optimizer" = "rmsprop", loss: str | Callable[..., Any] | None = None,
                metrics: Sequence[Any] | dict[str, Any] | None = None, keep_freed_memory: bool = True) -> None:
        """Set the optimizer, the loss and the metrics for `fit`, `evaluate` and `train_on_batch`.

        keep_freed_memory: True asks the C allocator to keep freed memory for the next step
        (`striate.core.runtime.keep_freed_memory`, for the whole process): training reallocates the same arrays
        every step, and fresh pages cost a page fault each (bench/freed_memory.py, in docs/benchmarks.md: the
        lectures' MNIST CNN at batch 128 has about 1,800 faults a step without it and none with it). False leaves
        the allocator as it is; `striate.core.runtime.keep_freed_memory(False)` gives the memory back later.
        """
        from striate.core import runtime
        from striate.training.compiled import Compiled

        if keep_freed_memory:
            runtime.keep_freed_memory()
        self.compiled = Compiled(optimizer, loss, metrics)

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: "Verbose" = "auto", callbacks: "Sequence[Callback] | None" = None, **options: Any) -> "History":
        """See striate.training.fit.fit (keras.Model.fit's arguments)."""
        from striate.training.fit import fit

        return fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks, **options)

    def evaluate(self, x: Any = None, y: ArrayLike | None = None, batch_size: int | None = None,
                 verbose: "Verbose" = "auto", sample_weight: ArrayLike | None = None, steps: int | None = None,
                 callbacks: "Sequence[Callback] | None" = None, return_dict: bool = False) -> "Logs":
        """The loss alone, [loss, metric, ...], or with return_dict=True {"loss": ..., metric: ...}."""
        from striate.training.fit import evaluate

        return evaluate(self, x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
                        steps=steps, callbacks=callbacks, return_dict=return_dict)

    def predict(self, x: Any, batch_size: int | None = None, verbose: "Verbose" = "auto", steps: int | None = None,
                callbacks: "Sequence[Callback] | None" = None) -> NDArray[Any]:
        from striate.training.fit import predict

        return predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def train_on_batch(self, x: Any, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
                       class_weight: dict[int, float] | None = None, return_dict: bool = False) -> "Logs":
        """One optimizer step; the loss (and metrics) before it, as evaluate returns them."""
        from striate.training.fit import train_on_batch

        return train_on_batch(self, x, y, sample_weight=sample_weight, class_weight=class_weight,
                              return_dict=return_dict)

    def test_on_batch(self, x: Any, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
                      return_dict: bool = False) -> "Logs":
        from striate.training.fit import test_on_batch

        return test_on_batch(self, x, y, sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x: Any) -> NDArray[Any]:
        from striate.training.fit import predict_on_batch

        return predict_on_batch(self, x)

    def save(self, path: str | os.PathLike[str]) -> None:
        """The whole model in one file, chosen by the extension: ".keras" a Keras 3 archive (architecture and
        weights, which keras.saving.load_model reads); otherwise striate's safetensors file (architecture,
        weights, compile settings, optimizer state, epoch and random state, for resuming)."""
        if str(path).endswith(".keras"):
            from striate.models.keras_archive import save_keras

            save_keras(self, path)
            return
        from striate.models.saving import save_model

        save_model(self, path)

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """The weights alone: a Keras weights file for a path ending in ".weights.h5", else striate's."""
        if str(path).endswith(".weights.h5"):
            from striate.models.keras_archive import save_keras_weights

            save_keras_weights(self, path)
            return
        from striate.models.saving import save_weights

        save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Set the weights from a file of save_weights or save: ".weights.h5" or ".keras" (Keras'), or
        striate's."""
        if str(path).endswith((".weights.h5", ".keras")):
            from striate.models.keras_archive import load_keras_weights

            load_keras_weights(self, path)
            return
        from striate.models.saving import load_weights

        load_weights(self, path)

    def export(self, filepath: str | os.PathLike[str], format: Literal["onnx"] = "onnx") -> None:
        """Write the model for another runtime, as Keras 3's export; format "onnx" (the one striate writes):
        opset 17, input and output channels-last as striate's (striate.interchange.export_onnx). Needs the
        onnx package."""
        if format != "onnx":
            raise ValueError(f"{self.name}.export: format must be 'onnx'; received {format!r}")
        from striate.interchange.onnx_export import export_onnx

        export_onnx(self, filepath)

    def get_config(self):
        """A Sequential or functional model's architecture as a dict (the layers' configs and their wiring);
        `type(model).from_config(config)` rebuilds it with fresh weights."""
        from striate.models.saving import architecture_of

        return architecture_of(self)

    @classmethod
    def from_config(cls, config):
        from striate.models.saving import model_from_architecture

        return model_from_architecture(config)

    def to_json(self, **options: Any) -> str:
        """The architecture (layers and wiring, no weights) as JSON, for striate.models.model_from_json;
        `options` go to json.dumps."""
        from striate.models.architecture import to_json

        return to_json(self, **options)

    def summary(self, print_fn: Callable[[str], Any] = print, arithmetic: bool = False) -> None:
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


def _graph_order(inputs, outputs):
    """The nodes (SymbolicTensors made by layers) between `inputs` and `outputs`, and their layers, in Keras 3's
    order (keras.src.ops.function.map_graph), which `weights`, `get_weights` and `set_weights` follow:

    1. a depth-first walk from the output, taking each node's inputs in the order they were passed, numbers
       the layers as it first meets them;
    2. a node's depth is the longest path from it to the output (a layer called several times takes its
       deepest call's);
    3. layers come deepest first, ties in the walk's order; nodes likewise, so each comes after its inputs.

    So in a residual block the main branch's first convolution comes first, then the shortcut's and the main
    branch's convolutions of equal depth in the order given to Add. Returns (nodes, layers).
    """
    stops = {id(symbolic) for symbolic in inputs}
    finished, post_order, first_seen = set(), [], {}
    stack = [[outputs, 0]]
    while stack:
        frame = stack[-1]
        node, next_input = frame
        if next_input == 0:
            if id(node) in finished or id(node) in stops or node.layer is None:
                stack.pop()
                continue
            first_seen.setdefault(id(node.layer), len(first_seen))
        if next_input < len(node.inputs):
            frame[1] += 1
            stack.append([node.inputs[next_input], 0])
        else:
            finished.add(id(node))
            post_order.append(node)
            stack.pop()

    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = layer_depth[id(node.layer)] = depth
        for parent in node.inputs:
            if id(parent) in finished:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))

    position = {id(node): index for index, node in enumerate(post_order)}
    nodes = sorted(post_order, key=lambda n: (-node_depth[id(n)], first_seen[id(n.layer)], position[id(n)]))
    layers = sorted(_unique(node.layer for node in post_order),
                    key=lambda layer: (-layer_depth[id(layer)], first_seen[id(layer)]))
    return nodes, layers
