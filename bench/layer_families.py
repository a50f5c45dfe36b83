"""Layers of the wider network families, one at a time, forward and backward: striate against PyTorch CPU.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/layer_families.py --threads 1

Options: --threads N (both libraries, default 1), --repeats R (rounds, default 7), --wake-ups W (below),
--layers "a;b" (names from LAYERS, separated by semicolons: some names hold commas).

bench/networks.py times ten networks; their families use layers those ten do not have: group and layer
normalization (ResNets with small batches, ConvNeXt), grouped convolutions (ResNeXt), strided depthwise and
separable convolutions (MobileNet), gelu and swish (ConvNeXt, EfficientNet), leaky relu and stride-2 transposed
convolutions (DCGAN), dilated convolutions (DeepLab), upsampling (U-Net, segmentation decoders), 3-D
convolutions (video). Each row is one layer on a batch of 32 in training: the forward pass, then the backward
pass for the input and the layer's weights (gradients set to None before each run, as an optimizer step leaves
them; striate inside `workers_only`, as in `train_on_batch`). The C allocator keeps freed memory, as in training
(`Model.compile` sets it; `striate.core.runtime.keep_freed_memory`), for both libraries: left to glibc's own policy,
a layer of 2 MiB activations here gave its pages back and faulted them in again at every step (LeakyReLU: 992 page
faults a step, 2.3-3.2 ms against 0.19-0.21 ms kept). PyTorch runs in NCHW and channels_last, and the ratio
is striate over the faster (layer normalization over the channels: PyTorch's layer_norm on channels-last data
directly, and on NCHW data between two permutes). Interleaved rounds after a rest, as in bench/networks.py: the
median over the rounds, and the lowest and highest ratio within a round.

--wake-ups W: untimed steps before each timed one (default 1). A training loop runs its steps back to back, and
a step of a millisecond does not reach that steady state in one step after the rest: striate's
GroupNormalization(8) step on two threads took 1.69, 1.01, 0.86, 0.81 ms in the steps after a rest that followed
its own step, and 1.60, 1.49, 0.86, 0.80 ms after PyTorch's (medians of 10); docs/make_benchmarks.sh passes 3, as
for bench/training_steps.py.
"""

import argparse
import statistics

import numpy as np
import torch
from machine import print_machine, print_summary, round_ms

import striate
from striate import layers as L
from striate.core.runtime import keep_freed_memory, workers_only
from striate.core.tensor import Tensor

nn = torch.nn


def layer_norm_over_channels_first(x):
    """PyTorch's layer normalization over the channels of NCHW data: permute to channels-last and back."""
    return torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],)).permute(0, 3, 1, 2)


# name: (striate layer, PyTorch module, input shape (N, *spatial, C)); the modules see NCHW (or NCDHW) tensors
LAYERS = {
    "GroupNormalization(8)": (lambda: L.GroupNormalization(8), lambda: nn.GroupNorm(8, 64), (32, 16, 16, 64)),
    "LayerNormalization (channels)": (lambda: L.LayerNormalization(), None, (32, 16, 16, 64)),
    "Conv2D 3x3, 4 groups": (lambda: L.Conv2D(64, 3, padding="same", groups=4),
                             lambda: nn.Conv2d(64, 64, 3, padding=1, groups=4), (32, 16, 16, 64)),
    "Conv2D 3x3, 32 groups of 4": (lambda: L.Conv2D(128, 3, padding="same", groups=32),
                                   lambda: nn.Conv2d(128, 128, 3, padding=1, groups=32), (32, 16, 16, 128)),
    "DepthwiseConv2D 3x3 stride 2": (lambda: L.DepthwiseConv2D(3, strides=2, padding="same"),
                                     lambda: nn.Conv2d(64, 64, 3, stride=2, padding=1, groups=64), (32, 32, 32, 64)),
    "SeparableConv2D 3x3": (lambda: L.SeparableConv2D(128, 3, padding="same"),
                            lambda: nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False),
                                                  nn.Conv2d(64, 128, 1)), (32, 16, 16, 64)),
    "Activation gelu": (lambda: L.Activation("gelu"), lambda: nn.GELU(), (32, 16, 16, 64)),
    "Activation swish": (lambda: L.Activation("swish"), lambda: nn.SiLU(), (32, 16, 16, 64)),
    "LeakyReLU(0.2)": (lambda: L.LeakyReLU(0.2), lambda: nn.LeakyReLU(0.2), (32, 16, 16, 64)),
    "Conv2DTranspose 4x4 stride 2": (lambda: L.Conv2DTranspose(32, 4, strides=2, padding="same"),
                                     lambda: nn.ConvTranspose2d(64, 32, 4, 2, 1), (32, 16, 16, 64)),
    "Conv2D 3x3 dilation 2": (lambda: L.Conv2D(64, 3, dilation_rate=2, padding="same"),
                              lambda: nn.Conv2d(64, 64, 3, dilation=2, padding=2), (32, 16, 16, 64)),
    "UpSampling2D nearest": (lambda: L.UpSampling2D(2), lambda: nn.Upsample(scale_factor=2), (32, 16, 16, 64)),
    "UpSampling2D bilinear": (lambda: L.UpSampling2D(2, interpolation="bilinear"),
                              lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (32, 16, 16, 64)),
    "Conv3D 3x3x3": (lambda: L.Conv3D(16, 3, padding="same"), lambda: nn.Conv3d(16, 16, 3, padding=1),
                     (8, 8, 16, 16, 16)),
}


def striate_step(layer, x):
    inputs = Tensor(x, requires_grad=True)
    grad = np.ones(layer.compute_output_shape(x.shape), dtype=np.float32)

    def step():
        inputs.grad = None
        for weight in layer.trainable_weights:
            weight.grad = None
        with workers_only():
            layer(inputs).backward(grad)

    return step


def torch_step(module, x, memory_format):
    inputs = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))
    if memory_format is not None:
        inputs, module = inputs.to(memory_format=memory_format), module.to(memory_format=memory_format)
    inputs.requires_grad_()

    def step():
        inputs.grad = None
        module.zero_grad(set_to_none=True)
        output = module(inputs)
        output.backward(torch.ones_like(output))

    return step


def layer_norm_step(x, channels_last):
    """PyTorch's layer normalization over the channels, with its weights, on (N, H, W, C) or NCHW data."""
    module = nn.LayerNorm(x.shape[-1])
    data = x if channels_last else np.ascontiguousarray(np.moveaxis(x, -1, 1))
    inputs = torch.from_numpy(data).requires_grad_()

    def step():
        inputs.grad = None
        module.zero_grad(set_to_none=True)
        normalized = inputs if channels_last else inputs.permute(0, 2, 3, 1)
        output = module(normalized) if channels_last else module(normalized).permute(0, 3, 1, 2)
        output.backward(torch.ones_like(output))

    return step


def contenders(name, x):
    make_layer, make_module, _ = LAYERS[name]
    layer = make_layer()
    layer(Tensor(x[:1]))  # built
    functions = {"striate": striate_step(layer, x)}
    if make_module is None:
        functions["NCHW"], functions["channels_last"] = layer_norm_step(x, False), layer_norm_step(x, True)
        return functions
    functions["NCHW"] = torch_step(make_module(), x, None)
    functions["channels_last"] = torch_step(make_module(), x, torch.channels_last if x.ndim == 4 else
                                            torch.channels_last_3d)
    return functions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--wake-ups", type=int, default=1, help="untimed steps before each timed one")
    parser.add_argument("--layers", default=";".join(LAYERS), help="names from LAYERS, separated by semicolons")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    striate.set_num_threads(options.threads)
    keep_freed_memory()  # as in training, where Model.compile sets it (PyTorch, in this process, gains too)
    print_machine(options.threads, f"median of {options.repeats} interleaved rounds, {options.wake_ups} wake-up "
                                   f"step(s) each, forward + backward")
    header = (f"{'layer':<30} {'input':<18} {'striate ms':>10} {'NCHW ms':>10} {'CL ms':>10} {'ratio':>6} "
              f"{'per round':>11}")
    print(header)
    print("-" * len(header))
    ratios = []
    rng = np.random.default_rng(0)
    for name in options.layers.split(";"):
        shape = LAYERS[name][2]
        x = rng.standard_normal(shape, dtype=np.float32)
        rounds = round_ms(contenders(name, x), options.repeats, options.wake_ups)
        times = {who: statistics.median(values) for who, values in rounds.items()}
        ratio = times["striate"] / min(times["NCHW"], times["channels_last"])
        per_round = sorted(striate_ms / min(rounds["NCHW"][index], rounds["channels_last"][index])
                           for index, striate_ms in enumerate(rounds["striate"]))
        ratios.append(ratio)
        print(f"{name:<30} {'x'.join(map(str, shape)):<18} {times['striate']:>10.2f} {times['NCHW']:>10.2f} "
              f"{times['channels_last']:>10.2f} {ratio:>6.2f} {per_round[0]:>5.2f}-{per_round[-1]:.2f}", flush=True)
    print_summary(ratios, "layers", options.threads)


if __name__ == "__main__":
    main()
