"""Shapes through a network by arithmetic alone, and shape errors that explain themselves.

`trace(model_or_layers, input_shape)` walks a Sequential model, a functional Model, or a plain list of layers
and returns one `Step` per layer with the shapes that reach it and leave it, computed by each layer's
`compute_output_shape` (nothing is allocated, nothing is run). A built layer is also checked against its
weights (a Dense kernel built for 25,088 features cannot take 2,048).

When a layer does not fit, `trace` raises a `ShapeError` (a ValueError) that shows the chain of layers with
their shapes, the failing layer with the formula that failed, and a hint:

    vgg16: layer fc1 (Dense) does not fit what reaches it
        input                          (None, 64, 64, 3)
        ...
        block5_pool (MaxPooling2D)     (None, 2, 2, 512)
        flatten (Flatten)              (None, 2048)
     -> fc1 (Dense)                    receives (None, 2048)
    fc1: built for 25,088 input features (kernel (25088, 4096)); received 2,048 ...
    hint: a Flatten before a Dense layer fixes the input size: ...
"""

import math
from dataclasses import dataclass, field
from typing import Any

from striate.layers.convolution import Conv, Conv2DTranspose, DepthwiseConv2D
from striate.layers.core import Dense, Flatten
from striate.layers.normalization import BatchNormalization

Shape = tuple[int | None, ...]

CHAIN_LINES = 12  # the failing layer's last predecessors shown in an error


class ShapeError(ValueError):
    """A network's layers do not fit together; the message shows the chain of shapes and the failed formula."""


@dataclass
class Step:
    """One layer of a traced network: what reaches it (`sources`: indices of earlier steps) and what leaves."""

    layer: Any  # a Layer; None for a model input
    input_shape: Any  # a shape, or a list of shapes for a merge
    output_shape: tuple
    sources: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return "input" if self.layer is None else self.layer.name

    @property
    def label(self) -> str:
        return "input" if self.layer is None else f"{self.layer.name} ({type(self.layer).__name__})"


def graph_of(model_or_layers: Any) -> tuple[int, list[tuple[Any, list[int]]]]:
    """(number of inputs, [(layer, [source step indices]), ...]) for a Sequential model, a functional Model,
    a list of layers or one layer. Steps 0 .. inputs - 1 are the model's inputs."""
    nodes = getattr(model_or_layers, "_nodes", None)
    if nodes is not None:  # functional Model
        index = {id(symbolic): i for i, symbolic in enumerate(model_or_layers._inputs)}
        graph = []
        for node in nodes:
            graph.append((node.layer, [index[id(parent)] for parent in node.inputs]))
            index[id(node)] = len(model_or_layers._inputs) + len(graph) - 1
        return len(model_or_layers._inputs), graph
    if hasattr(model_or_layers, "_layers"):  # Sequential (a subclassed Model has no graph to read)
        if not hasattr(model_or_layers, "add"):
            raise ValueError(f"{model_or_layers.name}: a subclassed Model's call() cannot be traced without running "
                             "it; build the network with Sequential or the functional API to plan it")
        layers = model_or_layers._layers
    elif isinstance(model_or_layers, list | tuple):
        layers = model_or_layers
    else:
        layers = [model_or_layers]
    return 1, [(layer, [i]) for i, layer in enumerate(layers)]


def check_weights_fit(layer: Any, input_shape: Shape | list[Shape]) -> None:
    """Raise ValueError, with the arithmetic, when a built layer's weights cannot take `input_shape`."""
    if not layer.built or isinstance(input_shape, list):
        return
    channels = input_shape[-1]
    if isinstance(layer, Dense):
        expected = layer.kernel.shape[0]
        if channels != expected:
            raise ValueError(f"{layer.name}: built for {expected:,} input features (kernel {layer.kernel.shape}); "
                             f"received {channels:,} (input shape {input_shape})")
        return
    if isinstance(layer, Conv2DTranspose):
        weight, expected = "kernel", layer.kernel.shape[-1]
    elif isinstance(layer, Conv):
        weight, expected = "kernel", layer.kernel.shape[-2] * layer.groups
    elif isinstance(layer, DepthwiseConv2D):
        weight, expected = "kernel", layer.kernel.shape[-2]
    elif isinstance(layer, BatchNormalization):
        weight, expected = "moving_mean", layer.moving_mean.shape[0]
    else:
        return
    if channels != expected:
        shape = getattr(layer, weight).shape
        raise ValueError(f"{layer.name}: its {weight} {shape} was built for {expected} input channels; received an "
                         f"input of shape {input_shape}, which has {channels} channels on its last axis")


def trace(model_or_layers: Any, input_shape: Shape | list[Shape], build: bool = False,
          name: str | None = None) -> list[Step]:
    """One Step per input and per layer, in order, for inputs of `input_shape` (with the batch axis, None).

    build=True builds unbuilt layers on the way (Sequential uses it); otherwise nothing is allocated. A list of
    input shapes is accepted for a model with several inputs. Raises ShapeError when a layer does not fit.
    """
    inputs, graph = graph_of(model_or_layers)
    shapes: list[Any] = list(input_shape) if inputs > 1 else [input_shape]
    steps = [Step(None, shape, tuple(shape)) for shape in shapes]
    title: str = name if name else getattr(model_or_layers, "name", "layers")
    for layer, sources in graph:
        parents = [steps[i].output_shape for i in sources]
        received = parents[0] if len(parents) == 1 else parents
        try:
            if build:
                layer.ensure_built(received)
            check_weights_fit(layer, received)
            output_shape = tuple(layer.compute_output_shape(received))
        except ShapeError:
            raise
        except ValueError as error:
            raise explain(title, steps, layer, received, error, model_or_layers) from error
        steps.append(Step(layer, received, output_shape, list(sources)))
    return steps


def explain(name: str, steps: list[Step], layer: Any, received: Shape | list[Shape], error: Exception,
            model_or_layers: Any = None) -> ShapeError:
    """A ShapeError: the chain of shapes up to `layer`, the message (with its formula) of `error`, a hint."""
    shown = steps[-CHAIN_LINES:]
    width = max(len(step.label) for step in [*shown, Step(layer, received, ())]) + 4
    lines = [f"{name}: layer {layer.name} ({type(layer).__name__}) does not fit what reaches it"]
    if len(steps) > len(shown):
        lines.append(f"    ... ({len(steps) - len(shown)} earlier steps)")
    lines += [f"    {step.label:<{width}}{step.output_shape}" for step in shown]
    lines.append(f" -> {layer.name + ' (' + type(layer).__name__ + ')':<{width}}receives {received}")
    lines.append(str(error))
    formula = _flatten_formula(steps, layer, received)
    if formula:
        lines.append(formula)
    hint = _hint(steps, layer, received, error, model_or_layers)
    if hint:
        lines.append(f"hint: {hint}")
    return ShapeError("\n".join(lines))


def explain_call(model: Any, inputs: Any, error: Exception) -> ShapeError | None:
    """For a model whose forward pass raised `error` on `inputs`: a ShapeError tracing why, or None when the
    shapes fit (the error was about something else)."""
    if isinstance(error, ShapeError):
        return None
    batches = inputs if isinstance(inputs, list | tuple) else [inputs]
    shapes = [(None, *tuple(x.shape)[1:]) for x in batches]
    try:
        trace(model, shapes if len(shapes) > 1 else shapes[0])
    except ShapeError as explained:
        return explained
    except ValueError:
        return None
    return None


def _flatten_formula(steps: list[Step], layer: Any, received: Shape | list[Shape]) -> str | None:
    """For a Dense layer fed by a Flatten: the product that gave its feature count and the one it was built for."""
    if not (isinstance(layer, Dense) and layer.built and steps and isinstance(steps[-1].layer, Flatten)):
        return None
    flatten = steps[-1]
    got = " * ".join(str(n) for n in flatten.input_shape[1:])
    text = f"{flatten.name}: {got} = {math.prod(flatten.input_shape[1:]):,} features"
    built_for = flatten.layer.input_shape
    if built_for is not None and tuple(built_for) != tuple(flatten.input_shape):
        text += (f"; {layer.name} was built for {' * '.join(str(n) for n in built_for[1:])} = "
                 f"{math.prod(built_for[1:]):,}")
    return text


def _hint(steps: list[Step], layer: Any, received: Shape | list[Shape], error: Exception,
          model_or_layers: Any) -> str | None:
    first = steps[0].output_shape
    if _looks_channels_first(first, model_or_layers):
        return (f"did you pass NCHW? striate is channels-last, (N, H, W, C): the input {first} looks like "
                "(N, C, H, W); transpose it with x.transpose(0, 2, 3, 1)")
    if isinstance(layer, Dense) and layer.built and steps and isinstance(steps[-1].layer, Flatten):
        built = getattr(model_or_layers, "input_shape", None)
        size = f" ({tuple(built[1:])})" if built is not None else ""
        return ("a Flatten before a Dense layer fixes the input size: feed the size the model was built for"
                f"{size}, or end the convolutions with GlobalAveragePooling2D instead of Flatten")
    if "does not fit" in str(error) and len(first) == 4:
        smallest = _smallest_square_input(model_or_layers, first)
        if smallest:
            return (f"the input is too small for these layers: the smallest square input they accept is "
                    f"{smallest}x{smallest}x{first[-1]}")
    return None


def _looks_channels_first(shape: Any, model_or_layers: Any) -> bool:
    """(None, C, H, W) with C in 1..4 and H, W > 4, or exactly the transpose of the shape the model was built for."""
    if not isinstance(shape, tuple) or len(shape) != 4:
        return False
    built = getattr(model_or_layers, "input_shape", None)
    if isinstance(built, tuple) and len(built) == 4 and tuple(built) != shape:
        return (shape[1], shape[2], shape[3]) == (built[3], built[1], built[2])
    return shape[1] in (1, 2, 3, 4) and shape[2] > 4 and shape[3] > 4


def _smallest_square_input(model_or_layers: Any, shape: Shape, largest: int = 1024) -> int | None:
    """The smallest n for which n x n inputs pass every layer's output-size formula (weights not checked)."""
    if model_or_layers is None:
        return None
    inputs, graph = graph_of(model_or_layers)
    if inputs != 1:
        return None
    for n in range(1, largest + 1):
        outputs = [(None, n, n, shape[-1])]
        try:
            for layer, sources in graph:
                received = [outputs[i] for i in sources]
                outputs.append(tuple(layer.compute_output_shape(received[0] if len(received) == 1 else received)))
        except ValueError:
            continue
        return n
    return None
