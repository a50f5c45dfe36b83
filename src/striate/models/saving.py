"""Save and load whole models without pickle: architecture as JSON, weights and optimizer state as safetensors.

One file holds everything needed to predict and to resume training:
    tensors   "weight/0000", ... (model.weights in order) and "optimizer/<key>" (the optimizer's state)
    metadata  "format" = "striate-model", "architecture" (JSON of the layers), "compile" (optimizer, loss,
              metrics as JSON), "epoch" (epochs trained), "random_state" (striate's generator), and "sha256",
              a digest of all the rest, so a tampered file is refused.

The file is written to a temporary file and renamed, so an interrupted save never leaves half a file. A
subclassed model (its architecture is Python code) can save and load its weights only (`save_weights`).
"""

import hashlib
import json

import numpy as np

from striate import layers as layer_classes
from striate.core import random as striate_random
from striate.layers.layer import Layer
from striate.models import safetensors
from striate.models.model import Input, Model
from striate.models.sequential import Sequential

FORMAT = "striate-model"
VERSION = "1"


def save_model(model, path, epoch=None):
    """Write `model` (architecture, weights, compile settings, optimizer state, epoch) to `path`."""
    tensors = {f"weight/{index:04d}": w.data for index, w in enumerate(model.weights)}
    metadata = {"format": FORMAT, "version": VERSION, "architecture": json.dumps(architecture_of(model)),
                "epoch": str(getattr(model, "epochs_trained", 0) if epoch is None else epoch),
                "random_state": json.dumps(striate_random.get_state())}
    if model.compiled is not None:
        compiled = model.compiled
        metadata["compile"] = json.dumps({"optimizer": compiled.optimizer.get_config(),
                                          "loss": compiled.loss.get_config(), "metrics": list(compiled.metrics)})
        tensors.update({f"optimizer/{key}": value for key, value in compiled.optimizer.get_state().items()})
    metadata["sha256"] = _digest(tensors, metadata)
    safetensors.write(path, tensors, metadata)


def load_model(path, restore_random_state=True):
    """The model saved at `path`, compiled as it was, with `model.epochs_trained` set.

    With restore_random_state (the default), striate's random generator continues from where the saved run
    was, so `fit(..., initial_epoch=model.epochs_trained)` repeats the uninterrupted run bit for bit.
    Raises ValueError for a file that is not a striate model, is truncated or was altered.
    """
    tensors, metadata = _read_checked(path)
    if "architecture" not in metadata:
        raise ValueError(f"{path}: a weights-only file; build the model and call load_weights instead")
    model = model_from_architecture(json.loads(metadata["architecture"]))
    _assign(model, tensors, path)
    model.epochs_trained = int(metadata.get("epoch", 0))
    if "compile" in metadata:
        from striate import optim

        settings = json.loads(metadata["compile"])
        model.compile(optim.get(settings["optimizer"]), settings["loss"], settings["metrics"])
        state = {key[len("optimizer/"):]: value for key, value in tensors.items() if key.startswith("optimizer/")}
        if state:
            model.compiled.optimizer.set_state(state)
    if restore_random_state and "random_state" in metadata:
        striate_random.set_state(json.loads(metadata["random_state"]))
    return model


def save_weights(model, path):
    """Write only the weights (any model, subclassed ones included)."""
    tensors = {f"weight/{index:04d}": w.data for index, w in enumerate(model.weights)}
    metadata = {"format": FORMAT, "version": VERSION}
    metadata["sha256"] = _digest(tensors, metadata)
    safetensors.write(path, tensors, metadata)


def load_weights(model, path):
    """Set a built model's weights from a file written by save_weights or save_model."""
    tensors, _ = _read_checked(path)
    _assign(model, tensors, path)


def architecture_of(model):
    """The JSON-able description of a Sequential or functional model's layers and wiring."""
    if isinstance(model, Sequential):
        return {"class_name": "Sequential", "name": model.name, "input_shape": list(model.input_shape[1:]),
                "layers": [_layer_config(layer) for layer in model.layers]}
    if hasattr(model, "_nodes"):
        layer_index = {id(layer): i for i, layer in enumerate(model.layers)}
        references = {id(symbolic): ["input", i] for i, symbolic in enumerate(model._inputs)}
        nodes = []
        for j, node in enumerate(model._nodes):
            nodes.append({"layer": layer_index[id(node.layer)], "inputs": [references[id(i)] for i in node.inputs]})
            references[id(node)] = ["node", j]
        return {"class_name": "Functional", "name": model.name, "inputs": [list(i.shape[1:]) for i in model._inputs],
                "layers": [_layer_config(layer) for layer in model.layers], "nodes": nodes,
                "output": references[id(model._outputs)]}
    raise ValueError(f"save_model: {type(model).__name__} is a subclassed model; its architecture is Python code, "
                     "not JSON: use save_weights / load_weights")


def model_from_architecture(architecture):
    """Rebuild the layers and wiring that architecture_of described (weights freshly initialized)."""
    layers = [_layer_from_config(config) for config in architecture["layers"]]
    if architecture["class_name"] == "Sequential":
        model = Sequential(name=architecture["name"])
        for layer in layers:
            model._track(layer)
        model.ensure_built((None, *architecture["input_shape"]))
        return model
    inputs = [Input(shape) for shape in architecture["inputs"]]
    values = {"input": inputs, "node": []}
    for node in architecture["nodes"]:
        arguments = [values[kind][index] for kind, index in node["inputs"]]
        values["node"].append(layers[node["layer"]](arguments if len(arguments) > 1 else arguments[0]))
    kind, index = architecture["output"]
    return Model(inputs if len(inputs) > 1 else inputs[0], values[kind][index], name=architecture["name"])


def _layer_config(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _layer_from_config(entry):
    cls = getattr(layer_classes, entry["class_name"], None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"load_model: unknown layer class {entry['class_name']!r} in the architecture")
    return cls(**entry["config"])


def _digest(tensors, metadata):
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.asarray(tensors[name], order="C")
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    digest.update(json.dumps({k: v for k, v in metadata.items() if k != "sha256"}, sort_keys=True).encode())
    return digest.hexdigest()


def _read_checked(path):
    tensors, metadata = safetensors.read(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a striate model file (format {metadata.get('format')!r})")
    if _digest(tensors, metadata) != metadata.get("sha256"):
        raise ValueError(f"{path}: the contents do not match their sha256 digest: the file was altered or damaged")
    return tensors, metadata


def _assign(model, tensors, path):
    weights = model.weights
    saved = [tensors[key] for key in sorted(k for k in tensors if k.startswith("weight/"))]
    if len(saved) != len(weights):
        raise ValueError(f"{path}: holds {len(saved)} weight arrays, the model has {len(weights)}")
    for weight, value in zip(weights, saved):
        if value.shape != weight.shape:
            raise ValueError(f"{path}: {weight.name} has shape {weight.shape}, the file {value.shape}")
    for weight, value in zip(weights, saved):
        weight.data[...] = value
