"""Depth: deeper plain networks train worse, deeper residual networks do not (He et al. 2016, figure 1 and 6).

    python -m striate.examples.depth            # or: striate example depth

Networks of 2, 6, 10 and 14 blocks on scikit-learn's 8x8 digits (1,438 training images, scaled to [0, 1]):

    8x8x1 -> conv 16@3x3 + batch norm + relu -> blocks -> global average pool -> Dense 10

Each block is ResNet's basic block with 16 channels, conv 3x3 + batch norm + relu, conv 3x3 + batch norm, then
relu; the residual block adds its input before that last relu (striate.models.residual_block), the plain block
does not (shortcut=False): the same layers and the same parameters. Weight layers = 2 blocks + 2.
Every network gets the same budget (5 epochs, Adam 1e-3, batch 32, seed 0). The measured number is the final
training loss (the mean cross-entropy over the last epoch, as the paper's training curves): an optimisation
result, which a deeper network could only improve if it were as easy to train (it can copy the shallower one
and set its extra blocks to the identity). The held-out accuracy on the 359 test images is reported beside it.
"""

import sys

import numpy as np

import striate
from striate import layers as L
from striate.datasets import digits
from striate.examples import Timer, demonstration_parser, output_folder, run_main
from striate.models import residual_block
from striate.models.model import Input, Model
from striate.models.resnet import conv_bn
from striate.viz import figure

DEPTHS = (2, 6, 10, 14)   # blocks
KINDS = ("plain", "residual")
CHANNELS = 16


def network(blocks, shortcut, input_shape=(8, 8, 1), classes=10):
    """stem conv 3x3 -> `blocks` basic blocks of CHANNELS channels (with or without shortcut) -> GAP -> Dense."""
    inputs = Input(input_shape)
    x = conv_bn(inputs, CHANNELS, 3, padding=1, name="stem")
    for index in range(blocks):
        x = residual_block(x, CHANNELS, name=f"block{index + 1}", shortcut=shortcut)
    x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = L.Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name=f"{'residual' if shortcut else 'plain'}{blocks}")


def weight_layers(blocks):
    """Convolution and dense layers of `network(blocks, ...)`: the stem, two per block, the classifier."""
    return 2 * blocks + 2


def plot(depths, final_loss, test_accuracy, curves, path=None):
    """Three panels: final training loss against weight layers, held-out accuracy against weight layers, and the
    training loss per epoch. final_loss, test_accuracy: {kind: (len(depths),)}; curves: {(kind, blocks): list}.
    Returns the Figure (written to `path` when given)."""
    fig = figure.new_figure(15, 4.6)
    axes = fig.subplots(1, 3)
    layers = [weight_layers(blocks) for blocks in depths]
    styles = {"plain": ("tab:red", "-"), "residual": ("tab:blue", "--")}
    for kind, (colour, line) in styles.items():
        axes[0].plot(layers, final_loss[kind], marker="o", color=colour, linestyle=line, label=kind)
        axes[1].plot(layers, test_accuracy[kind], marker="o", color=colour, linestyle=line, label=kind)
    axes[0].set_title("final training loss (last epoch's mean)")
    axes[0].set_ylabel("cross-entropy")
    axes[1].set_title("held-out accuracy")
    axes[1].set_ylabel("accuracy")
    for ax in axes[:2]:
        ax.set_xlabel("weight layers")
        ax.set_xticks(layers)
        ax.legend()
    shades = np.linspace(0.35, 1.0, len(depths))
    for (kind, blocks), losses in curves.items():
        colour, line = styles[kind]
        shade = shades[list(depths).index(blocks)]
        axes[2].plot(np.arange(1, len(losses) + 1), losses, color=colour, linestyle=line, alpha=shade,
                     label=f"{kind} {weight_layers(blocks)}")
    axes[2].set_xticks(np.arange(1, max(len(losses) for losses in curves.values()) + 1))
    axes[2].set_title("training loss per epoch")
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("cross-entropy")
    axes[2].legend(fontsize=7, ncol=2)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("plain and residual networks of growing depth, the same budget each")
    return figure.save(fig, path)


def run(epochs=5, seed=0, quick=False, out=None, verbose=0, depths=DEPTHS):
    """Train a plain and a residual network at each depth; returns final training losses and test accuracies."""
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    if quick:
        depths, epochs = (2, 8), min(epochs, 3)
        x_train, y_train = x_train[::2], y_train[::2]
    x_train, x_test = x_train[..., None] / 16, x_test[..., None] / 16
    results = {"train_images": len(x_train), "test_images": len(x_test), "epochs": epochs}
    final_loss = {kind: [] for kind in KINDS}
    test_accuracy = {kind: [] for kind in KINDS}
    curves = {}
    with Timer() as timer:
        for blocks in depths:
            for kind in KINDS:
                striate.set_random_seed(seed)
                model = network(blocks, shortcut=kind == "residual")
                model.compile(striate.optim.Adam(0.001), "sparse_categorical_crossentropy", ["accuracy"])
                history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=verbose)
                curves[kind, blocks] = history.history["loss"]
                final_loss[kind].append(curves[kind, blocks][-1])
                test_accuracy[kind].append(model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])
                name = f"{kind}_{weight_layers(blocks)}_layers"
                results[f"{name}_train_loss"] = float(final_loss[kind][-1])
                results[f"{name}_test_accuracy"] = float(test_accuracy[kind][-1])
    path = f"{output_folder('depth', out)}/depth.png"
    plot(depths, final_loss, test_accuracy, curves, path)
    results.update(seconds=round(timer.seconds, 1), picture=path)
    return results


def main(argv=None):
    return run_main(demonstration_parser("depth", epochs=5), run, argv)


if __name__ == "__main__":
    sys.exit(main())
