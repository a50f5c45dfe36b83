"""Keras 3's model files: the ".keras" archive and the ".weights.h5" weights file, read and written without
Keras (keras.src.saving.saving_lib's layout, read with h5py).

A ".keras" file is a zip archive of
    metadata.json      {"keras_version": ..., "date_saved": ...}
    config.json        the architecture: {"class_name": "Sequential" | "Functional", "config": {"layers": [...]}}
                       each layer {"class_name": "Conv2D", "config": {its constructor arguments}}, and for a
                       functional model its "inbound_nodes" (which layer outputs it was called on)
    model.weights.h5   the weights, an HDF5 file (the whole of a ".weights.h5" file)
In the HDF5 file a model's layers sit under "layers/<name>", where <name> is the layer's class name in snake
case ("conv2d", "batch_normalization", "re_lu"), numbered "_1", "_2", ... when the class repeats, in the order
of Keras' `model.layers` (a functional model's InputLayers included); a layer's own weights are the datasets
"<path>/vars/0", "1", ... in creation order (Dense: kernel, bias), and a recurrent layer keeps them in its cell,
"<path>/cell/vars". Nothing in either file is Python code: a layer whose config names a function (Lambda,
custom objects, a "__lambda__" or "__python_function__" value) is refused, as is a layer striate lacks, both
with a FileFormatError naming the layer.

Layers are mapped by Keras' class name to the striate class of that name, and their configs to its
arguments; an argument striate lacks is dropped only when it has no effect at Keras' default value
(data_format "channels_last", no regularizer, "float32", ...), and refused otherwise. Initializers map to
striate's where it has them and are dropped elsewhere (the file's weights replace the initial ones).
"""

import datetime
import inspect
import io
import json
import re
import zipfile

import numpy as np

from striate import layers as layer_classes
from striate.core.errors import FileFormatError
from striate.core.errors import excerpt as _short
from striate.core.files import atomic_write
from striate.layers.initializers import Initializer
from striate.layers.layer import Layer, weight_allowance
from striate.models.model import Input, Model
from striate.models.sequential import Sequential

KERAS_VERSION = "3.15.1"  # the Keras whose layout this module follows
_RECURRENT = ("LSTM", "GRU", "SimpleRNN")
_WRAPPERS = ("Bidirectional", "TimeDistributed")
_CODE_MARKERS = ("__lambda__", "__python_function__", "function")
# Keras arguments striate's layers may lack, with the values at which they change nothing
_NEUTRAL = {
    "trainable": (True,), "data_format": ("channels_last",), "seed": (None,), "quantization_config": (None,),
    "lora_rank": (None,), "lora_alpha": (None,), "synchronized": (False,), "renorm": (False,),
    "renorm_clipping": (None,), "renorm_momentum": (0.99,), "sparse": (False,), "ragged": (False,),
    "optional": (False,), "unroll": (False,), "stateful": (False,), "use_cudnn": ("auto",),
    "zero_output_for_mask": (False,), "return_state": (False,), "go_backwards": (False,), "dropout": (0, 0.0),
    "recurrent_dropout": (0, 0.0), "activation": ("linear", None), "use_bias": (True,), "groups": (1,),
    "dilation_rate": (1, [1], [1, 1], [1, 1, 1]), "activity_regularizer": (None,), "dtype": ("float32", None),
    "input_dim": (None,), "input_length": (None,), "output_padding": (None,), "axis": (-1, [-1]),
    "noise_shape": (None,), "keepdims": (False,), "mask_zero": (False,), "implementation": ("auto", 1, 2),
    "rms_scaling": (False,),
}
# Keras arguments left out even where striate takes them, at the values that are striate's defaults too
_LEFT_OUT_WHEN_NEUTRAL = ("data_format", "dtype", "seed", "trainable")
# striate arguments Keras' layers lack, with the values at which leaving them out changes nothing
_STRIATE_ONLY = {"implementation": ("auto",)}
_NOT_IN_KERAS = ("FilterBank", "LocalResponseNormalization", "InputLayer", "Layer")


# ---- reading --------------------------------------------------------------------------------------------------
def load_keras(path):
    """The Sequential or functional model of a Keras 3 ".keras" archive, with its weights (not compiled)."""
    config, weights = _read_archive(path)
    with _h5_file(path, weights) as file:
        stored = []
        file.visititems(lambda _, item: stored.append(getattr(item, "nbytes", 0)))
        with weight_allowance(sum(stored)):  # a file cannot make striate allocate more weights than it holds
            model = _model_from_config(path, config)
        _assign(path, model, config, file)
    return model


def load_keras_weights(model, path):
    """Set `model`'s weights from a Keras ".weights.h5" file (or the weights of a ".keras" archive)."""
    if str(path).endswith(".keras"):
        _, weights = _read_archive(path)
    else:
        with open(path, "rb") as file:
            weights = file.read()
    with _h5_file(path, weights) as file:
        _assign(path, model, _keras_config(model), file)


def _read_archive(path):
    """(config dict, the bytes of model.weights.h5) of a ".keras" file, checked to be a Keras archive."""
    if not zipfile.is_zipfile(path):
        raise FileFormatError(path, "not a Keras archive (.keras files are zip archives)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        missing = sorted({"config.json", "model.weights.h5"} - names)
        if missing:
            raise FileFormatError(path, f"a Keras archive holds config.json and model.weights.h5; this one lacks "
                                  f"{missing}")
        try:
            config = json.loads(archive.read("config.json"))
        except (ValueError, RecursionError) as error:
            raise FileFormatError(path, f"config.json is not JSON: {_short(error, 120)}") from None
        weights = archive.read("model.weights.h5")
    kind = config.get("class_name") if isinstance(config, dict) else type(config).__name__
    if kind not in ("Sequential", "Functional", "Model"):
        raise FileFormatError(path, f"config.json describes a {_short(kind, 80)!r}; striate reads Sequential and "
                              "functional models")
    return config, weights


class _h5_file:  # noqa: N801 (used as a function)
    """h5py's File over bytes, or a FileFormatError naming the file."""

    def __init__(self, path, data):
        try:
            import h5py
        except ImportError as error:
            raise ImportError("reading Keras weights needs h5py: pip install h5py") from error
        try:
            self.file = h5py.File(io.BytesIO(data), "r")
        except OSError as error:
            raise FileFormatError(path, f"the weights are not an HDF5 file: {_short(error, 120)}") from None

    def __enter__(self):
        return self.file

    def __exit__(self, *exc):
        self.file.close()


def _model_from_config(path, config):
    """Build the striate model config.json describes (fresh weights), allocating no more than its layers
    need."""
    inner = config.get("config")
    _refuse_code(path, inner)  # the architecture; compile_config is not read
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise FileFormatError(path, "config.json has no list of layers under config.layers")
    try:
        if config["class_name"] == "Sequential":
            return _sequential(path, inner)
        return _functional(path, inner)
    except FileFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as error:
        raise FileFormatError(path, f"the architecture cannot be built: {_short(error)}") from error


def _sequential(path, config):
    entries = config["layers"]
    input_shape, layers = None, []
    for entry in entries:
        if entry.get("class_name") == "InputLayer":
            input_shape = tuple(entry["config"]["batch_shape"])
            continue
        layers.append(_layer(path, entry))
    if input_shape is None:
        input_shape = config.get("build_input_shape") or (entries[0].get("build_config") or {}).get("input_shape")
    if input_shape is None:
        raise FileFormatError(path, "the Sequential model has no input shape (no InputLayer, no build_input_shape)")
    model = Sequential(name=config.get("name"))
    for layer in layers:
        model._track(layer)
    model.ensure_built((None, *tuple(input_shape)[1:]))
    return model


def _functional(path, config):
    """Wire the layers as the inbound_nodes say; a layer's k-th node is its k-th call."""
    entries = {entry["name"]: entry for entry in config["layers"]}
    outputs = {}  # layer name -> [its output per node]
    layers, pending = {}, []
    for entry in config["layers"]:
        if entry["class_name"] == "InputLayer":
            shape = tuple(entry["config"]["batch_shape"])
            outputs[entry["name"]] = [Input(shape[1:], dtype=entry["config"].get("dtype"), name=entry["name"])]
            continue
        layers[entry["name"]] = _layer(path, entry)
        outputs[entry["name"]] = []
        pending += [(entry["name"], node) for node in entry.get("inbound_nodes", [])]
    while pending:
        waiting = []
        for name, node in pending:
            arguments = _node_inputs(path, name, node, outputs)
            if arguments is None:
                waiting.append((name, node))
                continue
            outputs[name].append(layers[name](arguments))
        if len(waiting) == len(pending):
            raise FileFormatError(path, f"the inbound nodes of {sorted({n for n, _ in waiting})} refer to outputs no "
                                  "layer makes")
        pending = waiting

    def tensor(reference):
        name, node, index = reference
        if name not in entries or index != 0 or node >= len(outputs[name]):
            raise FileFormatError(path, f"the model's input or output {reference!r} names no layer output")
        return outputs[name][node]

    def references(value):
        return [value] if value and isinstance(value[0], str) else value

    inputs = [tensor(r) for r in references(config["input_layers"])]
    model_outputs = [tensor(r) for r in references(config["output_layers"])]
    if len(model_outputs) != 1:
        raise FileFormatError(path, f"the model has {len(model_outputs)} outputs; striate's models have one")
    return Model(inputs if len(inputs) > 1 else inputs[0], model_outputs[0], name=config.get("name"))


def _node_inputs(path, name, node, outputs):
    """The SymbolicTensor(s) a node of layer `name` takes, or None while one is not made yet."""
    if not isinstance(node, dict) or not isinstance(node.get("args"), list) or len(node["args"]) != 1:
        raise FileFormatError(path, f"layer {name!r}: an inbound node must be {{args: [inputs], kwargs}}; received "
                              f"{_short(node, 120)}")
    for key, value in (node.get("kwargs") or {}).items():
        if value is not None and key != "training":
            raise FileFormatError(path, f"layer {name!r} is called with {key}={_short(value, 80)}, which striate's "
                                  "functional models do not take")
    argument = node["args"][0]
    tensors = argument if isinstance(argument, list) else [argument]
    found = []
    for item in tensors:
        keras_tensor = isinstance(item, dict) and item.get("class_name") == "__keras_tensor__"
        history = item.get("config", {}).get("keras_history") if keras_tensor else None
        if not (isinstance(history, list) and len(history) == 3):
            raise FileFormatError(path, f"layer {name!r}: an input must be a Keras tensor; received "
                                  f"{_short(item, 120)}")
        source, index, _ = history
        if source not in outputs:
            raise FileFormatError(path, f"layer {name!r} takes the output of {source!r}, which is not a layer")
        if index >= len(outputs[source]):
            return None
        found.append(outputs[source][index])
    return found if isinstance(argument, list) else found[0]


def _refuse_code(path, value, where="config.json"):
    """Raise for anything that would need Python code to be rebuilt (a lambda, a function, a custom class)."""
    if isinstance(value, dict):
        class_name = value.get("class_name")
        if class_name in _CODE_MARKERS or class_name == "Lambda":
            raise FileFormatError(path, f"{where} holds a {class_name} ({_short(value.get('config'), 60)}), which "
                                  "only Python code could rebuild; striate does not run code from files")
        module = value.get("module")
        if isinstance(class_name, str) and isinstance(module, str) and not module.startswith("keras"):
            raise FileFormatError(path, f"{where} holds the custom class {class_name!r} of module {module!r}; striate "
                                  "rebuilds only Keras' own classes")
        for item in value.values():
            _refuse_code(path, item, where)
    elif isinstance(value, list):
        for item in value:
            _refuse_code(path, item, where)


def _layer(path, entry):
    """The striate layer of a Keras layer entry {"class_name", "config"}."""
    class_name, config = entry.get("class_name"), entry.get("config")
    if not isinstance(class_name, str) or not isinstance(config, dict):
        raise FileFormatError(path, f"a layer must be {{class_name, config}}; received {_short(entry, 120)}")
    name = config.get("name", class_name)
    if class_name in ("Sequential", "Functional", "Model"):
        return _model_from_config(path, entry)
    cls = getattr(layer_classes, class_name, None) if class_name in layer_classes.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, Layer)) or class_name in _NOT_IN_KERAS:
        raise FileFormatError(path, f"layer {name!r} is a Keras {class_name}, which striate does not have")
    accepted = _parameters(cls)
    arguments = {}
    for key, value in config.items():
        value = _argument(path, name, key, value)
        if key in accepted and not (key in _LEFT_OUT_WHEN_NEUTRAL and _neutral(key, value)):
            if value is not _DROP:
                arguments[key] = value
        elif not (value is _DROP or _neutral(key, value)):
            raise FileFormatError(path, f"layer {name!r} ({class_name}) has {key}={_short(value, 80)}, which "
                                  f"striate's {class_name} does not take")
    return cls(**arguments)


_DROP = object()


def _argument(path, name, key, value):
    """A Keras config value as striate's constructor takes it (_DROP: leave it out)."""
    if key == "dtype":
        if isinstance(value, dict):
            value = value.get("config", {}).get("name")
        return value if value not in (None, "float32") else _DROP
    if key in ("layer", "backward_layer") and isinstance(value, dict):
        return _layer(path, value)
    if key.endswith("_initializer"):
        return _initializer(value)
    if isinstance(value, dict) and key == "activation":
        raise FileFormatError(path, f"layer {name!r}: the activation {_short(value, 80)} is not a Keras name")
    if isinstance(value, list) and key not in ("axis",) and not key.endswith(("_regularizer", "_constraint")):
        return tuple(value)
    return value


def _initializer(value):
    """striate's initializer for a Keras one: a name, a {class_name, config} it has, else _DROP."""
    from striate.layers import initializers

    if isinstance(value, str):
        return value if value.lower() in initializers.BY_NAME else _DROP
    if isinstance(value, dict) and value.get("class_name") in initializers.BY_CLASS:
        options = {k: v for k, v in (value.get("config") or {}).items() if v is not None and k != "seed"}
        options = {k: v for k, v in options.items() if k not in ("input_axes", "output_axes")}
        cls = initializers.BY_CLASS[value["class_name"]]
        try:
            return cls(**options)
        except TypeError:
            return _DROP
    return _DROP


def _neutral(key, value):
    if key.endswith("_initializer"):
        return True
    if key.endswith(("_regularizer", "_constraint")):
        return value is None
    return key in _NEUTRAL and value in _NEUTRAL[key]


def _parameters(cls):
    """The keyword arguments cls's constructor takes, following **options up the base classes."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return names


# ---- the weights file -----------------------------------------------------------------------------------------
def _snake_case(name):
    """Keras' naming.to_snake_case: "Conv2D" -> "conv2d", "BatchNormalization" -> "batch_normalization"."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _layer_paths(entries):
    """The HDF5 group of each layer entry (Keras' model.layers order): "layers/<snake class name>[_k]"."""
    used, paths = {}, []
    for entry in entries:
        base = _snake_case(entry["class_name"])
        paths.append(base if base not in used else f"{base}_{used[base] + 1}")
        used[base] = used[base] + 1 if base in used else 0
    return paths


def _groups(layer, class_name, path):
    """[(HDF5 group, the striate weights stored there)] for one layer at `path`, in Keras' layout."""
    if isinstance(layer, Model):
        config = _keras_config(layer)
        entries = _entries(config)
        pairs = []
        for entry, inner_path in zip(entries, _layer_paths(entries)):
            if entry["class_name"] != "InputLayer":
                pairs += _groups(entry["layer"], entry["class_name"], f"{path}/layers/{inner_path}")
        return pairs
    if class_name in _RECURRENT:
        return [(f"{path}/cell/vars", layer.weights)]
    if class_name == "Bidirectional":
        forward, backward = layer.forward_layer, layer.backward_layer
        return (_groups(forward, type(forward).__name__, f"{path}/forward_layer") +
                _groups(backward, type(backward).__name__, f"{path}/backward_layer"))
    if class_name == "TimeDistributed":
        return _groups(layer.layer, type(layer.layer).__name__, f"{path}/layer")
    return [(f"{path}/vars", layer.weights)]


def _entries(config):
    return config["config"]["layers"]


def _assign(path, model, config, file):
    """Copy the file's weights into the model, every count and shape checked first."""
    pairs = _weight_groups(model, config)
    values = []
    for group, weights in pairs:
        stored = file.get(group)
        arrays = [] if stored is None else [stored[str(i)] for i in range(len(stored)) if str(i) in stored]
        if len(arrays) != len(weights):
            raise FileFormatError(path, f"{group} holds {len(arrays)} weights; the layer has {len(weights)} "
                                  f"{[w.shape for w in weights]}")
        for weight, array in zip(weights, arrays):
            if tuple(array.shape) != weight.shape:
                raise FileFormatError(path, f"{group}: {weight.name} has shape {weight.shape}, the file's "
                                      f"{tuple(array.shape)}")
            values.append((weight, np.asarray(array, dtype=weight.dtype)))
    for weight, value in values:
        weight.data[...] = value


def _weight_groups(model, config):
    entries = _entries(config)
    by_name = {layer.name: layer for layer in model.layers}
    pairs = []
    for entry, layer_path in zip(entries, _layer_paths(entries)):
        if entry["class_name"] == "InputLayer":
            continue
        layer = entry.get("layer") or by_name[entry["config"]["name"]]
        pairs += _groups(layer, entry["class_name"], f"layers/{layer_path}")
    return pairs


# ---- writing --------------------------------------------------------------------------------------------------
def save_keras(model, path):
    """Write `model` (Sequential or functional) as a Keras 3 ".keras" archive, atomically."""
    config = _keras_config(model)
    weights = _weights_bytes(model, config)
    public = json.dumps(_strip(config))
    metadata = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with atomic_write(path, "wb") as file, zipfile.ZipFile(file, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", public)
        archive.writestr("model.weights.h5", weights)


def save_keras_weights(model, path):
    """Write `model`'s weights as a Keras ".weights.h5" file, atomically."""
    weights = _weights_bytes(model, _keras_config(model))
    with atomic_write(path, "wb") as file:
        file.write(weights)


def _weights_bytes(model, config):
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.create_group("vars").attrs["name"] = model.name
        entries = _entries(config)
        for entry, layer_path in zip(entries, _layer_paths(entries)):
            file.create_group(f"layers/{layer_path}/vars").attrs["name"] = entry["config"]["name"]
        for group, weights in _weight_groups(model, config):
            stored = file.require_group(group)
            for index, weight in enumerate(weights):
                stored[str(index)] = weight.data
    return buffer.getvalue()


def _keras_config(model):
    """config.json's description of a striate Sequential or functional model; each layer entry also keeps the
    striate layer under "layer" (removed before writing)."""
    if isinstance(model, Sequential):
        if not model.built:
            raise ValueError(f"save: the Sequential model {model.name!r} has no input shape yet")
        shape = list(model.input_shape)
        layers = [_input_entry(f"{model.name}_input", shape)] + [_layer_entry(layer) for layer in model.layers]
        return {"module": "keras", "class_name": "Sequential", "registered_name": None,
                "config": {"name": model.name, "trainable": model.trainable, "dtype": _policy("float32"),
                           "layers": layers, "build_input_shape": shape},
                "build_config": {"input_shape": shape}}
    if not hasattr(model, "_nodes"):
        raise ValueError(f"save: {type(model).__name__} is a subclassed model; its architecture is Python code, "
                         "so only its weights can be saved (save_weights to a striate .safetensors file)")
    names = {id(symbolic): getattr(symbolic, "name", None) or (f"input_layer_{i}" if i else "input_layer")
             for i, symbolic in enumerate(model._inputs)}
    history = {id(symbolic): [names[id(symbolic)], 0, 0] for symbolic in model._inputs}
    entries = [_input_entry(names[id(s)], list(s.shape), getattr(s, "dtype", "float32")) for s in model._inputs]
    layer_entries = {id(layer): {**_layer_entry(layer), "name": layer.name, "inbound_nodes": []}
                     for layer in model.layers}
    for node in model._nodes:
        entry = layer_entries[id(node.layer)]
        tensors = [_keras_tensor(i, history[id(i)]) for i in node.inputs]
        entry["inbound_nodes"].append({"args": [tensors if len(tensors) > 1 else tensors[0]], "kwargs": {}})
        history[id(node)] = [node.layer.name, len(entry["inbound_nodes"]) - 1, 0]
    inputs = [history[id(s)] for s in model._inputs]
    return {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
            "config": {"name": model.name, "trainable": model.trainable,
                       "layers": entries + [layer_entries[id(layer)] for layer in model.layers],
                       "input_layers": inputs[0] if len(inputs) == 1 else inputs,
                       "output_layers": history[id(model._outputs)]},
            "build_config": {"input_shape": None}}


def _input_entry(name, shape, dtype="float32"):
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "name": name,
            "inbound_nodes": [], "config": {"batch_shape": [None, *shape[1:]], "dtype": dtype or "float32",
                                            "sparse": False, "ragged": False, "name": name, "optional": False}}


def _keras_tensor(symbolic, history):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(symbolic.shape), "dtype": "float32", "keras_history": history}}


def _layer_entry(layer):
    """{"module", "class_name", "config", "build_config"} of one striate layer, as Keras writes it."""
    if isinstance(layer, Model):
        return {**_keras_config(layer), "layer": layer}
    class_name = type(layer).__name__
    if class_name in _NOT_IN_KERAS:
        raise ValueError(f"save: layer {layer.name!r} is striate's {class_name}, which Keras does not have; save "
                         "to a striate .safetensors file instead")
    config = {}
    for key, value in layer.get_config().items():
        if key in _STRIATE_ONLY:
            if value not in _STRIATE_ONLY[key]:
                raise ValueError(f"save: layer {layer.name!r} has {key}={value!r}, which Keras' {class_name} "
                                 "cannot hold")
            continue
        if key == "groups" and class_name.endswith("Transpose"):
            if value != 1:
                raise ValueError(f"save: layer {layer.name!r} is a grouped {class_name}, which Keras does not have")
            continue
        if key == "padding" and not isinstance(value, str) and hasattr(layer, "strides"):
            value = _padding_word(layer, value)
        if class_name.endswith("1D") and key in ("size", "cropping", "padding") and _single(value):
            value = value[0]  # Keras' 1-D layers take one size or one (before, after) pair, not a list of them
        if key == "trainable" and value is True and class_name.startswith("SpatialDropout"):
            continue  # Keras' SpatialDropout takes no trainable argument
        if key in ("layer", "backward_layer") and isinstance(value, dict):
            inner = layer.layer if key == "layer" and hasattr(layer, "layer") else (
                layer.forward_layer if key == "layer" else layer.backward_layer)
            value = _strip(_layer_entry(inner))
        config[key] = value
    config.setdefault("dtype", _policy(getattr(getattr(layer, "dtype", None), "name", None) or "float32"))
    if isinstance(config["dtype"], str):
        config["dtype"] = _policy(config["dtype"])
    entry = {"module": "keras.layers", "class_name": class_name, "config": _jsonable(config), "registered_name": None,
             "layer": layer}
    if layer.input_shape is not None:
        entry["build_config"] = {"input_shape": _jsonable(layer.input_shape)}
    return entry


def _padding_word(layer, padding):
    """Keras' word for striate's numeric padding where one means the same arithmetic: 0 is "valid", and p
    cells each side of a stride-1 window of k_eff = 2p + 1 cells is "same"."""
    rank = len(layer.kernel_size) if hasattr(layer, "kernel_size") else 1
    pads = [padding] * rank if isinstance(padding, int) else list(padding)
    pairs = [tuple(p) if isinstance(p, list | tuple) else (p, p) for p in pads]
    if all(pair == (0, 0) for pair in pairs):
        return "valid"
    kernel = getattr(layer, "kernel_size", getattr(layer, "pool_size", None))
    strides = getattr(layer, "strides", None)
    dilation = getattr(layer, "dilation_rate", (1,) * len(pairs))
    if kernel is not None and strides is not None and all(s == 1 for s in strides) and all(
            before == after and d * (k - 1) == 2 * before for (before, after), k, d in zip(pairs, kernel, dilation)):
        return "same"
    raise ValueError(f"save: layer {layer.name!r} pads by {padding!r}, which no Keras padding word ('valid', "
                     "'same') matches; save to a striate .safetensors file, or use a ZeroPadding layer")


def _single(value):
    return isinstance(value, list | tuple) and len(value) == 1


def _policy(name):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Initializer):
        return {"module": "keras.initializers", **value.get_config(), "registered_name": None}
    return value


def _strip(value):
    """The config without the striate layers kept under "layer" for the weights."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not (k == "layer" and isinstance(v, Layer))}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value

