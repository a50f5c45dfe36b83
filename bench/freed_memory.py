"""Freed memory kept for the next step or given back: page faults and time of a training step.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/freed_memory.py

(these machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which halve OpenBLAS's speed). Options: --rounds R
(default 15), --networks a,b (names from NETWORKS).

`Model.compile(keep_freed_memory=True)`, the default, asks glibc's malloc to keep freed memory for the next
allocation (`striate.core.runtime.keep_freed_memory`); with False the allocator keeps glibc's own policy, which
returns large freed blocks to the kernel, so that the next step's arrays can be fresh pages, each 4 KiB page a
page fault on its first write. The setting is process-wide, so each setting runs in a process of its own: two
processes per network, the same model and batch, stepping in turn (round after round, one `train_on_batch` each,
after three untimed steps), each reporting the step's time and its minor page faults (`getrusage`). The table gives
the median of each over the rounds and the time ratio kept / given back (below 1.0 keeping pays). How many
faults a given-back step has depends on the order in which glibc served the process's allocations: a network
can show none in one run and a thousand in the next. striate only
(PyTorch is loaded with bench/networks.py's definitions, not run), 2 threads.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from networks import autoencoder, resnet20

import striate

NETWORKS = ("MNIST CNN", "LeNet-5", "ResNet-20", "autoencoder")
BATCH = {"MNIST CNN": 128, "LeNet-5": 128, "ResNet-20": 64, "autoencoder": 128}
WARM_UPS = 3


def build(name):
    """(model, x, y, loss) of one network: the lectures' MNIST CNN and LeNet-5 as bench/training_steps.py,
    ResNet-20 and the autoencoder as bench/networks.py."""
    rng = np.random.default_rng(0)
    striate.set_random_seed(0)
    if name in ("MNIST CNN", "LeNet-5"):
        model = striate.models.mnist_cnn() if name == "MNIST CNN" else striate.models.lenet5(input_shape=(28, 28, 1))
        x = rng.random((BATCH[name], 28, 28, 1), dtype=np.float32)
        return model, x, rng.integers(0, 10, BATCH[name]), "sparse_categorical_crossentropy"
    if name == "ResNet-20":
        x = rng.random((BATCH[name], 32, 32, 3), dtype=np.float32)
        return resnet20(), x, rng.integers(0, 10, BATCH[name]), "sparse_categorical_crossentropy"
    x = rng.random((BATCH[name], 28, 28, 1), dtype=np.float32)
    return autoencoder(), x, x, "mse"


def child(name, keep):
    """One process's side: build, compile with keep_freed_memory=keep, then one timed step per line on stdin."""
    striate.set_num_threads(2)
    model, x, y, loss = build(name)
    model.compile(striate.optimizers.Adam(), loss, keep_freed_memory=keep)
    for _ in range(WARM_UPS):
        model.train_on_batch(x, y)
    for _ in sys.stdin:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter()
        model.train_on_batch(x, y)
        seconds = time.perf_counter() - start
        print(json.dumps([1e3 * seconds, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults]), flush=True)


def compare(name, rounds):
    """{keep: (median ms, median faults)} of `rounds` steps in each of the two processes, in turn."""
    processes = {keep: subprocess.Popen([sys.executable, __file__, "--child", name, str(int(keep))],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for keep in (True, False)}
    steps = {keep: [] for keep in processes}
    try:
        for _ in range(rounds):
            for keep, process in processes.items():
                process.stdin.write("step\n")
                process.stdin.flush()
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(f"freed_memory: the {name} process (keep={keep}) ended early")
                steps[keep].append(json.loads(line))
    finally:
        for process in processes.values():
            process.stdin.close()
            process.wait()
    return {keep: (statistics.median(ms for ms, _ in values), statistics.median(f for _, f in values))
            for keep, values in steps.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child[0], options.child[1] == "1")
        return
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, 2 threads, median of {options.rounds} steps "
          f"per process, {WARM_UPS} untimed steps first; load average at start: {os.getloadavg()[0]:.2f}")
    header = (f"{'network':<12} {'batch':>5} {'kept ms':>9} {'given back ms':>14} {'ratio':>6} "
              f"{'kept faults':>12} {'given back faults':>18}")
    print(header)
    print("-" * len(header))
    for name in options.networks.split(","):
        result = compare(name, options.rounds)
        (kept_ms, kept_faults), (back_ms, back_faults) = result[True], result[False]
        print(f"{name:<12} {BATCH[name]:>5} {kept_ms:>9.2f} {back_ms:>14.2f} {kept_ms / back_ms:>6.2f} "
              f"{kept_faults:>12.0f} {back_faults:>18.0f}", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
