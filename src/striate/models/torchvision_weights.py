"""Published weights in: a torchvision state dict, saved as safetensors, into the zoo's networks.

    model = striate.models.resnet18(weights="resnet18.safetensors")      # torchvision's names and layouts

torchvision names each tensor by its module path ("layer2.0.downsample.1.running_var") and stores it in
PyTorch's layouts; striate's layers keep theirs channels-last. Per layer:

    torchvision                                  striate
    Conv2d.weight (C_out, C_in/g, kh, kw)        Conv2D.kernel (kh, kw, C_in/g, C_out)   transpose (2, 3, 1, 0)
    Linear.weight (out, in)                      Dense.kernel (in, out)                   transpose
    BatchNorm2d.weight, bias                     gamma, beta
    BatchNorm2d.running_mean, running_var        moving_mean, moving_variance
    .bias                                        .bias

A Linear that follows a flatten (VGG's and AlexNet's first classifier layer) numbers its inputs in the order
of an NCHW map, c * H * W + h * W + w; striate flattens an NHWC map, h * W * C + w * C + c. Its rows are
permuted: kernel[(h, w, c), o] = weight[o, (c, h, w)], i.e. weight.reshape(out, C, H, W).transpose(2, 3, 1, 0).

torchvision pools the last feature map to a fixed size (VGG 7x7, AlexNet 6x6) before that Linear; striate has
no adaptive pooling, so with include_top=True the input must give that size (224x224); include_top=False
takes any size the convolutions allow.

Everything is checked before any weight is set: every tensor the model needs is in the file with its shape,
and the file has no tensor the model does not use (other than BatchNorm's num_batches_tracked, the classifier
when include_top=False, and GoogLeNet's auxiliary classifiers); the problems come as one ValueError naming
each tensor and both shapes. A PyTorch pickle (.pt, .pth) is refused without being opened: unpickling a file
can run any code in it.
"""

import os
import re

import numpy as np

from striate.layers.convolution import Conv2D
from striate.layers.core import Dense, Dropout, Flatten
from striate.layers.normalization import BatchNormalization
from striate.layers.pooling import MaxPooling2D
from striate.models.safetensors_file import TensorFile

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".tar")
PICKLE_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save's zip archive; a bare pickle (protocol 2 and later)
IGNORED = ("num_batches_tracked",)  # BatchNorm2d's step counter: no striate counterpart, never needed
TOPS = {"resnet": "fc.", "vgg": "classifier.", "alexnet": "classifier.", "googlenet": "fc."}  # the classifier's
UNUSED = {"googlenet": ("aux1.", "aux2.")}  # tensors a file may hold that striate never reads
CLASSIFIERS = {
    "vgg": {"fc1": "classifier.0", "fc2": "classifier.3", "predictions": "classifier.6"},
    "alexnet": {"fc6": "classifier.1", "fc7": "classifier.4", "fc8": "classifier.6"},
}
GOOGLENET_BRANCHES = {"1x1": "branch1", "3x3_reduce": "branch2.0", "3x3": "branch2.1", "5x5_reduce": "branch3.0",
                      "5x5": "branch3.1", "pool_proj": "branch4.1"}
BATCH_NORM = (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
              ("moving_variance", "running_var"))


def load_torchvision_weights(model, path, family):
    """Set `model`'s weights from the torchvision state dict at `path` (safetensors); family: "resnet", "vgg",
    "alexnet" or "googlenet" (how torchvision names that network's modules). Returns the model."""
    path = check_weights_file(path)
    names = torchvision_names(model, family)
    flattened = _flattened_maps(model)
    expected = {}  # torchvision tensor name -> (striate weight, torchvision shape, conversion to striate)
    for layer in model.layers:
        if layer.weights:
            expected.update(_layer_tensors(layer, names[layer.name], flattened.get(layer.name)))
    with TensorFile(path) as file:
        _check(model, path, family, file, expected, {names[layer_name] for layer_name in flattened})
        values = {name: convert(file.read(name).astype(np.float32)) for name, (_, _, convert) in expected.items()}
    for name, (weight, _, _) in expected.items():
        weight.data[...] = values[name]
    return model


def check_weights_file(path):
    """`path` as a string, after refusing what is no safetensors weights file, before a network is built:
    FileNotFoundError when missing; ValueError, with the three lines that convert it, for a PyTorch pickle,
    known by its name (.pt, .pth, ...) or by its first bytes (torch.save's zip archive, a pickle's protocol
    byte), which are read, never unpickled."""
    path = os.fspath(path)
    if path.lower().endswith(PICKLE_SUFFIXES):
        raise ValueError(_pickle_message(path))
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_torchvision_weights: {path} does not exist")
    if os.path.isfile(path):
        with open(path, "rb") as file:
            start = file.read(4)
        if start.startswith(PICKLE_MAGIC):
            raise ValueError(_pickle_message(path))
    return path


def _pickle_message(path):
    target = os.path.splitext(os.path.basename(path))[0] + ".safetensors"
    return (f"{path} is a PyTorch pickle (torch.save); striate does not unpickle files, since unpickling can run "
            "any code in the file. Convert it to safetensors once, in Python with PyTorch:\n"
            "    import torch, safetensors.torch\n"
            f"    state_dict = torch.load({os.fspath(path)!r}, map_location='cpu', weights_only=True)\n"
            f"    safetensors.torch.save_file({{k: v.contiguous() for k, v in state_dict.items()}}, {target!r})")


def torchvision_names(model, family):
    """{striate layer name: torchvision module path} for every layer of `model` that has weights."""
    if family not in TOPS:
        raise ValueError(f"load_torchvision_weights: family must be one of {', '.join(TOPS)}; received {family!r}")
    if family in CLASSIFIERS:
        names = _features_names(model, family)
    else:
        rule = _resnet_name if family == "resnet" else _googlenet_name
        names = {layer.name: rule(layer.name) for layer in model.layers if layer.weights}
    unmatched = [name for name, module in names.items() if module is None]
    if unmatched:
        raise ValueError(f"load_torchvision_weights: {model.name} has layers with no counterpart in torchvision's "
                         f"{family}: {', '.join(unmatched)}")
    return names


def _resnet_name(name):
    """conv1_conv -> conv1, conv1_bn -> bn1, conv3_block2_1_conv -> layer2.1.conv1,
    conv3_block1_0_bn -> layer2.0.downsample.1, predictions -> fc."""
    if name in ("conv1_conv", "conv1_bn"):
        return "conv1" if name.endswith("conv") else "bn1"
    if name == "predictions":
        return "fc"
    match = re.fullmatch(r"conv(\d)_block(\d+)_(\d)_(conv|bn)", name)
    if match is None:
        return None
    stage, block, index, kind = int(match[1]), int(match[2]), int(match[3]), match[4]
    module = f"downsample.{0 if kind == 'conv' else 1}" if index == 0 else f"{kind}{index}"
    return f"layer{stage - 1}.{block - 1}.{module}"


def _googlenet_name(name):
    """conv2_bn -> conv2.bn, inception_4a_3x3_reduce_conv -> inception4a.branch2.0.conv, predictions -> fc."""
    if name == "predictions":
        return "fc"
    match = re.fullmatch(r"conv(\d)_(conv|bn)", name)
    if match:
        return f"conv{match[1]}.{match[2]}"
    match = re.fullmatch(r"inception_(\d[a-e])_(1x1|3x3_reduce|3x3|5x5_reduce|5x5|pool_proj)_(conv|bn)", name)
    return f"inception{match[1]}.{GOOGLENET_BRANCHES[match[2]]}.{match[3]}" if match else None


def _features_names(model, family):
    """VGG's and AlexNet's torchvision `features` Sequential numbers every module: a Conv2d and its ReLU take
    two indices (striate fuses the relu into Conv2D), a MaxPool2d one. The classifier is a fixed table."""
    names, index = {}, 0
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            names[layer.name] = f"features.{index}"
            index += 2
        elif isinstance(layer, MaxPooling2D):
            index += 1
        elif layer.weights:
            names[layer.name] = CLASSIFIERS[family].get(layer.name)
    return names


def _flattened_maps(model):
    """{Dense layer name: (H, W, C) of the map flattened right before it, Dropouts between allowed} (Sequential)."""
    maps, flattened = {}, None
    for layer in model.layers:
        if isinstance(layer, Flatten) and len(layer.input_shape) == 4:
            flattened = tuple(layer.input_shape[1:])
        elif isinstance(layer, Dense) and flattened is not None:
            maps[layer.name], flattened = flattened, None
        elif not isinstance(layer, Dropout):
            flattened = None
    return maps


def _layer_tensors(layer, module, flattened_map):
    """{torchvision name: (striate weight, torchvision shape, conversion)} for one layer."""
    if isinstance(layer, Conv2D):
        kernel = layer.kernel
        tensors = {f"{module}.weight": (kernel, (kernel.shape[3], kernel.shape[2], *kernel.shape[:2]),
                                        lambda w: w.transpose(2, 3, 1, 0))}
    elif isinstance(layer, Dense):
        units_in, units = layer.kernel.shape
        tensors = {f"{module}.weight": (layer.kernel, (units, units_in), _dense_conversion(units, flattened_map))}
    elif isinstance(layer, BatchNormalization):
        return {f"{module}.{torch_name}": (getattr(layer, name), getattr(layer, name).shape, _same)
                for name, torch_name in BATCH_NORM if getattr(layer, name) is not None}
    else:
        raise ValueError(f"load_torchvision_weights: no torchvision layout for {type(layer).__name__} "
                         f"({layer.name})")
    if layer.bias is not None:
        tensors[f"{module}.bias"] = (layer.bias, layer.bias.shape, _same)
    return tensors


def _same(array):
    return array


def _dense_conversion(units, flattened_map):
    """Linear (out, in) -> Dense (in, out); after a flatten of an (H, W, C) map, rows reordered from (c, h, w)
    to (h, w, c)."""
    if flattened_map is None:
        return np.transpose
    height, width, channels = flattened_map
    return lambda w: w.reshape(units, channels, height, width).transpose(2, 3, 1, 0).reshape(-1, units)


def _check(model, path, family, file, expected, flattening_modules):
    """One ValueError listing every missing, misshaped or unexpected tensor, before any weight is set."""
    problems = []
    for name, (_, shape, _) in expected.items():
        if name not in file.shapes:
            problems.append(f"{name} is missing (the model needs shape {shape})")
        elif file.shapes[name] != tuple(shape):
            hint = ""
            if name.rsplit(".", 1)[0] in flattening_modules:
                hint = (" (this layer takes the flattened last feature map, which torchvision pools to a fixed size "
                        "first: use the input size the weights were trained at, 224x224, or include_top=False)")
            problems.append(f"{name} has shape {file.shapes[name]} in the file; the model needs {tuple(shape)}{hint}")
    has_top = any(name.startswith(TOPS[family]) for name in expected)
    skipped = (*UNUSED.get(family, ()), *(() if has_top else (TOPS[family],)))
    unexpected = [name for name in file.shapes if name not in expected and not name.endswith(IGNORED)
                  and not name.startswith(skipped)]
    if unexpected:
        shown = ", ".join(unexpected[:6]) + (f" and {len(unexpected) - 6} more" if len(unexpected) > 6 else "")
        problems.append(f"the file has {len(unexpected)} tensor(s) {model.name} does not use: {shown} (weights of "
                        "another network?)")
    if problems:
        raise ValueError(f"{model.name}: the torchvision weights in {path} do not fit:\n  " + "\n  ".join(problems))

