"""Save and load whole models without pickle: architecture as JSON, weights and optimizer state as safetensors.

One file holds everything needed to predict and to resume training:
    tensors   "weight/0000", ... (model.weights in order) and "optimizer/<key>" (the optimizer's state)
    metadata  "format" = "striate-model", "version", "architecture" (JSON of the layers), "compile" (optimizer,
              loss, metrics as JSON), "epoch" (epochs trained), "random_state" (striate's generator), and
              "sha256", a digest of all the rest.

The digest detects damage, not tampering: a flipped bit on disk or a cut-short copy no longer matches it.
It is unkeyed and stored in the file, so whoever edits a file can recompute it. What guards against a
crafted file is the loader's own checks: it runs no code (no pickle; the architecture can only name layer
classes of striate.layers, with JSON arguments), reads only a regular file whose header fits its size
(striate.models.safetensors_file), checks the architecture's structure, and builds it allocating no more
weight bytes than the file holds; then every count, shape and dtype must match. A malformed file raises
`striate.FileFormatError`: one line naming the file and the fault.

The file is written to a temporary file and renamed, so an interrupted save never leaves half a file. A
subclassed model (its architecture is Python code) can save and load its weights only (`save_weights`).
"""

import hashlib
import json
import os

import numpy as np

from striate.core import random as striate_random
from striate.core.errors import FileFormatError
from striate.core.errors import excerpt as _short
from striate.layers.layer import weight_allowance
from striate.layers.serialization import layer_entry, layer_from_entry
from striate.models import safetensors_file
from striate.models.model import Input, Model
from striate.models.safetensors_file import TensorFile
from striate.models.sequential import Sequential
from striate.training.finite import non_finite_weights

FORMAT = "striate-model"
VERSION = "1"
# what building a file's architecture may raise when the description is wrong (a value a layer refuses, an
# argument it does not take, a stride of 0, ...): the file's fault, reported as a FileFormatError
_BUILD_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError)


def save_model(model: Model, path: str | os.PathLike[str], epoch: int | None = None, allow_non_finite: bool = False,
               extra_metadata: dict[str, str] | None = None) -> None:
    """Write `model` (architecture, weights, compile settings, optimizer state, epoch) to `path`.

    A model with a NaN or infinite weight predicts NaN: it is refused (ValueError naming the weight) unless
    allow_non_finite. extra_metadata: {key: string} kept in the file beside the format's own keys (a training
    run's position inside an epoch, striate.training.checkpoint); `load_metadata(path)` reads it back.
    """
    _refuse_non_finite(model, path, allow_non_finite, "save_model")
    tensors = {f"weight/{index:04d}": w.data for index, w in enumerate(model.weights)}
    metadata = {"format": FORMAT, "version": VERSION, "architecture": json.dumps(architecture_of(model)),
                "epoch": str(getattr(model, "epochs_trained", 0) if epoch is None else epoch),
                "random_state": json.dumps(striate_random.get_state())}
    clashes = sorted(set(extra_metadata or {}) & {*metadata, "compile", "sha256"})
    if clashes:
        raise ValueError(f"save_model: extra_metadata may not replace the format's own keys; received {clashes}")
    metadata.update(extra_metadata or {})
    if model.compiled is not None:
        from striate import losses, optim

        compiled = model.compiled
        metadata["compile"] = json.dumps({"optimizer": optim.serialize(compiled.optimizer),
                                          "loss": losses.serialize(compiled.loss), "metrics": list(compiled.metrics)})
        tensors.update({f"optimizer/{key}": value for key, value in compiled.optimizer.get_state().items()})
    metadata["sha256"] = _digest(tensors, metadata)
    safetensors_file.write(path, tensors, metadata)


def load_model(path: str | os.PathLike[str], restore_random_state: bool = True) -> Model:
    """The model saved at `path`, compiled as it was, with `model.epochs_trained` set.

    With restore_random_state (the default), striate's random generator continues from where the saved run
    was, so `fit(..., initial_epoch=model.epochs_trained)` repeats the uninterrupted run bit for bit.
    Raises `striate.FileFormatError` (a ValueError) for a file that is not a striate model, is truncated or
    damaged, or describes a model that does not fit its weights; FileNotFoundError if there is no file.
    A path ending in ".keras" is read as a Keras 3 archive (striate.models.keras_archive; not compiled).
    """
    if str(path).endswith(".keras"):
        from striate.models.keras_archive import load_keras

        return load_keras(path)
    with TensorFile(path) as file:
        if "architecture" not in file.metadata:
            _check_format(file)
            raise FileFormatError(path, "a weights-only file; build the model and call load_weights instead")
        tensors, metadata = _read_checked(file)
    architecture = _json_field(path, metadata, "architecture", dict)
    settings = _json_field(path, metadata, "compile", dict) if "compile" in metadata else None
    epoch = _epoch(path, metadata)
    random_state = _random_state(path, metadata) if restore_random_state and "random_state" in metadata else None

    weights_bytes = sum(value.nbytes for key, value in tensors.items() if key.startswith("weight/"))
    generator_state = striate_random.get_state()  # building draws initial weights, which the file's replace
    try:
        with weight_allowance(weights_bytes):
            model = model_from_architecture(architecture)
    except _BUILD_ERRORS as error:
        raise FileFormatError(path, f"the architecture cannot be built: {_short(error)}") from error
    finally:
        striate_random.set_state(generator_state)
    _assign(model, tensors, path)
    model.epochs_trained = epoch
    if settings is not None:
        _compile(model, settings, tensors, path)
    if random_state is not None:
        striate_random.set_state(random_state)
    return model


def save_weights(model: Model, path: str | os.PathLike[str], allow_non_finite: bool = False) -> None:
    """Write only the weights (any model, subclassed ones included); NaN or infinity refused as in save_model."""
    _refuse_non_finite(model, path, allow_non_finite, "save_weights")
    tensors = {f"weight/{index:04d}": w.data for index, w in enumerate(model.weights)}
    metadata = {"format": FORMAT, "version": VERSION}
    metadata["sha256"] = _digest(tensors, metadata)
    safetensors_file.write(path, tensors, metadata)


def load_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Set a built model's weights from a file written by save_weights or save_model."""
    with TensorFile(path) as file:
        tensors, _ = _read_checked(file)
    _assign(model, tensors, path)


def load_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The metadata of a striate model file ({key: string}, extra_metadata included), checked for format only:
    `load_model` checks the digest."""
    with TensorFile(path) as file:
        _check_format(file)
        return dict(file.metadata)


def _refuse_non_finite(model, path, allow_non_finite, what):
    if allow_non_finite:
        return
    bad = non_finite_weights(model)
    if bad:
        listed = ", ".join(f"{name} ({count} values)" for name, count in bad[:3]) + (", ..." if len(bad) > 3 else "")
        raise ValueError(f"{what}: {len(bad)} weights hold NaN or infinity: {listed}; a model with them predicts NaN, "
                         f"so {path} is not written (allow_non_finite=True writes it anyway)")


def architecture_of(model):
    """The JSON-able description of a Sequential or functional model's layers and wiring."""
    if isinstance(model, Sequential):
        return {"class_name": "Sequential", "name": model.name, "input_shape": list(model.input_shape[1:]),
                "layers": [layer_entry(layer) for layer in model.layers]}
    if hasattr(model, "_nodes"):
        layer_index = {id(layer): i for i, layer in enumerate(model.layers)}
        references = {id(symbolic): ["input", i] for i, symbolic in enumerate(model._inputs)}
        nodes = []
        for j, node in enumerate(model._nodes):
            nodes.append({"layer": layer_index[id(node.layer)], "inputs": [references[id(i)] for i in node.inputs]})
            references[id(node)] = ["node", j]
        return {"class_name": "Functional", "name": model.name, "inputs": [list(i.shape[1:]) for i in model._inputs],
                "layers": [layer_entry(layer) for layer in model.layers], "nodes": nodes,
                "output": references[id(model._outputs)]}
    raise ValueError(f"save_model: {type(model).__name__} is a subclassed model; its architecture is Python code, "
                     "not JSON: use save_weights / load_weights")


def model_from_architecture(architecture):
    """Rebuild the layers and wiring that architecture_of described (weights freshly initialized).

    The description's structure is checked first (ValueError naming the faulty entry); a layer then refuses
    a value it cannot take with its own error.
    """
    _check_architecture(architecture)
    layers = [layer_from_entry(config, "load_model") for config in architecture["layers"]]
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


def _check_architecture(architecture):
    """Raise ValueError naming the first entry of `architecture` that architecture_of could not have written."""
    def fail(where, expected, value):
        raise ValueError(f"architecture{where} must be {expected}; received {_short(repr(value), 80)}")

    def check_shape(where, shape):
        if not isinstance(shape, list) or not all(d is None or _is_count(d) for d in shape):
            fail(where, "a list of sizes (integers >= 0, or null)", shape)

    if not isinstance(architecture, dict) or architecture.get("class_name") not in ("Sequential", "Functional"):
        fail("", "an object with class_name 'Sequential' or 'Functional'", architecture)
    functional = architecture["class_name"] == "Functional"
    keys = {"class_name", "name", "layers", *(("inputs", "nodes", "output") if functional else ("input_shape",))}
    if not keys <= set(architecture):
        fail("", f"an object with the keys {sorted(keys)}", sorted(architecture))
    if not isinstance(architecture["name"], str):
        fail("['name']", "a string", architecture["name"])
    layers = architecture["layers"]
    if not isinstance(layers, list):
        fail("['layers']", "a list", layers)
    for i, entry in enumerate(layers):
        if not (isinstance(entry, dict) and {"class_name", "config"} <= set(entry) and
                isinstance(entry["class_name"], str) and isinstance(entry["config"], dict)):
            fail(f"['layers'][{i}]", "an object {class_name: string, config: object}", entry)
    if not functional:
        check_shape("['input_shape']", architecture["input_shape"])
        return
    inputs, nodes = architecture["inputs"], architecture["nodes"]
    if not isinstance(inputs, list) or not inputs:
        fail("['inputs']", "a non-empty list of shapes", inputs)
    for i, shape in enumerate(inputs):
        check_shape(f"['inputs'][{i}]", shape)
    if not isinstance(nodes, list):
        fail("['nodes']", "a list", nodes)

    def check_reference(where, reference, nodes_before):
        if not (isinstance(reference, list) and len(reference) == 2 and reference[0] in ("input", "node") and
                _is_count(reference[1]) and reference[1] < (len(inputs) if reference[0] == "input" else nodes_before)):
            fail(where, f"['input', i < {len(inputs)}] or ['node', j < {nodes_before}]", reference)

    for j, node in enumerate(nodes):
        where = f"['nodes'][{j}]"
        if not (isinstance(node, dict) and {"layer", "inputs"} <= set(node) and isinstance(node["inputs"], list) and
                node["inputs"] and _is_count(node["layer"]) and node["layer"] < len(layers)):
            fail(where, f"an object {{layer: index < {len(layers)}, inputs: non-empty list}}", node)
        for k, reference in enumerate(node["inputs"]):
            check_reference(f"{where}['inputs'][{k}]", reference, j)
    check_reference("['output']", architecture["output"], len(nodes))


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0




def _digest(tensors, metadata):
    """SHA-256 of every tensor (name, dtype, shape, bytes) and of the metadata but itself: detects damage."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.asarray(tensors[name], order="C")
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    digest.update(json.dumps({k: v for k, v in metadata.items() if k != "sha256"}, sort_keys=True).encode())
    return digest.hexdigest()


def _check_format(file):
    found_format, found_version = (_short(repr(file.metadata.get(key)), 80) for key in ("format", "version"))
    if file.metadata.get("format") != FORMAT:
        raise FileFormatError(file.path, f"not a striate model file (format {found_format})")
    if file.metadata.get("version") != VERSION:
        raise FileFormatError(file.path, f"a striate model file of version {found_version}; this striate reads "
                              f"version {VERSION}")


def _read_checked(file):
    """(tensors, metadata) of a striate file whose format, version and digest are right."""
    _check_format(file)
    tensors = {name: file.read(name) for name in file.shapes}
    if _digest(tensors, file.metadata) != file.metadata.get("sha256"):
        raise FileFormatError(file.path, "the contents do not match their sha256 digest: the file is damaged "
                              "(or was edited)")
    return tensors, file.metadata


def _json_field(path, metadata, key, kind):
    try:
        value = json.loads(metadata[key])
    except (ValueError, RecursionError) as error:
        raise FileFormatError(path, f"the metadata {key!r} is not JSON: {_short(error, 120)}") from None
    if not isinstance(value, kind):
        raise FileFormatError(path, f"the metadata {key!r} must be a JSON {kind.__name__}; received "
                              f"{type(value).__name__}")
    return value


def _epoch(path, metadata):
    text = metadata.get("epoch", "0")
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise FileFormatError(path, f"the metadata 'epoch' must be a whole number >= 0; received {_short(text, 80)!r}")
    return int(text)


def _random_state(path, metadata):
    """The saved state of striate's generator, checked on a generator of its own so a bad one changes nothing."""
    state = _json_field(path, metadata, "random_state", dict)
    try:
        type(striate_random.generator().bit_generator)().state = state
    except (TypeError, ValueError, KeyError) as error:
        raise FileFormatError(path, f"the metadata 'random_state' is not a state of striate's generator: "
                              f"{_short(error)}") from None
    return state


def _compile(model, settings, tensors, path):
    """Compile `model` with the saved optimizer, loss and metrics, and give the optimizer its saved state."""
    from striate import optim

    try:
        model.compile(optim.get(settings["optimizer"]), settings["loss"], settings["metrics"])
    except (ValueError, TypeError, KeyError) as error:
        raise FileFormatError(path, f"the compile settings are not valid: {_short(error)}") from None
    state = {key[len("optimizer/"):]: value for key, value in tensors.items() if key.startswith("optimizer/")}
    if not state:
        return
    optimizer, weights = model.compiled.optimizer, model.trainable_weights
    for key, value in state.items():
        parts = key.split("/")
        if key == "iterations":
            valid = value.shape == () and value.dtype.kind in "iu" and value >= 0
        else:
            valid = (len(parts) == 3 and parts[0] == "slot" and parts[1].isascii() and parts[1].isdigit() and
                     int(parts[1]) < len(weights) and parts[2] in optimizer.slot_names and
                     value.shape == weights[int(parts[1])].shape and value.dtype == weights[int(parts[1])].dtype)
        if not valid:
            raise FileFormatError(path, f"the optimizer state 'optimizer/{_short(key, 80)}' ({value.dtype}, shape "
                                  f"{value.shape}) does not fit {type(optimizer).__name__} and the model's "
                                  f"{len(weights)} trainable weights")
    try:
        optimizer.set_state(state)
    except ValueError as error:
        raise FileFormatError(path, f"the optimizer state is not valid: {_short(error)}") from None


def _assign(model, tensors, path):
    weights = model.weights
    saved = [tensors[key] for key in sorted(k for k in tensors if k.startswith("weight/"))]
    if len(saved) != len(weights):
        raise FileFormatError(path, f"holds {len(saved)} weight arrays, the model has {len(weights)}")
    for weight, value in zip(weights, saved):
        if value.shape != weight.shape or value.dtype != weight.dtype:
            raise FileFormatError(path, f"{weight.name} is {weight.dtype} of shape {weight.shape}, the file's "
                                  f"{value.dtype} of shape {value.shape}")
    for weight, value in zip(weights, saved):
        weight.data[...] = value

