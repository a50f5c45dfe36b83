"""striate against PyTorch CPU on seven classic convolution layers, forward and forward+backward.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/conv_layers.py

(these machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which halve OpenBLAS's speed; the library itself
never reads or changes environment variables). Options: --repeats R (best of R, default 7), --layers a,b.

Both libraries run in this one process with 2 threads each (torch.set_num_threads(2); striate's two
workers or two BLAS threads). Times are the best of several runs, because the machine is shared with other
jobs: the best run is the one least disturbed, and the runs of striate and of both PyTorch layouts are
interleaved (round after round, each contender once per round) so that all meet the same load, with a short
rest before each turn (PyTorch's idle OpenMP threads keep spinning for a while) and an untimed run to wake
the contender's threads (`machine.interleaved_best_ms`). PyTorch runs NCHW and channels_last; the ratio is
striate over the faster of the two. The C allocator keeps freed memory, as in training (`Model.compile` sets
it; `striate.core.runtime.keep_freed_memory`), for both libraries. fwd+bwd computes the gradients of both the
input and the kernel. striate runs its public functional API (striate.functional.conv2d with algorithm="auto", float32,
padding included) on channels-last data.
"""

import argparse
import math
import os

import numpy as np
import torch
from machine import interleaved_best_ms, print_machine

import striate.functional as F
from striate import Tensor
from striate.algorithms import PASSES, choose
from striate.core.runtime import keep_freed_memory
from striate.inspect.explain_algorithms import convolution_case

THREADS = 2
# name: (N, H=W, C_in, C_out, k, stride, pad, groups)
LAYERS = {
    "LeNet conv1": (128, 28, 1, 6, 5, 1, 2, 1),
    "LeNet conv2": (128, 14, 6, 16, 5, 1, 0, 1),
    "MNIST conv2": (128, 26, 32, 64, 3, 1, 0, 1),
    "VGG 3x3": (32, 56, 64, 64, 3, 1, 1, 1),
    "AlexNet conv1": (8, 227, 3, 96, 11, 4, 0, 1),
    "MobileNet depthwise": (32, 56, 128, 128, 3, 1, 1, 128),
    "MobileNet pointwise": (32, 56, 128, 128, 1, 1, 0, 1),
}


def striate_functions(layer, rng):
    n, size, channels_in, channels_out, k, stride, pad, groups = layer
    x = rng.standard_normal((n, size, size, channels_in), dtype=np.float32)
    kernel = rng.standard_normal((k, k, channels_in // groups, channels_out), dtype=np.float32)

    def forward():
        return F.conv2d(x, kernel, strides=stride, padding=pad, groups=groups)

    def forward_backward():
        inputs, weights = Tensor(x, requires_grad=True), Tensor(kernel, requires_grad=True)
        y = F.conv2d(inputs, weights, strides=stride, padding=pad, groups=groups)
        y.backward(np.ones(y.shape, dtype=np.float32))

    return forward, forward_backward


def torch_functions(layer, memory_format):
    n, size, channels_in, channels_out, k, stride, pad, groups = layer
    conv = torch.nn.Conv2d(channels_in, channels_out, k, stride, pad, groups=groups, bias=False)
    conv = conv.to(memory_format=memory_format)
    x = torch.randn(n, channels_in, size, size).to(memory_format=memory_format)

    def forward():
        with torch.no_grad():
            return conv(x)

    def forward_backward():
        inputs = x.detach().requires_grad_()
        y = conv(inputs)
        y.backward(torch.ones_like(y))

    return forward, forward_backward


def auto_choice(layer):
    n, size, channels_in, channels_out, k, stride, pad, groups = layer
    arguments = dict(filters=channels_out, kernel_size=k, strides=stride, padding=pad, groups=groups)
    case = convolution_case(arguments, (n, size, size, channels_in))
    names = [choose(case, which) for which in PASSES]
    return names[0] if len(set(names)) == 1 else "/".join(names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--layers", default=",".join(LAYERS), help="comma-separated names from LAYERS")
    options = parser.parse_args()
    torch.set_num_threads(THREADS)
    keep_freed_memory()  # as in training, where Model.compile sets it (PyTorch, in this process, gains too)
    print_machine(THREADS, f"best of {options.repeats} runs")
    header = (f"{'layer':<20} {'auto':<24} {'striate fwd':>11} {'torch fwd':>9} {'ratio':>6}   "
              f"{'striate f+b':>11} {'torch f+b':>9} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    forward_ratios, training_ratios = [], []
    for name in options.layers.split(","):
        layer = LAYERS[name]
        contenders = {"striate": striate_functions(layer, rng),
                      "torch NCHW": torch_functions(layer, torch.contiguous_format),
                      "torch channels_last": torch_functions(layer, torch.channels_last)}
        functions = {(who, which): pair[which] for who, pair in contenders.items() for which in (0, 1)}
        times = interleaved_best_ms(functions, options.repeats)
        ours_forward, ours_training = times["striate", 0], times["striate", 1]
        torch_forward = min(times["torch NCHW", 0], times["torch channels_last", 0])
        torch_training = min(times["torch NCHW", 1], times["torch channels_last", 1])
        forward_ratios.append(ours_forward / torch_forward)
        training_ratios.append(ours_training / torch_training)
        print(f"{name:<20} {auto_choice(layer):<24} {ours_forward:>9.1f}ms {torch_forward:>7.1f}ms "
              f"{forward_ratios[-1]:>6.2f}   {ours_training:>9.1f}ms {torch_training:>7.1f}ms "
              f"{training_ratios[-1]:>6.2f}")
    geometric = [math.exp(sum(map(math.log, ratios)) / len(ratios)) for ratios in (forward_ratios, training_ratios)]
    blank = " " * 33
    print(f"{'geometric mean':<20} {'':<24}{blank}{geometric[0]:>6.2f}   {'':>21}{geometric[1]:>6.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
