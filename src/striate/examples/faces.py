"""Faces: face or not, on the 200 25x25 greyscale images scikit-image ships (skimage/data/lfw_subset.npy).

    python -m striate.examples.faces            # or: striate example faces

The file holds 100 faces from Labeled Faces in the Wild (images 0-99) and 100 crops of other things (100-199);
it is read with np.load(allow_pickle=False) from the installed scikit-image, which is never imported. A seeded
split stratified by class keeps 25 faces and 25 non-faces out (150 to train, 50 held out). A small CNN

    25x25x1 -> conv 16@3x3 relu -> max pool 2 -> conv 32@3x3 relu -> max pool 2 -> Flatten -> Dropout 0.3
    -> Dense 2 softmax

is trained for a fixed 40 epochs (Adam 1e-3, batch 16, seed 0); nothing is chosen on the held-out images, which
are scored once at the end. The picture shows every held-out image with its prediction, errors in red.
"""

import sys

import numpy as np

import striate
from striate import images
from striate import layers as L
from striate.examples import Timer, demonstration_parser, output_folder, run_main
from striate.viz import figure

FILE, FACES, SIZE = "lfw_subset.npy", 100, 25
CLASS_NAMES = ("non-face", "face")   # label 0, label 1
HELD_OUT_PER_CLASS = 25


def load_faces():
    """(images (200, 25, 25) float32 in [0, 1], labels (200,) int64: 1 for the first 100 (faces), 0 after)."""
    pixels = np.load(images.sample_file(FILE), allow_pickle=False)
    if pixels.shape != (2 * FACES, SIZE, SIZE):
        raise ValueError(f"faces.load_faces: {FILE} should hold {2 * FACES} images of {SIZE}x{SIZE}; received "
                         f"shape {pixels.shape}")
    labels = (np.arange(2 * FACES) < FACES).astype(np.int64)
    return pixels.astype(np.float32), labels


def stratified_split(labels, held_out_per_class, rng):
    """(train indices, held-out indices): `held_out_per_class` random images of each class held out; both sorted."""
    held_out = np.concatenate([rng.choice(np.flatnonzero(labels == label), held_out_per_class, replace=False)
                               for label in np.unique(labels)])
    return np.setdiff1d(np.arange(len(labels)), held_out), np.sort(held_out)


def cnn():
    return striate.Sequential([
        L.Conv2D(16, 3, activation="relu", input_shape=(SIZE, SIZE, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dropout(0.3),
        L.Dense(2, activation="softmax"),
    ])


def plot(pictures, labels, face_probability, path=None):
    """Every held-out image (N, 25, 25) titled with the predicted class and P(face); errors titled in red and
    framed. Returns the Figure (written to `path` when given)."""
    predicted = (face_probability > 0.5).astype(np.int64)
    errors = int((predicted != labels).sum())
    fig = figure.new_figure(12, 1.3 * int(np.ceil(len(pictures) / 10)) + 0.6)
    titles = [f"{CLASS_NAMES[p]} {q:.2f}" for p, q in zip(predicted, face_probability)]
    axes = figure.image_grid(fig, list(pictures), titles, columns=10, vmin=0, vmax=1,
                             suptitle=f"held-out images: prediction and P(face); {errors} of {len(labels)} wrong (red)")
    for ax, guess, truth in zip(axes, predicted, labels):
        if guess != truth:
            ax.title.set_color("red")
            for spine in ax.spines.values():
                spine.set_color("red")
                spine.set_linewidth(3)
    return figure.save(fig, path)


def run(epochs=40, seed=0, quick=False, out=None, verbose=0):
    """Train the CNN on 150 images; returns its accuracy on the 50 held-out ones."""
    if quick:
        epochs = min(epochs, 15)
    pixels, labels = load_faces()
    train, held_out = stratified_split(labels, HELD_OUT_PER_CLASS, np.random.default_rng(seed))
    x = pixels[..., None]
    striate.set_random_seed(seed)
    model = cnn()
    model.compile(striate.optim.Adam(0.001), "sparse_categorical_crossentropy", ["accuracy"])
    with Timer() as timer:
        model.fit(x[train], labels[train], batch_size=16, epochs=epochs, verbose=verbose)
    face_probability = model.predict(x[held_out], verbose=0)[:, 1]
    accuracy = float(((face_probability > 0.5) == labels[held_out]).mean())
    path = f"{output_folder('faces', out)}/faces.png"
    plot(pixels[held_out], labels[held_out], face_probability, path)
    return {"train_images": len(train), "held_out_images": len(held_out), "epochs": epochs,
            "held_out_accuracy": accuracy, "seconds": round(timer.seconds, 1), "picture": path}


def main(argv=None):
    return run_main(demonstration_parser("faces", epochs=40), run, argv)


if __name__ == "__main__":
    sys.exit(main())
