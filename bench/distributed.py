"""Data-parallel training of the lectures' MNIST CNN on 1, 2 and 4 MPI processes, and a model of larger jobs.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/distributed.py

(these machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which halve OpenBLAS's speed). It launches
`mpiexec -n P python bench/distributed.py --worker` for each P of --processes (default 1,2,4); every process
runs on one thread (striate.set_num_threads(1), BLAS at one thread) and trains striate.models.mnist_cnn
(1,199,882 parameters, Adam) with fit(distributed=True) on random MNIST-shaped images, --batch images per
process per step (default 64: the global batch is 64 P), for --steps timed steps after 2 untimed ones.

Printed per P: the step time, images/s of the whole job, the efficiency (images/s over P times one
process's), and the measured time of one gradient allreduce (4.8 MB, `GradientBuckets.average`, median of 20).
On this 2-core machine P = 4 is oversubscribed: two processes share each core.

Then the model, from the measured one-process step time t (compute only) and ring allreduce (each rank sends
and receives 2 (p-1)/p of the bytes, in 2 (p-1) messages):

    T(p) = t + 2 (p-1)/p * bytes / bandwidth + 2 (p-1) * latency,     efficiency(p) = t / T(p)

(no overlap of backward and communication, as striate runs them one after the other), for a 10 GbE network
(1.25 GB/s, 50 us per message) and a 100 Gb/s one (InfiniBand or RoCE: 12.5 GB/s, 2 us). The same formula,
with bandwidth and latency fitted to the measured local allreduces, and t doubled where processes outnumber
cores, predicts the oversubscribed P = 4 run; its measured images/s are printed beside the prediction.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

NETWORKS = {"10 GbE": (1.25e9, 50e-6), "100 Gb/s": (12.5e9, 2e-6)}  # bytes/s, seconds per message
MODEL_PROCESSES = (4, 8, 16, 32, 64)
WARM_UP_STEPS = 2
ALLREDUCE_REPEATS = 20


def worker(batch, steps):
    """One rank: train, time, and (rank 0) print one JSON line."""
    import striate
    from striate import distributed
    from striate.distributed.buckets import GradientBuckets

    striate.set_num_threads(1)
    rank, size = distributed.init(timeout=600)
    striate.set_random_seed(0)
    model = striate.models.mnist_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    global_batch = batch * size
    x = rng.random(((steps + WARM_UP_STEPS) * global_batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    parallel = distributed.DataParallel()
    warm = WARM_UP_STEPS * global_batch
    model.fit(x[:warm], y[:warm], batch_size=global_batch, epochs=1, verbose=0, distributed=parallel)
    distributed.barrier()
    started = time.perf_counter()
    model.fit(x[warm:], y[warm:], batch_size=global_batch, epochs=1, verbose=0, distributed=parallel)
    seconds = time.perf_counter() - started

    weights = model.trainable_weights
    buckets = GradientBuckets(weights)
    times = []
    for _ in range(ALLREDUCE_REPEATS):
        for weight in weights:
            weight.grad = np.ones_like(weight.data)
        distributed.barrier()
        start = time.perf_counter()
        buckets.average(weights, batch)
        times.append(time.perf_counter() - start)
    if rank == 0:
        print(json.dumps({"processes": size, "step_ms": seconds / steps * 1e3, "images_per_second":
                          steps * global_batch / seconds, "allreduce_ms": float(np.median(times)) * 1e3,
                          "gradient_bytes": int(sum(w.data.nbytes for w in weights))}))


def launch(processes, batch, steps):
    """The JSON line of `mpiexec -n processes` of this script's worker."""
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    command = [mpiexec, "-n", str(processes), sys.executable, __file__, "--worker", "--batch", str(batch),
               "--steps", str(steps)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def ring_seconds(processes, size_bytes, bandwidth, latency):
    """Ring allreduce: 2 (p-1)/p of the bytes each way, 2 (p-1) messages."""
    return 2 * (processes - 1) / processes * size_bytes / bandwidth + 2 * (processes - 1) * latency


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=64, help="images per process per step")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--processes", default="1,2,4")
    arguments = parser.parse_args()
    if arguments.worker:
        worker(arguments.batch, arguments.steps)
        return
    cores = len(os.sched_getaffinity(0))
    print(f"mnist_cnn, Adam, {arguments.batch} images per process per step, {arguments.steps} timed steps, one "
          f"thread per process, {cores} cores, load average "
          f"{os.getloadavg()[0]:.2f}")
    results = {p: launch(p, arguments.batch, arguments.steps) for p in map(int, arguments.processes.split(","))}
    one = results[min(results)]
    print("\nprocesses  step ms  images/s  efficiency  allreduce ms (4.8 MB)")
    for p, result in results.items():
        efficiency = result["images_per_second"] / (p * one["images_per_second"] / one["processes"])
        note = "  (oversubscribed)" if p > cores else ""
        print(f"{p:9d}  {result['step_ms']:7.1f}  {result['images_per_second']:8.0f}  {efficiency:10.2f}  "
              f"{result['allreduce_ms']:12.2f}{note}")

    compute = one["step_ms"] / 1e3
    size_bytes = one["gradient_bytes"]
    print(f"\nmodel: T(p) = {compute * 1e3:.1f} ms + ring allreduce of {size_bytes / 1e6:.1f} MB; efficiency = "
          f"t / T(p)")
    print("processes  " + "  ".join(f"{name:>9}" for name in NETWORKS))
    for p in MODEL_PROCESSES:
        cells = [compute / (compute + ring_seconds(p, size_bytes, *NETWORKS[name])) for name in NETWORKS]
        print(f"{p:9d}  " + "  ".join(f"{cell:9.2f}" for cell in cells))

    measured = {p: r["allreduce_ms"] / 1e3 for p, r in results.items() if p > 1}
    if 2 in measured and max(results) > 2:
        # this machine's "network": bandwidth from the 2-process allreduce (latency neglected there), per p
        bandwidth = ring_seconds(2, size_bytes, 1.0, 0.0) / measured[2]
        p = max(results)
        shared = max(1.0, p / cores)
        predicted_step = compute * shared + ring_seconds(p, size_bytes, bandwidth, 0.0)
        predicted = p * arguments.batch / predicted_step
        print(f"\ncheck here, {p} processes on {cores} cores: local allreduce bandwidth {bandwidth / 1e9:.2f} GB/s "
              f"(from 2 processes); predicted {predicted:.0f} images/s (step {predicted_step * 1e3:.0f} ms), measured "
              f"{results[p]['images_per_second']:.0f} images/s (step {results[p]['step_ms']:.0f} ms)")


if __name__ == "__main__":
    main()
