"""MobileNet's depthwise layers, pass by pass: striate's depthwise loops against PyTorch CPU.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/depthwise_layers.py --threads 1

Options: --threads N (both libraries, default 1), --repeats R (rounds, default 7), --batch B (default 8),
--wake-ups W (untimed runs before each timed one, default 1; docs/make_benchmarks.sh passes 3, as for
bench/layer_families.py, whose docstring says why).

bench/layer_families.py times one strided depthwise layer in a whole training step, where reading and writing the
activations weighs as much as the arithmetic. This bench takes the family: the nine distinct 3x3 depthwise layers
of MobileNet (Howard et al. 2017, 224x224 input: 112x112x32 down to 7x7x1024, stride 1 and 2, padding 1) on a
batch of B, and times each of the three passes alone, as the backward pass runs them: the forward (y), the input
gradient (dx) and the kernel gradient (dw). striate: `striate.algorithms.depthwise` inside `workers_only`, as in
training. PyTorch: `conv2d` with groups = C for the forward and the `convolution_backward` that autograd calls for
each gradient alone, in NCHW and channels_last; the ratio is striate over the faster. Interleaved rounds after a
rest (bench/machine.py): the median over the rounds.
"""

import argparse
import statistics

import numpy as np
import torch
from machine import print_machine, print_summary, round_ms

import striate
from striate.algorithms import depthwise
from striate.core.runtime import keep_freed_memory, workers_only

# (size, channels, stride): MobileNet's depthwise layers at 224x224, each distinct one once
LAYERS = [(112, 32, 1), (112, 64, 2), (56, 128, 1), (56, 128, 2), (28, 256, 1), (28, 256, 2), (14, 512, 1),
          (14, 512, 2), (7, 1024, 1)]
PASSES = ("forward", "input gradient", "kernel gradient")


def striate_passes(x, kernel, grad_output, stride):
    """The three passes of striate's depthwise algorithm, each a function of no arguments."""
    strides, channels, padding = (stride, stride), x.shape[-1], ((1, 1), (1, 1))

    def forward():
        with workers_only():
            depthwise.conv_forward(x, kernel, strides, (1, 1), channels, padding)

    def input_gradient():
        with workers_only():
            depthwise.conv_input_gradient(grad_output, kernel, x.shape, strides, (1, 1), channels, padding)

    def kernel_gradient():
        with workers_only():
            depthwise.conv_kernel_gradient(x, grad_output, kernel.shape, strides, (1, 1), channels, padding)

    return forward, input_gradient, kernel_gradient


def torch_passes(x, kernel, grad_output, stride, memory_format):
    """PyTorch's three passes in one memory format: conv2d, and convolution_backward for one gradient at a time."""
    inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).contiguous(memory_format=memory_format)
    weight = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
    grad = torch.from_numpy(np.ascontiguousarray(grad_output.transpose(0, 3, 1, 2)))
    grad = grad.contiguous(memory_format=memory_format)
    channels = x.shape[-1]

    def backward(mask):
        torch.ops.aten.convolution_backward(grad, inputs, weight, None, [stride] * 2, [1, 1], [1, 1], False, [0, 0],
                                            channels, mask)

    def forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(inputs, weight, stride=stride, padding=1, groups=channels)

    return forward, lambda: backward([True, False, False]), lambda: backward([False, True, False])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--wake-ups", type=int, default=1, help="untimed runs before each timed one")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    striate.set_num_threads(options.threads)
    keep_freed_memory()  # as in training, where Model.compile sets it
    print_machine(options.threads, f"median of {options.repeats} interleaved rounds, {options.wake_ups} wake-up "
                                   f"run(s) each, batch {options.batch}, 3x3 kernel, padding 1, float32")
    header = f"{'layer':<20} {'pass':<16} {'striate ms':>10} {'NCHW ms':>10} {'CL ms':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    ratios = []
    for size, channels, stride in LAYERS:
        x = rng.standard_normal((options.batch, size, size, channels), dtype=np.float32)
        kernel = rng.standard_normal((3, 3, 1, channels), dtype=np.float32)
        out = (size + 2 - 3) // stride + 1
        grad_output = rng.standard_normal((options.batch, out, out, channels), dtype=np.float32)
        contenders = {"striate": striate_passes(x, kernel, grad_output, stride),
                      "NCHW": torch_passes(x, kernel, grad_output, stride, torch.contiguous_format),
                      "CL": torch_passes(x, kernel, grad_output, stride, torch.channels_last)}
        for index, name in enumerate(PASSES):
            rounds = round_ms({who: passes[index] for who, passes in contenders.items()}, options.repeats,
                              options.wake_ups)
            ms = {who: statistics.median(times) for who, times in rounds.items()}
            ratio = ms["striate"] / min(ms["NCHW"], ms["CL"])
            ratios.append(ratio)
            layer = f"{size}x{size}x{channels} s{stride}"
            print(f"{layer:<20} {name:<16} {ms['striate']:>10.3f} {ms['NCHW']:>10.3f} {ms['CL']:>10.3f} "
                  f"{ratio:>6.2f}", flush=True)
    print_summary(ratios, "passes", options.threads)


if __name__ == "__main__":
    main()
