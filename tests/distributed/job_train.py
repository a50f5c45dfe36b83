"""Run under mpiexec by test_data_parallel.py: trains two small networks on arrays, and one on a folder of
images, with fit(distributed=...), and writes each rank's final weights and logs to OUT/rank<r>.npz and
OUT/rank<r>.json.

    mpiexec -n 3 python job_train.py OUT FOLDER

Rank 0 is seeded 0 and the other ranks differently, so that identical results prove that rank 0's weights and
batch order reach every rank. After training, the weight check is shown to fail on purpose: rank 1 changes one
weight and every rank must raise.
"""

import json
import sys
from pathlib import Path

import numpy as np

import striate
from striate import distributed
from striate import layers as L
from striate.data.image_folder import image_dataset_from_directory

SAMPLES = {"plain": 50, "batch_norm": 51}  # 50 = 3 x 16 + 2: over 3 ranks the last batch leaves rank 2 empty
BATCH_SIZE = 16
KINDS = (*SAMPLES, "folder")


def write_folder(folder):
    """Two classes of 17 random 6x6 grey PNGs; with validation_split 0.25, 26 train in batches of 8, 8, 8 and 2
    (over 3 ranks the last leaves rank 2 without an image)."""
    from PIL import Image

    rng = np.random.default_rng(11)
    for name in ("dark", "light"):
        (folder / name).mkdir(parents=True)
        for index in range(17):
            pixels = rng.integers(0, 128, (6, 6)) + (127 if name == "light" else 0)
            Image.fromarray(pixels.astype(np.uint8)).save(folder / name / f"{index}.png")


def folder_data(folder):
    training, validation = image_dataset_from_directory(folder, image_size=(6, 6), color_mode="grayscale",
                                                        batch_size=8, validation_split=0.25, subset="both", seed=1,
                                                        verbose=False)
    return training.map(lambda x, y: (x / 255, y)), validation.map(lambda x, y: (x / 255, y))


def data(samples):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(samples + 13, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=samples + 13)
    return (x[:samples], y[:samples]), (x[samples:], y[samples:])


def network(kind, synchronized=True):
    """A conv + dense network; "batch_norm" adds a BatchNormalization (synchronized or not) after the conv."""
    middle = [L.BatchNormalization(momentum=0.9, synchronized=synchronized)] if kind == "batch_norm" else []
    channels = 1 if kind == "folder" else 2
    model = striate.Sequential([L.Conv2D(4, 3, input_shape=(6, 6, channels)), *middle, L.Activation("relu"),
                                L.Flatten(),
                                L.Dense(3, activation="softmax")])
    model.compile(striate.optim.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def train(kind, distributed_option, synchronized=True, folder=None):
    """(model, history) after 3 epochs of `kind` on its data (the images in `folder` for "folder")."""
    model = network(kind, synchronized)
    if kind == "folder":
        x, validation = folder_data(folder)
        y = None
    else:
        (x, y), validation = data(SAMPLES[kind])
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=3, validation_data=validation, verbose=0,
                        distributed=distributed_option)
    return model, history.history


def main(out, folder):
    rank, size = distributed.init(timeout=60)
    results, logs = {}, {}
    for kind in KINDS:
        striate.set_random_seed(0 if rank == 0 else 100 + rank)
        model, history = train(kind, distributed.DataParallel(check_weights_every=1), folder=folder)
        results.update({f"{kind}/{index}": w.data.copy() for index, w in enumerate(model.weights)})
        logs[kind] = history
    if rank == 1:
        model.weights[0].data[0, 0, 0, 0] += 1e-3
    try:
        distributed.check_identical_weights(model, "a change on rank 1")
        logs["check_raised"] = None
    except RuntimeError as error:
        logs["check_raised"] = str(error)
    np.savez(f"{out}/rank{rank}.npz", **results)
    with open(f"{out}/rank{rank}.json", "w") as file:
        json.dump({"size": size, **logs}, file)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
