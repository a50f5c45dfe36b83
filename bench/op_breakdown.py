"""Where the time of one network row goes, op by op, striate beside PyTorch, and how each part scales with threads.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/op_breakdown.py --network ResNet-20 --row train

Options: --network (a name of bench/networks.py's NETWORKS), --row (train, "batch 1" or "batch N"), --threads
(comma-separated counts, default 1,2), --repeats R (runs per measurement, default 10).

For each thread count both libraries run the row R times untimed by op (the total, ms a run), then R times more with
their ops timed:

- striate: every primitive op's `forward` and `backward` (`striate.core.function.Function` subclasses) wrapped
  with a clock; an op called inside another's forward or backward counts in the outer one. "outside ops" is the
  wall time of the runs whose ops were timed less the ops: the layers' and the graph's Python, the optimizer, the
  batch statistics of batch norm and whatever else runs between ops;
- PyTorch (channels_last, the faster layout for these networks): `torch.profiler`'s self CPU time by ATen op,
  whose own overhead inflates it (its sum exceeds the untimed total); read its column for proportions.

Each table lists the ops by time at the highest thread count, "conv" summing every op whose name says it is a
convolution, and the speed-up of each from the lowest to the highest thread count: where a row of
bench/networks.py stays above 1.0, the ops that do not speed up with the threads say why.
"""

import argparse
import collections
import statistics
import time

import torch
from machine import print_machine
from networks import NETWORKS, network_data, seeded_network, striate_functions, torch_functions
from torch.profiler import ProfilerActivity, profile
from torch_mirror import mirror

import striate
from striate.core.function import Function

ROWS = ("train", "batch 1", "batch N")
SHOWN_OPS = 12  # the largest ops of each library in the table; the rest are summed as "other ops"


def build_row(name, row):
    """(striate's function, PyTorch's function) for one row of bench/networks.py's network `name`."""
    model, rng = seeded_network(name)
    module = mirror(model)
    loss, is_image = NETWORKS[name][4:]
    data = network_data(name, model, rng)
    layout = torch.channels_last if is_image else torch.contiguous_format
    return striate_functions(model, loss, *data)[row], torch_functions(module, loss, *data, layout, is_image)[row]


def total_ms(function, repeats):
    """The median time of a run in ms, after two warm-up runs."""
    function()
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def striate_op_ms(function, repeats):
    """({op name: ms a run}, ms a run in all) of striate's ops over `repeats` runs, each op's forward and backward
    timed apart."""
    seconds = collections.defaultdict(float)
    depth = [0]  # an op inside another's forward or backward counts in the outer one
    originals = {}

    def clocked(cls, method_name, method):
        label = f"{cls.__name__}.{method_name}"

        def run(self, *args, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    seconds[label] += time.perf_counter() - start
        return run

    for cls in set(_subclasses(Function)):
        for method_name in ("forward", "backward"):
            if method_name in cls.__dict__:
                originals[cls, method_name] = cls.__dict__[method_name]
                setattr(cls, method_name, clocked(cls, method_name, cls.__dict__[method_name]))
    try:
        start = time.perf_counter()
        for _ in range(repeats):
            function()
        wall = time.perf_counter() - start
    finally:
        for (cls, method_name), method in originals.items():
            setattr(cls, method_name, method)
    return {label: value / repeats * 1e3 for label, value in seconds.items()}, wall / repeats * 1e3


def torch_op_ms(function, repeats):
    """{ATen op: self CPU ms a run} under torch.profiler over `repeats` runs."""
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(repeats):
            function()
    return {event.key: event.self_cpu_time_total / 1e3 / repeats for event in profiler.key_averages()
            if event.self_cpu_time_total > 0}


def shown(ops, order_by):
    """The SHOWN_OPS largest ops by `order_by` (ms at the highest thread count), the rest summed as "other ops"."""
    names = sorted(ops, key=lambda op: -order_by.get(op, 0.0))
    return names[:SHOWN_OPS], names[SHOWN_OPS:]


def print_library(title, per_threads, totals, timed_totals=None):
    """One library's table: the ops' times at each thread count, their sum, the untimed total and each one's
    speed-up; with `timed_totals` (the wall time of the runs whose ops were timed) that less the ops too."""
    counts = sorted(per_threads)
    low, high = counts[0], counts[-1]
    every_op = set().union(*per_threads.values())
    names, rest = shown(every_op, per_threads[high])
    columns = "".join(f"{f'{n} thr ms':>11}" for n in counts)
    print(f"\n{title}\n{'op':<42}{columns}{f'x{low}->{high}':>9}\n" + "-" * (42 + 11 * len(counts) + 9))

    def line(label, values):
        cells = "".join(f"{values[n]:>11.2f}" for n in counts)
        speed_up = values[low] / values[high] if values[high] > 0 else float("nan")
        print(f"{label:<42}{cells}{speed_up:>9.2f}")

    for name in names:
        line(name, {n: per_threads[n].get(name, 0.0) for n in counts})
    if rest:
        line("other ops", {n: sum(per_threads[n].get(name, 0.0) for name in rest) for n in counts})
    line("conv (every op named conv...)", {n: sum(ms for op, ms in per_threads[n].items() if "conv" in op.lower())
                                          for n in counts})
    line("all ops", {n: sum(per_threads[n].values()) for n in counts})
    if timed_totals:
        line("outside ops (timed runs less all ops)",
             {n: timed_totals[n] - sum(per_threads[n].values()) for n in counts})
    line("total, untimed run", totals)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="ResNet-20", choices=list(NETWORKS))
    parser.add_argument("--row", default="train", choices=ROWS)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=10)
    options = parser.parse_args()
    counts = sorted({int(n) for n in options.threads.split(",")})
    print_machine(",".join(map(str, counts)), f"{options.network}, {options.row}, {options.repeats} runs each")
    ours, theirs = {}, {}
    ours_total, ours_timed_total, theirs_total = {}, {}, {}
    for threads in counts:
        torch.set_num_threads(threads)
        striate.set_num_threads(threads)
        striate_row, torch_row = build_row(options.network, options.row)
        ours_total[threads] = total_ms(striate_row, options.repeats)
        theirs_total[threads] = total_ms(torch_row, options.repeats)
        ours[threads], ours_timed_total[threads] = striate_op_ms(striate_row, options.repeats)
        theirs[threads] = torch_op_ms(torch_row, options.repeats)
    print_library("striate (op.forward / op.backward, ms a run)", ours, ours_total, ours_timed_total)
    print_library("PyTorch channels_last (torch.profiler self CPU, ms a run)", theirs, theirs_total)
    ratios = ", ".join(f"{n} thr {ours_total[n] / theirs_total[n]:.2f}" for n in counts)
    print(f"\nstriate / PyTorch, untimed totals: {ratios}")


if __name__ == "__main__":
    main()
