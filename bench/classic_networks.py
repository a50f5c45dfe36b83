"""Time one forward pass and one training step of each classic network at its native input size, batch 2.

    python bench/classic_networks.py                 # every network, one subprocess each, a Markdown table
    python bench/classic_networks.py --model vgg16   # one network, one JSON line

Each network runs in its own process so that its peak resident memory (ru_maxrss: weights, gradients,
activations kept for backward, im2col buffers) is its own. Forward: `model.predict` (inference mode). Training
step: `train_on_batch` with SGD and sparse categorical cross-entropy (forward in training mode, backward,
update). Each is run twice and the second run is reported (the first pays for page faults).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

NETWORKS = ["lenet5", "alexnet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "googlenet", "mobilenet_v1"]


def measure(name, batch_size=2):
    import numpy as np

    import striate
    from striate import models

    striate.set_random_seed(0)
    model = models.NETWORKS[name]()
    input_shape = model.input_shape[1:]
    x = np.random.default_rng(0).standard_normal((batch_size, *input_shape)).astype(np.float32)
    y = np.arange(batch_size) % 10
    model.compile("sgd", "sparse_categorical_crossentropy")
    timings = {}
    for what, step in (("forward_s", lambda: model.predict(x, batch_size=batch_size)),
                       ("train_step_s", lambda: model.train_on_batch(x, y))):
        for _ in range(2):
            start = time.perf_counter()
            step()
            timings[what] = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"model": name, "input": "x".join(map(str, input_shape)), "batch": batch_size,
            "params": model.count_params(), **timings, "peak_rss_mib": peak_kib / 1024}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    arguments = parser.parse_args()
    if arguments.model:
        print(json.dumps(measure(arguments.model)))
        return
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| network | input | batch | forward (s) | training step (s) | peak memory (MiB) |")
    print("|---|---|---:|---:|---:|---:|")
    for name in NETWORKS:
        output = subprocess.run([sys.executable, __file__, "--model", name], capture_output=True, text=True,
                                check=True).stdout
        r = json.loads(output.strip().splitlines()[-1])
        print(f"| {r['model']} | {r['input']} | {r['batch']} | {r['forward_s']:.2f} | {r['train_step_s']:.2f} "
              f"| {r['peak_rss_mib']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
