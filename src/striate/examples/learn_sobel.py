"""Learning a Sobel filter: one 3x3 Conv2D, trained to reproduce Sobel-filtered crops of a photo, becomes Sobel.

    python -m striate.examples.learn_sobel      # or: striate example learn_sobel

Training pairs are 1,000 random 32x32 crops of scikit-image's "camera" photo (greyscale, [0, 1]) and their Sobel
derivative along x, filters.apply(crop, filters.sobel("x"), padding="valid") = [[-1, 0, 1], [-2, 0, 2],
[-1, 0, 1]] correlated with the crop, 30x30. The model is Conv2D(1, 3, use_bias=False) (9 weights, Glorot
uniform start), trained by Adam (learning rate 0.05, batch 32, 40 epochs, seed 0) on the mean squared error.
The target is exactly linear in the input, so the Sobel kernel is the unique minimum (zero loss) as long as the
crops' 3x3 patches span all nine directions; how fast gradient descent gets there depends on how unevenly they
do: a smooth photo holds little energy in the high-frequency directions, and those weights converge last.
Held out: the learned and the true filter applied to a different photo ("astronaut", greyscale).
"""

import sys

import numpy as np

import striate
from striate import filters, images
from striate import layers as L
from striate.examples import Timer, demonstration_parser, output_folder, run_main
from striate.viz import figure

PHOTO, HELD_OUT_PHOTO = "camera", "astronaut"
CROP, CROPS = 32, 1000


def sobel_kernel():
    """The target, Sobel along x (kh, kw) = (3, 3): [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]."""
    return filters.sobel("x")[:, :, 0, 0]


def training_pairs(photo, count, size, rng):
    """`count` random crops (count, size, size, 1) of `photo` (H, W) and their Sobel x (count, size-2, size-2, 1)."""
    target = filters.apply(photo, sobel_kernel(), padding="valid")   # Sobel of the crop at (r, c) = target[r:, c:]
    rows = rng.integers(0, photo.shape[0] - size + 1, count)
    columns = rng.integers(0, photo.shape[1] - size + 1, count)
    x = np.stack([photo[r : r + size, c : c + size] for r, c in zip(rows, columns)])
    y = np.stack([target[r : r + size - 2, c : c + size - 2] for r, c in zip(rows, columns)])
    return x[..., None], y[..., None]


def plot(learned, true, held_out, path=None):
    """Four panels: the learned and the true kernel (3x3, values written in the cells, one colour scale), and
    the held-out photo filtered by each (one grey scale). Returns the Figure (written to `path` when given)."""
    fig = figure.new_figure(13, 3.8)
    axes = fig.subplots(1, 4, width_ratios=[1, 1, 1.6, 1.6])
    limit = float(max(np.abs(learned).max(), np.abs(true).max()))
    for ax, kernel, title in ((axes[0], learned, "learned kernel"), (axes[1], true, "Sobel x")):
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (row, column), value in np.ndenumerate(kernel):
            ax.text(column, row, f"{value:.3f}", ha="center", va="center", fontsize=9,
                    color="white" if abs(value) > 0.6 * limit else "black")
        ax.set_title(title, fontsize=10)
    responses = [filters.apply(held_out, kernel, padding="valid") for kernel in (learned, true)]
    scale = float(np.percentile(np.abs(responses[1]), 99))
    for ax, response, title in ((axes[2], responses[0], "held-out photo, learned kernel"),
                                (axes[3], responses[1], "held-out photo, Sobel x")):
        ax.imshow(response, cmap="gray", vmin=-scale, vmax=scale)
        ax.set_title(title, fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"a 3x3 Conv2D trained on Sobel-filtered crops of {PHOTO!r}; largest difference from Sobel x: "
                 f"{np.abs(learned - true).max():.4f}")
    return figure.save(fig, path)


def run(epochs=40, seed=0, quick=False, out=None, verbose=0):
    """Train the 3x3 convolution; returns the learned kernel, its largest difference from Sobel and held-out errors."""
    if quick:
        epochs = min(epochs, 30)
    photo = images.sample(PHOTO, "grayscale")[:, :, 0]
    x, y = training_pairs(photo, CROPS, CROP, np.random.default_rng(seed))
    striate.set_random_seed(seed)
    conv = L.Conv2D(1, 3, use_bias=False, input_shape=(CROP, CROP, 1))
    model = striate.Sequential([conv])
    model.compile(striate.optim.Adam(0.05), "mse")
    with Timer() as timer:
        history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=verbose)
    learned, true = conv.get_weights()[0][:, :, 0, 0], sobel_kernel()
    held_out = images.sample(HELD_OUT_PHOTO, "grayscale")[:, :, 0]
    predicted = filters.apply(held_out, learned, padding="valid")
    wanted = filters.apply(held_out, true, padding="valid")
    path = f"{output_folder('learn_sobel', out)}/learn_sobel.png"
    plot(learned, true, held_out, path)
    return {"training_crops": len(x), "epochs": epochs, "final_training_loss": float(history.history["loss"][-1]),
            "max_kernel_difference": float(np.abs(learned - true).max()),
            "held_out_mse": float(np.mean((predicted - wanted) ** 2)),
            "held_out_relative_error": float(np.linalg.norm(predicted - wanted) / np.linalg.norm(wanted)),
            "learned_kernel": learned, "sobel_kernel": true, "seconds": round(timer.seconds, 1), "picture": path}


def main(argv=None):
    return run_main(demonstration_parser("learn_sobel", epochs=40), run, argv)


if __name__ == "__main__":
    sys.exit(main())
