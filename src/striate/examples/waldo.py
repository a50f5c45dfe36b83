"""Where's Waldo: find a small patch hidden in a photograph by normalized cross-correlation (template matching).

    python -m striate.examples.waldo           # or: striate example waldo

A 24x24 crop of one sample photo (the cat's eye in "chelsea") is planted, dimmed and with a little noise, at a
known place in another ("astronaut", greyscale). Sliding the template over the photo and scoring every window
with the normalized cross-correlation (Lewis 1995, "Fast normalized cross-correlation")

    score[i, j] = sum_ab t[a, b] (I[i + a, j + b] - m[i, j]) / (||t|| sqrt(sum_ab (I[i + a, j + b] - m[i, j])^2))

with t = template - mean(template) and m[i, j] the window's mean, gives a map in [-1, 1] whose maximum is the
planted place. Because t sums to zero, the numerator is one correlation of the photo with t, and the window's
energy is a correlation of the squared photo with a box of ones minus (window sum)^2 / (h w): three conv2d calls.
The plain correlation sum_ab template[a, b] I[i + a, j + b] is computed too: without the normalisation the
brightest region wins, not the best match.
"""

import sys

import numpy as np
from matplotlib.patches import Rectangle

import striate.functional as F
from striate import images, no_grad
from striate.examples import Timer, demonstration_parser, output_folder, run_main
from striate.viz import figure

PHOTO, TEMPLATE_SOURCE = "astronaut", "chelsea"
TEMPLATE_CORNER, TEMPLATE_SIZE = (100, 160), 24  # the pupil of the cat's left eye in chelsea (300 x 451)
PLANTED_AT = (300, 330)                          # (row, column) of the planted patch's top-left corner
CONTRAST, BRIGHTNESS, NOISE = 0.6, 0.15, 0.02    # planted = CONTRAST * template + BRIGHTNESS + noise
FLAT = 1e-6                                      # windows with less spread than this score 0


def correlate(image, kernel):
    """sum_ab kernel[a, b] image[i + a, j + b] over every window that fits: (H - h + 1, W - w + 1), float64."""
    with no_grad():
        return F.conv2d(image[None, :, :, None], kernel[:, :, None, None]).numpy()[0, :, :, 0]


def normalized_cross_correlation(image, template):
    """The normalized cross-correlation of `template` (h, w) at every place in `image` (H, W).

    Shape: (H - h + 1, W - w + 1), float64 in [-1, 1]; score[i, j] compares the window whose top-left corner is
    (i, j). Windows (or a template) with a standard deviation below FLAT score 0.
    """
    image, template = np.asarray(image, np.float64), np.asarray(template, np.float64)
    if image.ndim != 2 or template.ndim != 2 or any(t > i for t, i in zip(template.shape, image.shape)):
        raise ValueError(f"normalized_cross_correlation: expects an image (H, W) and a smaller template (h, w); "
                         f"received image {image.shape}, template {template.shape}")
    count = template.size
    centred = template - template.mean()
    window_sum = correlate(image, np.ones_like(template))
    energy = np.maximum(correlate(image**2, np.ones_like(template)) - window_sum**2 / count, 0)
    spread = np.sqrt(energy) * np.linalg.norm(centred)
    flat = spread < FLAT * count
    return np.where(flat, 0.0, correlate(image, centred) / np.where(flat, 1.0, spread))


def plant(photo, patch, corner, rng):
    """A copy of `photo` with CONTRAST * patch + BRIGHTNESS + noise (clipped to [0, 1]) at `corner` = (row, col)."""
    row, column = corner
    height, width = patch.shape
    if row < 0 or column < 0 or row + height > photo.shape[0] or column + width > photo.shape[1]:
        raise ValueError(f"plant: a {height}x{width} patch at {corner} does not fit a photo of shape {photo.shape}")
    planted = photo.copy()
    disguised = CONTRAST * patch + BRIGHTNESS + NOISE * rng.standard_normal(patch.shape)
    planted[row : row + height, column : column + width] = np.clip(disguised, 0, 1)
    return planted


def peak(scores):
    """(row, column) of the largest score."""
    return tuple(int(v) for v in np.unravel_index(np.argmax(scores), scores.shape))


def runner_up(scores, best, size):
    """The largest score at least `size` pixels (in rows or columns) away from `best`."""
    rows, columns = np.indices(scores.shape)
    far = np.maximum(abs(rows - best[0]), abs(columns - best[1])) >= size
    return float(scores[far].max())


def plot(photo, template, scores, plain, planted_at, path=None):
    """Four panels: the photo with the planted (green) and found (red) boxes, the template, the NCC map and the
    plain correlation map, each map marked at its maximum. Returns the Figure (written to `path` when given)."""
    fig = figure.new_figure(15, 4.6)
    axes = fig.subplots(1, 4, width_ratios=[3, 1, 3, 3])
    size = template.shape[0]
    found, plain_found = peak(scores), peak(plain)
    axes[0].imshow(photo, cmap="gray", vmin=0, vmax=1)
    for (row, column), colour, margin, label in ((planted_at, "lime", 4, "planted"), (found, "red", 0, "found (NCC)"),
                                                 (plain_found, "orange", 0, "plain correlation")):
        corner = (column - 0.5 - margin, row - 0.5 - margin)  # the planted box drawn around the others
        axes[0].add_patch(Rectangle(corner, size + 2 * margin, size + 2 * margin, fill=False, edgecolor=colour,
                                    lw=1.5, label=label))
    axes[0].legend(loc="lower left", fontsize=7)
    axes[0].set_title(f"photo: planted at {planted_at}, found at {found}", fontsize=9)
    axes[1].imshow(template, cmap="gray", vmin=0, vmax=1)
    axes[1].set_title(f"template: {size}x{size}\nfrom {TEMPLATE_SOURCE!r}", fontsize=9)
    for ax, values, title, where in ((axes[2], scores, "normalized cross-correlation", found),
                                     (axes[3], plain, "plain correlation (no normalisation)", plain_found)):
        shown = ax.imshow(values, cmap="viridis")
        ax.plot(where[1], where[0], "r+", markersize=12, markeredgewidth=1.5)
        ax.set_title(f"{title}\nmax {values.max():.3g} at {where}", fontsize=9)
        fig.colorbar(shown, ax=ax, shrink=0.8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return figure.save(fig, path)


def run(seed=0, quick=False, out=None, planted_at=PLANTED_AT):
    """Plant the template at `planted_at` and find it; returns where it was planted and found, and the scores.

    quick: the same search (it takes well under a second); kept for the shared command line.
    """
    del quick
    photo = images.sample(PHOTO, "grayscale")[:, :, 0].astype(np.float64)
    row, column = TEMPLATE_CORNER
    source = images.sample(TEMPLATE_SOURCE, "grayscale")[:, :, 0].astype(np.float64)
    template = source[row : row + TEMPLATE_SIZE, column : column + TEMPLATE_SIZE]
    planted = plant(photo, template, planted_at, np.random.default_rng(seed))
    with Timer() as timer:
        scores = normalized_cross_correlation(planted, template)
        plain = correlate(planted, template)
    found = peak(scores)
    path = f"{output_folder('waldo', out)}/waldo.png"
    plot(planted, template, scores, plain, tuple(planted_at), path)
    return {"photo": f"{PHOTO} {photo.shape[0]}x{photo.shape[1]}", "template": f"{TEMPLATE_SIZE}x{TEMPLATE_SIZE}",
            "planted_at": tuple(planted_at), "found_at": found, "found": found == tuple(planted_at),
            "best_score": float(scores.max()), "runner_up_score": runner_up(scores, found, TEMPLATE_SIZE),
            "plain_correlation_found_at": peak(plain), "seconds": round(timer.seconds, 2), "picture": path}


def main(argv=None):
    return run_main(demonstration_parser("waldo"), run, argv)


if __name__ == "__main__":
    sys.exit(main())
