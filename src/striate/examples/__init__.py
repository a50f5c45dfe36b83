"""Runnable examples, each training a model on real data that ships in a pip package (nothing downloaded).

    striate example NAME [--quick]          # or: python -m striate.examples.NAME [--quick]

Each module has `run(...) -> dict` (held-out accuracies and other numbers) and `main(argv) -> int`;
`--quick` trains on a small slice for a smoke test. README.md records each full run's results. The lectures'
demonstrations (waldo, translation, depth, faces, learn_sobel) also draw their pictures into `--out`
(default runs/examples/NAME).
"""

import argparse
import os
import time

import numpy as np

# example name -> (module in striate.examples, one-line description)
EXAMPLES = {
    "spoken_digits": ("spoken_digits", "spoken-digit recognition from MFCC frames: a 1D CNN and an LSTM"),
    "bbc_news": ("bbc_news", "BBC News topics: a Kim (2014) CNN and an LSTM over word embeddings"),
    "shakespeare": ("shakespeare", "character-level LSTM language model on Shakespeare: bits per char, samples"),
    "animal_mnist": ("animal_mnist", "Animal-MNIST silhouettes (10 classes) with a small CNN"),
    "trees": ("trees", "a recursive network (Socher et al.) over binary parse trees"),
    "unsupervised_features": ("unsupervised_features",
                              "k-means, random, Sobel/Gabor and autoencoder filters vs a trained CNN on MNIST"),
    "waldo": ("waldo", "find a planted patch in a photo by normalized cross-correlation (template matching)"),
    "translation": ("translation", "a dense net vs CNNs on shifted MNIST digits: accuracy against shift"),
    "depth": ("depth", "plain vs residual networks of growing depth: final training loss (He et al. 2016)"),
    "faces": ("faces", "face vs non-face on scikit-image's 200 LFW images with a small CNN"),
    "learn_sobel": ("learn_sobel", "one 3x3 Conv2D trained to reproduce a Sobel-filtered photo learns the kernel"),
    "transfer": ("transfer", "freeze a pretrained base, train a new head, fine-tune its last block (photo crops)"),
}


def standard_parser(name, epochs):
    """The options of an example that trains and draws nothing: --epochs, --seed, --quick."""
    parser = argparse.ArgumentParser(prog=f"python -m striate.examples.{name}", description=EXAMPLES[name][1])
    add_standard_arguments(parser, epochs)
    return parser


def demonstration_parser(name, epochs=None):
    """The options of an example that draws pictures: --seed, --quick, --out and, when it trains, --epochs."""
    parser = argparse.ArgumentParser(prog=f"python -m striate.examples.{name}", description=EXAMPLES[name][1])
    add_standard_arguments(parser, epochs, trains=epochs is not None)
    add_out_argument(parser, name)
    return parser


def add_standard_arguments(parser, epochs, trains=True):
    """--epochs (when the example trains; default `epochs`, or the example's own for None), --seed, --quick."""
    if trains:
        default = "the example's own" if epochs is None else epochs
        parser.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {default})")
    parser.add_argument("--seed", type=int, default=0, help="seed of striate's generator (default 0)")
    parser.add_argument("--quick", action="store_true", help="a small, fast version (a smoke test)")


def run_main(parser, run, argv, **fixed):
    """An example's `main(argv)`: parse argv with `parser`, call `run` with the options (named as run's
    arguments: epochs, seed, quick, out) and `fixed`, print the results; returns 0 (the exit status)."""
    report(run(**vars(parser.parse_args(argv)), **fixed))
    return 0


def add_out_argument(parser, name=None):
    """--out FOLDER, for the examples that draw pictures (default runs/examples/NAME)."""
    where = default_out(name if name else "NAME")
    parser.add_argument("--out", default=None, help=f"folder for the pictures (default {where})")


def default_out(name):
    return os.path.join("runs", "examples", name)


def output_folder(name, out=None):
    """The folder `out` (runs/examples/NAME when None), created if missing."""
    folder = default_out(name) if out is None else os.fspath(out)
    os.makedirs(folder, exist_ok=True)
    return folder


def train_classifier(model, learning_rate, train, test, epochs, verbose, batch_size=32):
    """Compile `model` with Adam and sparse cross-entropy, fit it on train = (x, y) and score it on test.

    Returns (held-out accuracy, training seconds).
    """
    import striate

    model.compile(striate.optim.Adam(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    with Timer() as timer:
        model.fit(*train, batch_size=batch_size, epochs=epochs, verbose=verbose)
    return model.evaluate(*test, verbose=0, return_dict=True)["accuracy"], round(timer.seconds, 1)


def report(results):
    """Print an example's results as `name: value` lines (floats to 4 decimals, or 4 digits when smaller)."""
    for key, value in results.items():
        if isinstance(value, float):
            value = f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.3e}"
        elif isinstance(value, np.ndarray):
            value = np.array2string(value, precision=4, suppress_small=True, prefix=f"{key}: ")
        print(f"{key}: {value}")


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
