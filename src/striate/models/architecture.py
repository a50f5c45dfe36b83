"""A model's architecture without its weights, as keras.models: `to_json`, `model_from_json`, `clone_model`.

The JSON is the description `save_model` stores in its files (striate.models.saving.architecture_of): the
layers' configs and, for a functional model, how they are wired. Only Sequential and functional models have
one; a subclassed model's architecture is its Python code.

    json_string = model.to_json()
    same_layers = striate.models.model_from_json(json_string)       # fresh weights
    twin = striate.models.clone_model(model)                         # fresh weights, the same layer names
"""

import json

from striate.layers.layer import SymbolicTensor
from striate.models.model import Input, Model
from striate.models.saving import architecture_of, model_from_architecture
from striate.models.sequential import Sequential


def to_json(model, **options):
    """The architecture of a Sequential or functional `model` as a JSON string; `options` go to json.dumps
    (indent=2, ...)."""
    _check_has_architecture("to_json", model)
    return json.dumps(architecture_of(model), **options)


def model_from_json(json_string):
    """The model `to_json` described, its weights freshly initialized (load them with `set_weights` or
    `load_weights`)."""
    try:
        architecture = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"model_from_json: expects the JSON string of model.to_json(); {error}; received "
                         f"{str(json_string)[:80]!r}") from error
    if not isinstance(architecture, dict) or architecture.get("class_name") not in ("Sequential", "Functional"):
        raise ValueError("model_from_json: expects the JSON of model.to_json(), an object with class_name "
                         f"'Sequential' or 'Functional'; received {str(json_string)[:80]!r}")
    return model_from_architecture(architecture)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model wired as `model`, with new layers: the same configs and names, fresh weights (copy them
    with `clone.set_weights(model.get_weights())`), as keras.models.clone_model.

    Args:
        model: a Sequential or functional model.
        input_tensors: striate.Input(s) to build the clone on, instead of new ones of the same shapes.
        clone_function: `layer -> new layer`, called once per layer (a layer used twice stays shared); by
            default the layer rebuilt from its config, a nested model cloned whole.
    """
    _check_has_architecture("clone_model", model)
    clone_function = clone_function or _clone_layer
    if isinstance(model, Sequential):
        clone = Sequential([clone_function(layer) for layer in model.layers], name=model.name)
        inputs = _as_inputs(input_tensors, 1)
        clone.ensure_built(inputs[0].shape if inputs else model.input_shape)
        return clone
    inputs = _as_inputs(input_tensors, len(model._inputs)) or [Input(i.shape[1:]) for i in model._inputs]
    clones, values = {}, {id(old): new for old, new in zip(model._inputs, inputs)}
    for node in model._nodes:
        if id(node.layer) not in clones:
            clones[id(node.layer)] = clone_function(node.layer)
        arguments = [values[id(i)] for i in node.inputs]
        values[id(node)] = clones[id(node.layer)](arguments if len(arguments) > 1 else arguments[0])
    return Model(inputs if len(inputs) > 1 else inputs[0], values[id(model._outputs)], name=model.name)


def _clone_layer(layer):
    if isinstance(layer, Model):
        return clone_model(layer)
    return type(layer)(**layer.get_config())


def _as_inputs(input_tensors, count):
    if input_tensors is None:
        return []
    inputs = list(input_tensors) if isinstance(input_tensors, list | tuple) else [input_tensors]
    if len(inputs) != count or not all(isinstance(i, SymbolicTensor) and i.layer is None for i in inputs):
        raise ValueError(f"clone_model: input_tensors must be {count} striate.Input(shape); received "
                         f"{input_tensors!r}")
    return inputs


def _check_has_architecture(what, model):
    if isinstance(model, Sequential):
        if not model.built:
            raise ValueError(f"{what}: the Sequential model {model.name!r} has no input shape yet; give its first "
                             "layer input_shape= or start it with striate.Input(shape)")
        return
    if not isinstance(model, Model) or not hasattr(model, "_nodes"):
        raise ValueError(f"{what}: needs a Sequential or functional model; a subclassed model's architecture is "
                         f"Python code, not JSON (copy its weights with get_weights / set_weights); received "
                         f"{type(model).__name__}")
