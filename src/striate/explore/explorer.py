"""`Explorer`: one loaded model and every answer the explorer's page asks of it, as JSON-ready dicts.

The model is shared by all requests and is never changed: they only run inference, and the attribution methods
take gradients with respect to the image alone (`striate.grad`, which writes no weight's `.grad` and leaves
`requires_grad` as it is). So requests run at the same time, without a lock, and get exactly the answers
sequential ones get. The one lock guards the MNIST test set, loaded once on the first request for a sample.

Arrays of feature maps travel as base64 of little-endian float32 in row-major order (`encode_array`), with
their shape: in Python, `np.frombuffer(base64.b64decode(data), "<f4").reshape(shape)`.
"""

import base64
import os
import threading

import numpy as np

import striate
from striate.explore.cell import arithmetic_kind, cell_arithmetic
from striate.explore.inputs import InputError, check_pixels, fit_upload, load_sample, sample_names
from striate.inspect.attribution import guided_backprop, occlusion, saliency, saliency_map
from striate.inspect.layer_outputs import model_layers, run_layers
from striate.layers import activations
from striate.layers.convolution import Conv2D
from striate.layers.core import Dropout, Flatten, InputLayer
from striate.viz.network import filter_images

ATTRIBUTIONS = ("saliency", "guided", "occlusion")
PASS_THROUGH = {Dropout: "in inference Dropout passes its input on unchanged",
                InputLayer: "the input, unchanged",
                Flatten: "the same values as the layer before, in one row"}


class Explorer:
    """The model at `source` and what the page asks of it; `describe()` first, then the per-input methods.

    Each per-input method takes `pixels`: nested lists (H, W, C), or (H, W) for one channel, in [0, 1]; a
    wrong shape or value raises InputError (the server answers 400 with its message).
    """

    def __init__(self, model, source=""):
        if getattr(model, "input_shape", None) is None or len(model.input_shape) != 4:
            raise ValueError(f"Explorer: needs a model of images (N, H, W, C); received input shape "
                             f"{getattr(model, 'input_shape', None)}")
        self.model, self.source = model, str(source)
        self.shape = tuple(model.input_shape[1:])
        self.layers = model_layers(model)  # raises for a subclassed model: its layers cannot be walked
        self.plan_rows = {}
        for row in striate.plan(model).rows[1:]:
            self.plan_rows.setdefault(row.name, row)
        self._mnist_lock = threading.Lock()
        self._mnist_test = None

    @classmethod
    def from_path(cls, path):
        """The Explorer of a run folder (its model.safetensors) or of a model file."""
        path = os.fspath(path)
        model_path = os.path.join(path, "model.safetensors") if os.path.isdir(path) else path
        if not os.path.isfile(model_path):
            raise FileNotFoundError(f"{model_path} does not exist (train with `striate train MODEL --out DIR`, or "
                                    "give a .safetensors file written by model.save)")
        return cls(striate.load_model(model_path), model_path)

    # ---- the model ----------------------------------------------------------------------------------------
    def describe(self):
        """The model: name, source, shapes, classes, totals and one entry per layer (GET /api/model)."""
        rows = [self.plan_rows[layer.name] for layer in self.layers]
        classes = int(self.model.output_shape[-1])
        return {
            "name": self.model.name, "source": self.source, "input_shape": list(self.shape),
            "output_shape": list(self.model.output_shape[1:]), "classes": [str(c) for c in range(classes)],
            "white_on_black": self.shape[2] == 1,
            "totals": {"params": sum(r.params for r in rows), "macs": sum(r.macs for r in rows)},
            "layers": [self._layer_entry(layer, row) for layer, row in zip(self.layers, rows)],
            "samples": sample_names(self.shape), "attributions": list(ATTRIBUTIONS),
        }

    def _layer_entry(self, layer, row):
        entry = {"name": layer.name, "type": type(layer).__name__, "output_shape": list(row.output_shape[1:]),
                 "params": row.params, "macs": row.macs, "receptive_field": _list(row.receptive_field),
                 "jump": _list(row.jump), "start": _list(row.start),
                 "activation": activations.name_of(layer.activation) if hasattr(layer, "activation") else None,
                 "filters": isinstance(layer, Conv2D), "arithmetic": arithmetic_kind(layer),
                 "pass_through": _pass_through(layer)}
        for name in ("kernel_size", "pool_size", "strides", "padding", "dilation_rate", "groups"):
            if hasattr(layer, name):
                value = getattr(layer, name)
                entry[name] = list(value) if isinstance(value, tuple) else value
        return entry

    # ---- per input ----------------------------------------------------------------------------------------
    def predict(self, pixels):
        """{"probabilities": model.predict of the pixels, "predicted": the argmax} (POST /api/predict)."""
        batch = check_pixels(pixels, self.shape)[None]
        probabilities = self.model.predict(batch, verbose=0)[0]
        return {"probabilities": probabilities.astype(float).tolist(), "predicted": int(np.argmax(probabilities))}

    def maps(self, pixels, layers=None):
        """Every layer's output for the pixels (POST /api/maps): per layer its name, shape, min, max and the
        values (`encode_array`); None for layers that pass their input on (Dropout, Flatten)."""
        batch = check_pixels(pixels, self.shape)[None]
        wanted = None if layers is None else [self.layer(name).name for name in _names(layers)]
        steps = self._run(batch)
        out = []
        for layer, value in steps:
            if wanted is not None and layer.name not in wanted:
                continue
            entry = {"name": layer.name, "shape": list(value.shape[1:]), "min": float(value.min()),
                     "max": float(value.max()), "data": None}
            if _pass_through(layer) is None:
                entry["data"] = encode_array(value[0])
            out.append(entry)
        return {"layers": out}

    def cell(self, pixels, layer_name, position, channel=0):
        """One value of a layer's output, the input region it sees, and its arithmetic (POST /api/cell).

        position: [row, column] for a (H, W, C) output, [index] for a vector. "input" names the layers whose
        outputs the layer reads ("input": the image); "region" is [top, left, bottom, right] in input pixels;
        "arithmetic" is the CellArithmetic of a convolution or pooling layer as a dict, else None with a "note".
        """
        batch = check_pixels(pixels, self.shape)[None]
        layer = self.layer(layer_name)
        steps = self._run(batch)
        index = [i for i, (known, _) in enumerate(steps) if known is layer][0]
        output = steps[index][1][0]
        cell = _checked_cell(layer.name, output.shape, position, channel)
        position, channel = (cell[:-1], cell[-1]) if output.ndim == 3 else (cell, None)
        answer = {"layer": layer.name, "position": list(position), "channel": channel,
                  "output": float(output[cell]), "region": self._region(layer, position), "arithmetic": None}
        sources, inputs = self._inputs_of(steps, index, batch)
        answer["input"] = sources
        if arithmetic_kind(layer) is None or len(inputs) != 1:
            answer["note"] = _no_arithmetic_note(layer, inputs[0].shape[1:])
            return answer
        try:
            arithmetic = cell_arithmetic(layer, inputs[0][0], *cell)
        except ValueError as error:
            answer["note"] = str(error)
            return answer
        answer["arithmetic"] = _arithmetic_dict(arithmetic)
        return answer

    def attribution(self, pixels, method="saliency", class_index=None, patch=None, stride=None):
        """Which pixels the class score depends on (POST /api/attribution): an (H, W) map, raw and scaled to
        [0, 1]. method: "saliency" (max_c |d s / d x|), "guided" (guided backpropagation, max_c |g|) or
        "occlusion" (drop of the class output when a patch x patch square is covered; default patch H // 7,
        stride patch // 2). class_index: default the predicted class."""
        x = check_pixels(pixels, self.shape)
        if method not in ATTRIBUTIONS:
            raise InputError(f"method must be one of {', '.join(ATTRIBUTIONS)}; received {method!r}")
        classes = self.model.output_shape[-1]
        if class_index is not None and not (isinstance(class_index, int) and not isinstance(class_index, bool)
                                            and 0 <= class_index < classes):
            raise InputError(f"class must be an int from 0 to {classes - 1}; received {class_index!r}")
        if class_index is None:
            class_index = int(np.argmax(self.model.predict(x[None], verbose=0)[0]))
        if method == "occlusion":
            patch = patch or max(1, self.shape[0] // 7)
            stride = stride or max(1, patch // 2)
            values = occlusion(self.model, x, class_index, patch, stride)
        else:
            gradient = (saliency if method == "saliency" else guided_backprop)(self.model, x, class_index)
            values = saliency_map(gradient)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
        return {"method": method, "class": class_index, "map": values.astype(float).tolist(),
                "scaled": scaled.astype(float).tolist(), "min": low, "max": high}

    # ---- inputs and weights -------------------------------------------------------------------------------
    def upload(self, data):
        """An uploaded image file (bytes) fitted to the model's input (POST /api/image): pixels and notes."""
        pixels, notes = fit_upload(data, self.shape)
        return {"pixels": pixels.astype(float).tolist(), "notes": notes}

    def sample(self, name):
        """A sample input by name (GET /api/sample?name=...): pixels, notes, and the label of an MNIST digit."""
        pixels, notes, label = load_sample(name, self.shape, self._load_mnist_test)
        return {"name": name, "pixels": pixels.astype(float).tolist(), "notes": notes, "label": label}

    def filters(self, layer_name, input_channel=None):
        """A Conv2D layer's filters as images in [0, 1] (`striate.viz.filter_images`: each min-max scaled on its
        own), with the kernel's shape and range (GET /api/filters?layer=...)."""
        layer = self.layer(layer_name)
        if not isinstance(layer, Conv2D):
            names = [known.name for known in self.layers if isinstance(known, Conv2D)]
            raise InputError(f"layer {layer.name!r} ({type(layer).__name__}) has no filters; layers with filters: "
                             f"{', '.join(names) or 'none'}")
        try:
            pictures = filter_images(layer, input_channel)
        except ValueError as error:
            raise InputError(str(error)) from None
        kernel = layer.kernel.numpy()
        return {"layer": layer.name, "kernel_shape": list(kernel.shape), "min": float(kernel.min()),
                "max": float(kernel.max()), "input_channel": input_channel,
                "images": [picture.astype(float).tolist() for picture in pictures]}

    def layer(self, name):
        """The layer called `name`; InputError 404 naming the model's layers otherwise."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise InputError(f"the model has no layer {name!r}; its layers are "
                         f"{', '.join(layer.name for layer in self.layers)}", status=404)

    # ---- helpers ------------------------------------------------------------------------------------------
    def _run(self, batch):
        """[(layer, output array (1, ...)), ...] in running order, without a gradient graph."""
        with striate.no_grad():
            return [(layer, value.numpy()) for layer, value in run_layers(self.model, batch)]

    def _inputs_of(self, steps, index, batch):
        """(names, arrays) of what step `index` of `_run` received: the previous step's output in a Sequential
        model, the outputs of its node's sources in a functional one; the model's input is named "input"."""
        nodes = getattr(self.model, "_nodes", None)
        if nodes is None:
            return (["input"], [batch]) if index == 0 else ([steps[index - 1][0].name], [steps[index - 1][1]])
        values = {id(self.model._inputs[0]): ("input", batch)}
        values.update((id(node), (layer.name, value)) for node, (layer, value) in zip(nodes, steps))
        names, arrays = zip(*(values[id(source)] for source in nodes[index].inputs))
        return list(names), list(arrays)

    def _region(self, layer, position):
        """[top, left, bottom, right] input pixels seen by the cell (plan: centre start + i jump, size wide);
        the whole input for a layer without a 2-D receptive field."""
        row = self.plan_rows[layer.name]
        height, width = self.shape[:2]
        if len(row.output_shape) != 4 or row.receptive_field is None:
            return [0, 0, height - 1, width - 1]
        low = [round(s + i * j - (size - 1) / 2)
               for s, i, j, size in zip(row.start, position, row.jump, row.receptive_field)]
        return [low[0], low[1], low[0] + row.receptive_field[0] - 1, low[1] + row.receptive_field[1] - 1]

    def _load_mnist_test(self):
        with self._mnist_lock:
            if self._mnist_test is None:
                from striate.datasets import mnist

                self._mnist_test = mnist.load_data()[1]
            return self._mnist_test


def encode_array(array):
    """{"shape": [...], "dtype": "float32", "data": base64 of the little-endian float32 values, row-major}."""
    values = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(values.shape), "dtype": "float32", "data": base64.b64encode(values.tobytes()).decode()}


def _checked_cell(name, shape, position, channel):
    """The output index (row, column, channel) or (index,) of a vector output, checked against `shape`."""
    spatial = shape[:-1]
    if len(shape) == 1:
        cell = list(position) if isinstance(position, list | tuple) else [position]
    else:
        cell = [*(position if isinstance(position, list | tuple) else [position]), channel]
    valid = len(cell) == len(shape) and all(isinstance(v, int) and not isinstance(v, bool) for v in cell)
    if not valid or not all(0 <= v < n for v, n in zip(cell, shape)):
        wanted = f"position [row, column] inside {spatial[0]}x{spatial[1]} and channel 0..{shape[-1] - 1}" if (
            len(shape) == 3) else f"position [index] with index 0..{shape[0] - 1}"
        raise InputError(f"layer {name!r} outputs shape {tuple(shape)}: give {wanted}; received position="
                         f"{position!r}, channel={channel!r}")
    return tuple(cell)


def _arithmetic_dict(cell):
    kernel = None if cell.kernel is None else cell.kernel.tolist()
    products = None if cell.products is None else cell.products.tolist()
    return {"kind": cell.kind, "padding": [list(p) for p in cell.padding], "strides": list(cell.strides),
            "dilation": list(cell.dilation), "origin": list(cell.origin), "cells": cell.cells.tolist(),
            "inside": cell.inside.tolist(), "input_channels": cell.input_channels, "window": cell.window.tolist(),
            "kernel": kernel, "products": products, "channel_sums": cell.channel_sums.tolist(),
            "total": cell.total, "bias": cell.bias, "z": cell.z, "activation": cell.activation, "value": cell.value}


def _no_arithmetic_note(layer, input_shape):
    kind = type(layer).__name__
    if kind == "Dense":
        return (f"Dense: each value is the sum of all {int(np.prod(input_shape))} inputs times its weights, plus "
                "its bias; click a convolution or pooling layer to see one window's arithmetic")
    return _pass_through(layer) or f"{kind}: no window arithmetic to show for this layer"


def _pass_through(layer):
    for kind, note in PASS_THROUGH.items():
        if isinstance(layer, kind):
            return note
    return None


def _names(layers):
    """A layer name or a list of them, as a list; InputError for anything else."""
    names = [layers] if isinstance(layers, str) else layers
    if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
        raise InputError(f"layers must be a layer name or a list of them; received {layers!r}")
    return names


def _list(value):
    return None if value is None else list(value)
