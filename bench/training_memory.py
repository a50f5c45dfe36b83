"""Peak memory of one VGG16 training step at batch 8 on 224x224 images: striate against PyTorch CPU.

    python bench/training_memory.py                  # both, each in its own process, a table
    python bench/training_memory.py --library torch  # one, one JSON line

Each library runs in a fresh process, so that ru_maxrss (the peak resident memory of the process) is that
library's alone. The step is the same in both: VGG16 (138,357,544 parameters, softmax output), forward in
training mode, sparse categorical cross-entropy, backward, one plain SGD update, on random float32 images and
labels. Two steps run; the report gives the resident memory once the model is built (weights, imports) and
the peak over the steps, and their difference, the step's own memory (activations kept for backward,
gradients, scratch buffers). The ratio is striate over PyTorch. Threads: 2 each.
"""

import argparse
import json
import resource
import subprocess
import sys

BATCH, SIZE, CLASSES = 8, 224, 1000
VGG16_CONVS = [64, 64, "pool", 128, 128, "pool", 256, 256, 256, "pool", 512, 512, 512, "pool", 512, 512, 512, "pool"]


def resident_mib():
    """The process's resident memory now (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def striate_step():
    import numpy as np

    import striate

    striate.set_random_seed(0)
    model = striate.models.vgg16()
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZE, SIZE, 3), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return model.count_params(), lambda: model.train_on_batch(x, y)


def torch_step():
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    nn = torch.nn
    layers, channels = [], 3
    for item in VGG16_CONVS:
        if item == "pool":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
            channels = item
    layers += [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
               nn.Linear(4096, CLASSES), nn.Softmax(dim=1)]
    model = nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    y = torch.randint(0, CLASSES, (BATCH,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.nll_loss(model(x).clamp(1e-7, 1 - 1e-7).log(), y)
        loss.backward()
        optimizer.step()

    return sum(p.numel() for p in model.parameters()), step


def measure(library):
    params, step = {"striate": striate_step, "torch": torch_step}[library]()
    built = resident_mib()
    for _ in range(2):
        step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"library": library, "params": params, "built_mib": built, "peak_mib": peak, "step_mib": peak - built}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=("striate", "torch"))
    options = parser.parse_args()
    if options.library:
        print(json.dumps(measure(options.library)))
        return
    results = {}
    for library in ("striate", "torch"):
        output = subprocess.run([sys.executable, __file__, "--library", library], capture_output=True, text=True,
                                check=True).stdout
        results[library] = json.loads(output.strip().splitlines()[-1])
    print(f"VGG16 training step, batch {BATCH}, {SIZE}x{SIZE}x3, SGD; resident memory in MiB")
    print(f"{'library':<8} {'parameters':>12} {'model built':>12} {'peak':>8} {'step (peak - built)':>20}")
    for library, r in results.items():
        print(f"{library:<8} {r['params']:>12,} {r['built_mib']:>12,.0f} {r['peak_mib']:>8,.0f} "
              f"{r['step_mib']:>20,.0f}")
    ours, theirs = results["striate"], results["torch"]
    print(f"ratio striate / torch: peak {ours['peak_mib'] / theirs['peak_mib']:.2f}, "
          f"step {ours['step_mib'] / theirs['step_mib']:.2f}")


if __name__ == "__main__":
    main()
