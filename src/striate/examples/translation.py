"""Translation: a dense network is too sensitive to where a digit sits; convolution and pooling are not.

    python -m striate.examples.translation      # or: striate example translation

Three networks get the same budget (the first 20,000 MNIST training images, 2 epochs, Adam 1e-3, batch 64, seed
0) and are tested on test digits moved by 0..6 pixels (zero fill; right, left, down and up, averaged):

    dense            Flatten -> Dense 128 relu -> Dense 10
    cnn              Conv 32@3x3 -> max pool 2 -> Conv 64@3x3 -> max pool 2 -> Flatten -> Dense 10
    cnn_global_pool  Conv 32@3x3 -> max pool 2 -> Conv 64@3x3 -> max pool 2 -> Conv 64@3x3 -> global max pool
                     -> Dense 10

A dense unit has one weight per pixel, so a digit moved by a few pixels meets other weights. Convolution is
equivariant (a shifted input gives a shifted feature map) and each 2x2 max pooling forgives a shift of a pixel
within its window; flattening the last maps still ties the classifier to positions. A global max pool forgets
where a feature was found, so the third network is nearly invariant to shifts within its receptive field.
The training digits are never shifted; nothing is chosen on the test digits.
"""

import sys

import numpy as np

import striate
from striate import layers as L
from striate.datasets import mnist
from striate.examples import Timer, demonstration_parser, output_folder, run_main
from striate.viz import figure

SHIFTS = tuple(range(7))
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (rows, columns) per pixel of shift: right, left, down, up
EXAMPLE_DIGIT = 0                                # the test digit drawn shifted in the picture


def dense_net():
    return striate.Sequential([
        L.Flatten(input_shape=(28, 28, 1)),
        L.Dense(128, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])


def cnn():
    return striate.Sequential([
        L.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    ])


def cnn_global_pool():
    return striate.Sequential([
        L.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.GlobalMaxPooling2D(),
        L.Dense(10, activation="softmax"),
    ])


MODELS = {"dense": dense_net, "cnn": cnn, "cnn_global_pool": cnn_global_pool}
LABELS = {"dense": "dense (Dense 128, Dense 10)", "cnn": "CNN: 2 x (conv, max pool), Flatten, Dense 10",
          "cnn_global_pool": "CNN: 2 x (conv, max pool), conv, global max pool, Dense 10"}


def shift(images, rows, columns):
    """`images` (N, H, W, ...) moved down by `rows` and right by `columns` pixels (negative: up, left); what
    enters is zero and what leaves is lost: out[:, i, j] = images[:, i - rows, j - columns], or 0 outside."""
    height, width = images.shape[1:3]
    if abs(rows) >= height or abs(columns) >= width:
        raise ValueError(f"shift: a shift of ({rows}, {columns}) leaves nothing of images of shape {images.shape}")
    out = np.zeros_like(images)
    out[:, max(rows, 0) : height + min(rows, 0), max(columns, 0) : width + min(columns, 0)] = \
        images[:, max(-rows, 0) : height - max(rows, 0), max(-columns, 0) : width - max(columns, 0)]
    return out


def accuracy_by_shift(model, x, y, shifts=SHIFTS):
    """(len(shifts), len(DIRECTIONS)): the model's accuracy on x moved by each shift in each direction."""
    def accuracy(images):
        return model.evaluate(images, y, verbose=0, return_dict=True)["accuracy"]

    return np.array([[accuracy(shift(x, s * down, s * right)) for down, right in DIRECTIONS] for s in shifts])


def plot(shifts, accuracies, digit, path=None):
    """Top: mean accuracy against shift, one curve per network ({name: (len(shifts),)}), chance dashed.
    Bottom: `digit` (28, 28) moved right by each shift. Returns the Figure (written to `path` when given)."""
    fig = figure.new_figure(9, 6.5)
    top, bottom = fig.subfigures(2, 1, height_ratios=[3, 1.1])
    ax = top.subplots()
    for name, values in accuracies.items():
        ax.plot(shifts, values, marker="o", label=LABELS.get(name, name))
    ax.axhline(0.1, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel("shift of the test digits (pixels; mean over right, left, down, up)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("trained on centred digits, tested on shifted ones")
    ax.legend()
    ax.grid(alpha=0.3)
    figure.image_grid(bottom, [shift(digit[None], 0, s)[0] for s in shifts], [f"shift {s}" for s in shifts],
                      columns=len(shifts), vmin=0, vmax=1)
    return figure.save(fig, path)


def run(epochs=2, seed=0, quick=False, out=None, verbose=1, train_size=20000, test_size=2000):
    """Train the three networks on the same data; returns each one's test accuracy at every shift."""
    if quick:
        train_size, test_size = 3000, 300
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train[:train_size, :, :, None] / 255.0).astype(np.float32)
    x_test = (x_test[:test_size, :, :, None] / 255.0).astype(np.float32)
    y_train, y_test = y_train[:train_size].astype(np.int64), y_test[:test_size].astype(np.int64)
    results = {"train_images": len(x_train), "test_images": len(x_test), "epochs": epochs}
    curves = {}
    with Timer() as timer:
        for name, build in MODELS.items():
            striate.set_random_seed(seed)
            model = build()
            model.compile(striate.optim.Adam(0.001), "sparse_categorical_crossentropy", ["accuracy"])
            model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=verbose)
            curves[name] = accuracy_by_shift(model, x_test, y_test).mean(axis=1)
            for s, accuracy in zip(SHIFTS, curves[name]):
                results[f"{name}_shift_{s}"] = float(accuracy)
    path = f"{output_folder('translation', out)}/translation.png"
    plot(SHIFTS, curves, x_test[EXAMPLE_DIGIT, :, :, 0], path)
    results.update(seconds=round(timer.seconds, 1), picture=path)
    return results


def main(argv=None):
    return run_main(demonstration_parser("translation", epochs=2), run, argv)


if __name__ == "__main__":
    sys.exit(main())
