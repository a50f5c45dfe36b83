"""What every layer of a model computes for a batch: `layer_outputs(model, x, layers=None)`.

The model's own layers are walked in the order the model runs them, so each recorded value is exactly the
one `model(x)` computes on its way to the output:

- Sequential: `model.layers` one after the other, as `Sequential.call`;
- functional (`striate.Model(inputs, outputs)`): the graph's nodes in topological order, as `Model.call`.

A subclassed model (one with its own `call`) hides its order of layers inside Python code, so it is refused.
Everything runs in inference mode (training=False: dropout passes values unchanged, batch normalization uses
its moving statistics).
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from striate.core.runtime import no_grad
from striate.core.tensor import Tensor, as_tensor
from striate.layers.layer import Layer
from striate.models.model import Model
from striate.models.sequential import Sequential

LayerChoice = str | int | Layer
"""A layer named by its name, its index in `model_layers(model)`, or the Layer object."""


def model_layers(model: Model) -> list[Layer]:
    """The model's layers in the order it runs them, each once (a shared layer at its first call)."""
    if _kind("model_layers", model) == "sequential":
        return model.layers
    layers: list[Layer] = []
    for node in model._nodes:
        if all(node.layer is not known for known in layers):
            layers.append(node.layer)
    return layers


def run_layers(model: Model, x: ArrayLike,
               after_layer: Callable[[Layer, Tensor], Tensor] | None = None) -> list[tuple[Layer, Tensor]]:
    """Run `model` on the batch `x` layer by layer; returns [(layer, output Tensor), ...] in running order.

    Args:
        model: a Sequential or functional Model with one input.
        x: a batch (N, *input_shape), a NumPy array or a Tensor (keep `requires_grad=True` for gradients).
        after_layer: None, or `after_layer(layer, output) -> Tensor`, called on each layer's output; what it
            returns is recorded and passed on to the next layers (guided backpropagation gates ReLU outputs
            with it, striate.inspect.attribution).
    The last pair's Tensor is the model's output. A layer called at several nodes of a functional model
    appears once per call. Gradients are recorded unless inside `striate.no_grad()`.
    """
    kind = _kind("run_layers", model)
    x = as_tensor(x)
    model.ensure_built((None, *x.shape[1:]))  # as model(x) does: a Sequential without input_shape builds here
    check_batch("run_layers", model, x.shape)
    steps = []
    if kind == "sequential":
        for layer in model.layers:
            x = _after(after_layer, layer, layer(x, training=False))
            steps.append((layer, x))
        return steps
    values = {id(model._inputs[0]): x}
    for node in model._nodes:
        arguments = [values[id(i)] for i in node.inputs]
        output = node.layer(arguments if len(arguments) > 1 else arguments[0], training=False)
        values[id(node)] = _after(after_layer, node.layer, output)
        steps.append((node.layer, values[id(node)]))
    return steps


def layer_outputs(model: Model, x: ArrayLike,
                  layers: LayerChoice | Sequence[LayerChoice] | None = None) -> dict[str, NDArray[Any]]:
    """{layer name: output array} of the chosen layers for the batch `x`, in the model's order.

    Args:
        model: a Sequential or functional Model with one input (a subclassed model raises ValueError).
        x: a batch (N, *input_shape).
        layers: None for every layer; or a list of layer names, indices into `model_layers(model)` (negative
            counts from the end) and Layer objects, in any mix and order; or one of them alone.
    Returns:
        dict name -> NumPy array (N, *output_shape), ordered as the model runs the layers. The last layer's
        array equals `model.predict(x)`. Computed without a gradient graph.

    >>> from striate.models import mnist_cnn
    >>> maps = layer_outputs(mnist_cnn(), np.zeros((1, 28, 28, 1)), ["conv1", "conv2"])
    >>> {name: array.shape for name, array in maps.items()}
    {'conv1': (1, 26, 26, 32), 'conv2': (1, 24, 24, 64)}
    """
    chosen = choose_layers("layer_outputs", model, layers)
    for layer in chosen:
        calls = _call_count(model, layer)
        if calls > 1:
            raise ValueError(f"layer_outputs: layer {layer.name!r} of model {model.name!r} is called {calls} "
                             f"times, so it has no single output; received layers={layers!r}")
    with no_grad():
        steps = run_layers(model, x)
    return {layer.name: output.numpy() for layer, output in steps if any(layer is c for c in chosen)}


def choose_layers(what: str, model: Model, layers: LayerChoice | Sequence[LayerChoice] | None) -> list[Layer]:
    """The Layer objects named by `layers` (see layer_outputs), in the model's order; unknown ones raise."""
    known = model_layers(model)
    if layers is None:
        return known
    if isinstance(layers, str | int | Layer):
        layers = [layers]
    names = [layer.name for layer in known]
    chosen = []
    for item in layers:
        if isinstance(item, Layer):
            if all(item is not layer for layer in known):
                raise ValueError(f"{what}: layer {item.name!r} is not a layer of model {model.name!r}, whose layers "
                                 f"are {names}; received {item!r}")
            chosen.append(item)
        elif isinstance(item, str):
            if item not in names:
                raise ValueError(f"{what}: model {model.name!r} has no layer {item!r}; its layers are {names}")
            chosen.append(known[names.index(item)])
        elif isinstance(item, int):
            if not -len(known) <= item < len(known):
                raise ValueError(f"{what}: model {model.name!r} has {len(known)} layers ({names}); "
                                 f"received the index {item}")
            chosen.append(known[item])
        else:
            raise TypeError(f"{what}: a layer is chosen by name, index or Layer object; received {item!r}")
    return [layer for layer in known if any(layer is c for c in chosen)]


def check_batch(what: str, model: Model, shape: Sequence[int | None]) -> None:
    """Refuse a batch whose shape (N, ...) does not match the model's input shape (None, ...)."""
    expected = model.input_shape
    if expected is None:
        raise ValueError(f"{what}: model {model.name!r} has not been built, so its input shape is unknown; give "
                         f"its first layer input_shape= or call it once; received a batch of shape {tuple(shape)}")
    if len(shape) != len(expected) or tuple(shape[1:]) != tuple(expected[1:]):
        raise ValueError(f"{what}: model {model.name!r} takes batches of shape {expected}; received a batch of "
                         f"shape {tuple(shape)}")


def batch_of_one(what: str, model: Model, x: ArrayLike) -> NDArray[Any]:
    """x (*input_shape) or (1, *input_shape) as a batch of one, after checking its shape against the model's."""
    x = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
    expected = model.input_shape
    batch = x[None] if expected is not None and x.ndim == len(expected) - 1 else x
    check_batch(what, model, batch.shape)
    if batch.shape[0] != 1:
        raise ValueError(f"{what}: takes one image {expected[1:]} or a batch of one; received x of shape {x.shape}")
    return batch


def _kind(what: str, model: Model) -> str:
    """"sequential" or "functional"; anything else cannot be walked layer by layer."""
    if isinstance(model, Sequential) and type(model).call is Sequential.call:
        return "sequential"
    if isinstance(model, Model) and hasattr(model, "_nodes") and type(model).call is Model.call:
        if len(model._inputs) != 1:
            raise ValueError(f"{what}: model {model.name!r} has {len(model._inputs)} inputs; only a model with "
                             "one input can be walked")
        return "functional"
    raise ValueError(f"{what}: {type(model).__name__} {getattr(model, 'name', '')!r} is not a Sequential or "
                     "functional striate Model; a subclassed model's own call() hides the order of its layers; "
                     f"received {model!r}")


def _call_count(model: Model, layer: Layer) -> int:
    if _kind("layer_outputs", model) == "sequential":
        return 1
    return sum(node.layer is layer for node in model._nodes)


def _after(after_layer: Callable[[Layer, Tensor], Tensor] | None, layer: Layer, output: Tensor) -> Tensor:
    return output if after_layer is None else after_layer(layer, output)
