"""Time to 99% validation accuracy on MNIST with the lectures' CNN: striate against PyTorch CPU.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/time_to_99.py

Both libraries train the same network (striate.models.mnist_cnn; bench/training_steps.py's PyTorch twin) with
the same protocol as `./run.sh`: Adam 1e-3 (epsilon 1e-7), batch 128, the 55,000 first training images in a
new random order every epoch, the last 5,000 held out. After each epoch the held-out images are scored; the
clock (training time only, scoring excluded) stops at the first epoch whose validation accuracy reaches 99%,
and only then are the 10,000 test images scored, once. Nothing is chosen on them. --max-epochs (default 6)
ends a run that does not get there; --libraries picks striate, torch or both (default both, one after the
other, 2 threads each).
"""

import argparse
import os
import time

import numpy as np
import torch
from machine import print_machine
from training_steps import mnist_cnn_torch

import striate

THREADS = 2
VALIDATION = 5000
BATCH = 128
TARGET = 0.99


def mnist():
    """(x_train, y_train), (x_validation, y_validation), (x_test, y_test): floats in [0, 1], (N, 28, 28, 1)."""
    (x, y), (x_test, y_test) = striate.datasets.mnist.load_data()
    x = (x.astype(np.float32) / 255)[..., None]
    x_test = (x_test.astype(np.float32) / 255)[..., None]
    return (x[:-VALIDATION], y[:-VALIDATION]), (x[-VALIDATION:], y[-VALIDATION:]), (x_test, y_test)


def run_striate(train, validation, test, max_epochs):
    striate.set_random_seed(0)
    model = striate.models.mnist_cnn()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _epochs(lambda: model.fit(*train, batch_size=BATCH, epochs=1, verbose=0),
                   lambda data: _accuracy(model.predict(data[0], batch_size=500, verbose=0), data[1]),
                   validation, test, max_epochs)


def run_torch(train, validation, test, max_epochs):
    torch.manual_seed(0)
    model = mnist_cnn_torch()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    images = torch.from_numpy(train[0].transpose(0, 3, 1, 2).copy())
    labels = torch.from_numpy(train[1].astype(np.int64))

    def one_epoch():
        model.train()
        for batch in torch.randperm(len(images)).split(BATCH):
            optimizer.zero_grad(set_to_none=True)
            probabilities = model(images[batch])
            torch.nn.functional.nll_loss(probabilities.clamp(1e-7, 1 - 1e-7).log(), labels[batch]).backward()
            optimizer.step()

    def score(data):
        model.eval()
        with torch.no_grad():
            probabilities = model(torch.from_numpy(data[0].transpose(0, 3, 1, 2).copy())).numpy()
        return _accuracy(probabilities, data[1])

    return _epochs(one_epoch, score, validation, test, max_epochs)


def _accuracy(probabilities, labels):
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def _epochs(train_one_epoch, score, validation, test, max_epochs):
    """Train epoch by epoch until validation accuracy >= TARGET: (epochs, training seconds, validation, test)."""
    seconds = 0.0
    for epoch in range(1, max_epochs + 1):
        started = time.perf_counter()
        train_one_epoch()
        seconds += time.perf_counter() - started
        validation_accuracy = score(validation)
        print(f"  epoch {epoch}: validation {validation_accuracy:.4f}, {seconds:.0f} s of training so far", flush=True)
        if validation_accuracy >= TARGET:
            break
    return epoch, seconds, validation_accuracy, score(test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=6)
    parser.add_argument("--libraries", default="striate,torch", help="comma-separated: striate, torch")
    options = parser.parse_args()
    torch.set_num_threads(THREADS)
    striate.set_num_threads(THREADS)
    print_machine(THREADS, f"batch {BATCH}, Adam 1e-3, {VALIDATION} validation images held out")
    train, validation, test = mnist()
    runners = {"striate": run_striate, "torch": run_torch}
    results = {}
    for library in options.libraries.split(","):
        print(f"{library}:", flush=True)
        results[library] = runners[library](train, validation, test, options.max_epochs)
    print("| library | epochs to 99% validation | training seconds | validation | test (scored once) |")
    print("|---|---:|---:|---:|---:|")
    for library, (epochs, seconds, validation_accuracy, test_accuracy) in results.items():
        reached = "" if validation_accuracy >= TARGET else " (not reached)"
        print(f"| {library} | {epochs}{reached} | {seconds:.0f} | {validation_accuracy:.2%} | {test_accuracy:.2%} |")
    if len(results) == 2:
        print(f"time ratio striate / torch: {results['striate'][1] / results['torch'][1]:.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
