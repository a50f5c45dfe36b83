"""One full training step of LeNet-5 and of the lectures' MNIST CNN: striate against PyTorch CPU.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/training_steps.py

(these machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which halve OpenBLAS's speed; the library itself
never reads or changes environment variables). Options: --repeats R (best of R, default 15), --batch B
(default 128), --models a,b, --wake-ups W (untimed steps before each timed one, default 1).

A step is what `fit` does per batch: forward in training mode (dropout on), the loss (sparse categorical
cross-entropy on the softmax output), backward, one Adam update, and reading the loss as a Python float.
striate runs `model.train_on_batch(x, y)` on channels-last float32 images; PyTorch runs the same layers
(same sizes, activations, pooling, dropout, softmax output, the same loss, `torch.optim.Adam` with Keras'
epsilon 1e-7) in NCHW and in channels_last, and the ratio is striate over the faster of the two.

Both libraries run in this one process with 2 threads each (torch.set_num_threads(2); striate's two
workers or two BLAS threads). Times are the best of several runs, because the machine is shared: the runs
of striate and of both PyTorch layouts are interleaved (round after round, each contender once per round)
so that all meet the same load, with a short rest before each turn (PyTorch's idle OpenMP threads keep
spinning for a while and would otherwise slow whichever step comes next) and an untimed step (W of them) to
wake the contender's threads (`machine.interleaved_best_ms`). A training loop runs its steps back to back;
--wake-ups 3 measures that steady state (after a rest, the first steps of striate's LeNet-5 can meet a worker
thread still asleep). The load average is printed
at start and end; above 1 on 2 cores the ratios flatter striate (PyTorch's threads lose more to other jobs
than striate's).
"""

import argparse
import math
import os

import numpy as np
import torch
from machine import interleaved_best_ms, print_machine

import striate

THREADS = 2


def lenet5_torch():
    """striate.models.lenet5(input_shape=(28, 28, 1)) in PyTorch: tanh, average pooling, softmax output."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10), nn.Softmax(dim=1),
    )


def mnist_cnn_torch():
    """striate.models.mnist_cnn() in PyTorch (Keras' mnist_cnn): two 3x3 convolutions, max pooling, dropout."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10), nn.Softmax(dim=1),
    )


MODELS = {
    "LeNet-5": (lambda: striate.models.lenet5(input_shape=(28, 28, 1)), lenet5_torch),
    "MNIST CNN": (striate.models.mnist_cnn, mnist_cnn_torch),
}


def striate_step(build, x, y):
    striate.set_random_seed(0)
    model = build()
    model.compile("adam", "sparse_categorical_crossentropy")

    def step():
        return model.train_on_batch(x, y)

    return step


def torch_step(build, x, y, memory_format):
    torch.manual_seed(0)
    model = build().to(memory_format=memory_format)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(memory_format=memory_format)
    labels = torch.from_numpy(y.astype(np.int64))

    def step():
        optimizer.zero_grad(set_to_none=True)
        probabilities = model(images)
        # Keras' cross-entropy on probabilities: clip to [eps, 1 - eps], then the mean negative log
        loss = torch.nn.functional.nll_loss(probabilities.clamp(1e-7, 1 - 1e-7).log(), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated names from MODELS")
    parser.add_argument("--wake-ups", type=int, default=1,
                        help="untimed steps before each timed one (3: the steady state of a training loop)")
    options = parser.parse_args()
    torch.set_num_threads(THREADS)
    print_machine(THREADS, f"batch {options.batch}, best of {options.repeats} runs, {options.wake_ups} wake-up "
                           f"step(s) each")
    header = f"{'model':<12} {'striate':>10} {'torch NCHW':>11} {'torch CL':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    x = rng.random((options.batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, options.batch)
    ratios = []
    for name in options.models.split(","):
        build_striate, build_torch = MODELS[name]
        functions = {"striate": striate_step(build_striate, x, y),
                     "NCHW": torch_step(build_torch, x, y, torch.contiguous_format),
                     "channels_last": torch_step(build_torch, x, y, torch.channels_last)}
        times = interleaved_best_ms(functions, options.repeats, warm_ups=2, wake_ups=options.wake_ups)
        ratios.append(times["striate"] / min(times["NCHW"], times["channels_last"]))
        print(f"{name:<12} {times['striate']:>8.1f}ms {times['NCHW']:>9.1f}ms {times['channels_last']:>8.1f}ms "
              f"{ratios[-1]:>6.2f}")
    geometric = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"{'geometric mean':<47}{geometric:>6.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
