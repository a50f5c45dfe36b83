"""PyTorch out: a zoo network's weights as a torchvision state dict, to continue training in PyTorch.

    state_dict = striate.interchange.to_torch_state_dict(model)          # {"conv1.weight": array, ...}
    striate.interchange.save_torch_state_dict(model, "resnet18.safetensors")
    # in PyTorch: net.load_state_dict({k: torch.from_numpy(v) for k, v in safetensors.numpy.load_file(path).items()})
    #             or safetensors.torch.load_file(path), into torchvision.models.resnet18(num_classes=...)

For resnet18/34/50, vgg16/19, alexnet (variant="torchvision") and googlenet: the names and layouts are the
ones `striate.models.NAME(weights=...)` reads (striate.models.torchvision_weights), run backwards. That module
holds each conversion torchvision -> striate once (a transpose, and for the Dense after a flatten a row
permutation); this one inverts it by sending the indices of a torchvision-shaped tensor through the same
conversion, so the two directions cannot disagree. Each BatchNorm2d also gets torchvision's
num_batches_tracked (0, int64), so `load_state_dict(strict=True)` takes the dict.
"""

import math

import numpy as np

from striate.layers.normalization import BatchNormalization, LocalResponseNormalization
from striate.models import safetensors_file
from striate.models.torchvision_weights import TOPS, _flattened_maps, _layer_tensors, torchvision_names

FAMILIES = {"resnet18": "resnet", "resnet34": "resnet", "resnet50": "resnet", "vgg16": "vgg", "vgg19": "vgg",
            "alexnet": "alexnet", "googlenet": "googlenet"}


def to_torch_state_dict(model, family=None):
    """{torchvision tensor name: NumPy array in PyTorch's layout} for a zoo network.

    family: "resnet", "vgg", "alexnet" or "googlenet" (how torchvision names the modules); None infers it from
    model.name (resnet18, vgg16, ...). Raises ValueError for a model with layers torchvision's network lacks.
    """
    family = family or FAMILIES.get(model.name)
    if family not in TOPS:
        raise ValueError(f"to_torch_state_dict: {model.name} is not one of the zoo networks with a torchvision "
                         f"counterpart ({', '.join(FAMILIES)}); pass family= one of {', '.join(TOPS)} for a "
                         "network built like them")
    if any(isinstance(layer, LocalResponseNormalization) for layer in model.layers):
        raise ValueError(f"to_torch_state_dict: {model.name} has local response normalization (AlexNet's paper "
                         "variant), which torchvision's network does not; build alexnet(variant='torchvision')")
    names = torchvision_names(model, family)
    flattened = _flattened_maps(model)
    state_dict = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        module = names[layer.name]
        for name, (weight, shape, convert) in _layer_tensors(layer, module, flattened.get(layer.name)).items():
            state_dict[name] = torch_layout(weight.data, shape, convert)
        if isinstance(layer, BatchNormalization):
            state_dict[f"{module}.num_batches_tracked"] = np.array(0, dtype=np.int64)
    return state_dict


def torch_layout(array, torch_shape, convert):
    """The array in PyTorch's layout, given `convert` (PyTorch layout -> striate's, a transpose or reshape):
    convert(indices of a torch_shape tensor) says where each striate element comes from."""
    source = convert(np.arange(math.prod(torch_shape)).reshape(torch_shape))
    result = np.empty(math.prod(torch_shape), dtype=np.float32)
    result[np.ravel(source)] = np.ravel(array)
    return result.reshape(torch_shape)


def save_torch_state_dict(model, path, family=None):
    """Write to_torch_state_dict(model) to `path` as safetensors (atomically); returns the path."""
    safetensors_file.write(path, to_torch_state_dict(model, family), {"format": "pt"})
    return path
