"""The same network in PyTorch: a striate functional model translated layer by layer, its weights copied.

`mirror(model)` walks the model's nodes (`model._nodes`, each after its inputs) and builds a torch module that runs
the same graph in NCHW (or channels_last, a memory format of the same NCHW tensors) with each layer's weights copied
from striate: a kernel (kh, kw, C_in / groups, C_out) becomes torch's (C_out, C_in / groups, kh, kw), a dense
kernel (C_in, units) its transpose, and batch norm's gamma, beta and moving statistics its weight, bias and running
statistics (torch's momentum is 1 - Keras'). Paddings are the pairs striate computes (`padding_pairs`), applied
with F.pad where they are not symmetric; a transposed convolution is torch's with no padding, cropped where
striate crops. `Flatten` reads the map in channels-last order, as striate's, so the dense layer after it takes
the same weights. A layer this file does not know raises.
"""

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812

import striate.layers as L
from striate.functional.arguments import padding_pair, padding_pairs
from striate.functional.output_size import effective_kernel_size
from striate.layers.activations import name_of

nn = torch.nn


def _tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _activation(function):
    name = name_of(function)
    modules = {"linear": nn.Identity, "relu": nn.ReLU, "relu6": nn.ReLU6, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
               "swish": nn.SiLU, "silu": nn.SiLU, "gelu": nn.GELU}
    if name == "softmax":
        return nn.Softmax(dim=1)
    if name not in modules:
        raise ValueError(f"torch_mirror: no torch activation for {name!r}")
    return modules[name]()


class Padded(nn.Module):
    """F.pad with striate's (before, after) pairs, then a convolution or pooling with no padding of its own; the
    padding is folded into the module's own argument where it is the same on both sides."""

    def __init__(self, module, pairs):
        super().__init__()
        self.module = module
        if all(before == after for before, after in pairs):
            module.padding = tuple(before for before, _ in pairs)
            self.pad = None
        else:
            self.pad = tuple(v for before, after in reversed(pairs) for v in (before, after))

    def forward(self, x):
        return self.module(x if self.pad is None else TF.pad(x, self.pad))


class Cropped(nn.Module):
    """A transposed convolution whose full output is cropped to `windows` (one slice per spatial axis)."""

    def __init__(self, module, windows):
        super().__init__()
        self.module, self.windows = module, windows

    def forward(self, x):
        return self.module(x)[(slice(None), slice(None), *self.windows)]


class ChannelsLastFlatten(nn.Module):
    def forward(self, x):
        return torch.movedim(x, 1, -1).flatten(1)


class GlobalAverage(nn.Module):
    def forward(self, x):
        return x.mean(dim=tuple(range(2, x.ndim)))


class Sum(nn.Module):
    def forward(self, *inputs):
        return sum(inputs[1:], inputs[0])


class ChannelConcatenate(nn.Module):
    """Concatenate on the channel axis: striate's last, NCHW's second."""

    def forward(self, *inputs):
        return torch.cat(inputs, dim=1)


class EmbeddingNCL(nn.Module):
    """Embedding whose output is (N, C, L), as the Conv1d after it reads it."""

    def __init__(self, table):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(_tensor(table), freeze=False)

    def forward(self, indices):
        return self.embedding(indices).transpose(1, 2)


def _convolution(layer):
    rank = len(layer.kernel_size)
    spatial = layer.input_shape[1:-1]
    kernel = layer.kernel.data
    depthwise = isinstance(layer, L.DepthwiseConv2D)
    channels = layer.input_shape[-1]
    if depthwise:
        groups, out = channels, channels * layer.depth_multiplier
        weight = kernel.reshape(*kernel.shape[:-2], out)[..., None, :]
    else:
        groups, out, weight = layer.groups, layer.filters, kernel
    convolution = (nn.Conv1d, nn.Conv2d)[rank - 1](channels, out, layer.kernel_size, layer.strides,
                                                   dilation=layer.dilation_rate, groups=groups,
                                                   bias=layer.bias is not None)
    with torch.no_grad():
        convolution.weight.copy_(_tensor(np.moveaxis(weight, (-1, -2), (0, 1))))
        if layer.bias is not None:
            convolution.bias.copy_(_tensor(layer.bias.data))
    pairs = padding_pairs(layer.name, layer.padding, spatial, layer.kernel_size, layer.strides, layer.dilation_rate)
    return nn.Sequential(Padded(convolution, pairs), _activation(layer.activation))


def _transposed_convolution(layer):
    spatial, out_spatial = layer.input_shape[1:-1], layer.output_shape[1:-1]
    module = nn.ConvTranspose2d(layer.input_shape[-1], layer.filters, layer.kernel_size, layer.strides,
                                dilation=layer.dilation_rate, groups=layer.groups, bias=layer.bias is not None)
    with torch.no_grad():
        module.weight.copy_(_tensor(np.moveaxis(layer.kernel.data, (-1, -2), (0, 1))))
        if layer.bias is not None:
            module.bias.copy_(_tensor(layer.bias.data))
    windows = []
    for n, length, k, s, d in zip(spatial, out_spatial, layer.kernel_size, layer.strides, layer.dilation_rate):
        before, _ = padding_pair(layer.padding, length, k, s, d, op=layer.name)
        if before + length > (n - 1) * s + effective_kernel_size(k, d):
            raise ValueError(f"torch_mirror: {layer.name} has output padding; not mirrored")
        windows.append(slice(before, before + length))
    return nn.Sequential(Cropped(module, tuple(windows)), _activation(layer.activation))


def _batch_norm(layer):
    channels = layer.input_shape[-1]
    module = (nn.BatchNorm1d if len(layer.input_shape) == 3 else nn.BatchNorm2d)(
        channels, eps=layer.epsilon, momentum=1 - layer.momentum, affine=True)
    with torch.no_grad():
        module.weight.copy_(_tensor(layer.gamma.data) if layer.gamma is not None else torch.ones(channels))
        module.bias.copy_(_tensor(layer.beta.data) if layer.beta is not None else torch.zeros(channels))
        module.running_mean.copy_(_tensor(layer.moving_mean.data))
        module.running_var.copy_(_tensor(layer.moving_variance.data))
    return module


def _dense(layer):
    module = nn.Linear(layer.kernel.shape[0], layer.units, bias=layer.bias is not None)
    with torch.no_grad():
        module.weight.copy_(_tensor(layer.kernel.data.T))
        if layer.bias is not None:
            module.bias.copy_(_tensor(layer.bias.data))
    return nn.Sequential(module, _activation(layer.activation))


def _pooling(layer):
    rank = len(layer.pool_size)
    kind = {L.MaxPooling1D: nn.MaxPool1d, L.MaxPooling2D: nn.MaxPool2d, L.AveragePooling1D: nn.AvgPool1d,
            L.AveragePooling2D: nn.AvgPool2d}[type(layer)]
    pairs = padding_pairs(layer.name, layer.padding, layer.input_shape[1:-1], layer.pool_size, layer.strides,
                          (1,) * rank)
    if any(before or after for before, after in pairs):
        raise ValueError(f"torch_mirror: {layer.name} pads; not mirrored")
    return kind(layer.pool_size, layer.strides)


def torch_layer(layer):
    """The torch module computing what striate's `layer` computes (NCHW), with the same weights."""
    if isinstance(layer, L.Conv2DTranspose):
        return _transposed_convolution(layer)
    if isinstance(layer, L.Conv1D | L.Conv2D | L.DepthwiseConv2D):
        return _convolution(layer)
    if isinstance(layer, L.BatchNormalization):
        return _batch_norm(layer)
    if isinstance(layer, L.Dense):
        return _dense(layer)
    if isinstance(layer, L.Activation):
        return _activation(layer.activation)
    if isinstance(layer, L.MaxPooling1D | L.MaxPooling2D | L.AveragePooling1D | L.AveragePooling2D):
        return _pooling(layer)
    if isinstance(layer, L.GlobalAveragePooling2D):
        return GlobalAverage()
    if isinstance(layer, L.Flatten):
        return ChannelsLastFlatten()
    if isinstance(layer, L.Dropout):
        return nn.Dropout(layer.rate)
    if isinstance(layer, L.Embedding):
        return EmbeddingNCL(layer.embeddings.data)
    if isinstance(layer, L.ZeroPadding2D):
        (top, bottom), (left, right) = layer.padding
        return nn.ZeroPad2d((left, right, top, bottom))
    if isinstance(layer, L.Add):
        return Sum()
    if isinstance(layer, L.Concatenate):
        if layer.axis not in (-1, len(layer.input_shape[0]) - 1):
            raise ValueError(f"torch_mirror: {layer.name} joins axis {layer.axis}, not the channels; not mirrored")
        return ChannelConcatenate()
    raise ValueError(f"torch_mirror: no torch module for {type(layer).__name__} ({layer.name})")


class Mirror(nn.Module):
    """A striate functional model's graph in torch: node i applies modules[i] to the values of its inputs."""

    def __init__(self, model):
        super().__init__()
        input_ids = {id(symbolic): index for index, symbolic in enumerate(model._inputs)}
        node_ids = {}
        self.steps = []
        modules = []
        for index, node in enumerate(model._nodes):
            node_ids[id(node)] = index
            sources = [("input", input_ids[id(i)]) if id(i) in input_ids else ("node", node_ids[id(i)])
                       for i in node.inputs]
            modules.append(torch_layer(node.layer))
            self.steps.append(sources)
        self.layers = nn.ModuleList(modules)
        self.output = node_ids[id(model._outputs)]

    def forward(self, x):
        values = []
        for module, sources in zip(self.layers, self.steps):
            values.append(module(*(x if kind == "input" else values[index] for kind, index in sources)))
        return values[self.output]


def mirror(model):
    """A torch module running `model` (a striate functional model with one input) with a copy of its weights."""
    return Mirror(model)
