"""What the side-by-side benches share: the set-up header (versions, threads, BLAS kernel, load), the timing
loops and the summary line."""

import math
import os
import platform
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info


def cpu_model():
    """The processor's name as Linux's /proc/cpuinfo gives it (the host's, in a virtual machine), else Python's."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_machine(threads, details):
    """Print the set-up line, the BLAS pools and the load average; `details` ends the first line."""
    blas = [(pool["internal_api"], pool.get("architecture"), pool["version"], pool["num_threads"])
            for pool in threadpool_info() if pool["user_api"] == "blas"]
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{threads} threads each, {details}")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; BLAS (threadpoolctl): {blas}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (above 1 on 2 cores, the ratios flatter striate)")


# seconds of rest before each contender's turn: PyTorch's OpenMP threads spin for a while after their work ends, and
# so does OpenBLAS's worker after a product it ran on several threads (0.13 s of CPU time measured in the second
# after one), and without a rest the run timed next (striate's or the other PyTorch layout's) shares the two cores
# with them: with 0.05 s, PyTorch's batch-1 text CNN on two threads took 1-25 ms a run after striate's
PAUSE = 0.2


def interleaved_best_ms(functions, repeats, warm_ups=1, wake_ups=1):
    """Best time in ms of each function, the runs interleaved (round r runs every function once).

    The machine is shared: the best run is the one least disturbed, and interleaving gives every contender the
    same share of whatever else runs. Each function first runs `warm_ups` times (buffers, thread pools, optimizer
    state). Each turn is a short rest (`PAUSE`, so that no contender's spinning threads remain), `wake_ups`
    untimed runs (which wake the contender's own threads, as the previous steps of a training loop would have)
    and the timed run.
    """
    for function in functions.values():
        for _ in range(warm_ups):
            function()
    best = dict.fromkeys(functions, math.inf)
    for _ in range(repeats):
        for name, function in functions.items():
            time.sleep(PAUSE)
            for _ in range(wake_ups):
                function()
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds * 1e3 for name, seconds in best.items()}


def round_ms(functions, repeats, wake_ups=1):
    """Each function's time in ms in each of `repeats` interleaved rounds (each run after a rest and `wake_ups`
    untimed runs), after one warm-up run each: {name: [ms in round 1, ...]}."""
    for function in functions.values():
        function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            time.sleep(PAUSE)
            for _ in range(wake_ups):
                function()
            start = time.perf_counter()
            function()
            times[name].append(1e3 * (time.perf_counter() - start))
    return times


def print_summary(ratios, unit, threads):
    """The geometric mean of the ratios, how many are above 1.0, and the load average at the end."""
    geometric = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"geometric mean {geometric:.2f} over {len(ratios)} {unit} at {threads} thread(s); {unit} above 1.0: "
          f"{sum(ratio > 1 for ratio in ratios)}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
