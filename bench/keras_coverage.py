"""How much of Keras 3's public surface striate has: layers, their arguments, callbacks, optimizers, losses, metrics.

Run it as

    python bench/keras_coverage.py            # the table; --missing also lists what striate lacks

It reads the installed Keras (KERAS_BACKEND=torch; Keras is a test oracle, never a run-time dependency) and
compares names, not behaviour (the tests compare behaviour):
- a Keras class or function is covered when striate's module of the same name (striate.layers,
  striate.callbacks, ...) has an attribute of the same name;
- a layer argument is covered when striate's layer of the same name accepts it by name: its own __init__
  names it, or a class above it does (a base recurrent layer, Layer: name, trainable, input_shape, ...) to
  which it passes **options on;
- "CNN layers" are the layers of CNN code listed in CNN_LAYERS (the ones striate aims at); "all layers"
  counts every public class of keras.layers.
"""

import argparse
import inspect
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402 (the backend is chosen first)

import striate  # noqa: E402

MODULES = ("layers", "callbacks", "optimizers", "losses", "metrics", "activations", "regularizers", "constraints",
           "initializers")

CNN_LAYERS = """
Input InputLayer Dense Activation Dropout Flatten Reshape Permute Lambda Identity RepeatVector Embedding Masking
Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose DepthwiseConv1D DepthwiseConv2D
SeparableConv1D SeparableConv2D MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D
AveragePooling3D GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPooling1D
GlobalMaxPooling2D GlobalMaxPooling3D UpSampling1D UpSampling2D UpSampling3D Cropping1D Cropping2D Cropping3D
ZeroPadding1D ZeroPadding2D ZeroPadding3D BatchNormalization LayerNormalization GroupNormalization
SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout ReLU LeakyReLU PReLU ELU Softmax
Add Subtract Multiply Average Maximum Minimum Concatenate Dot SimpleRNN LSTM GRU Bidirectional TimeDistributed
Rescaling Resizing CenterCrop Normalization RandomFlip RandomRotation RandomTranslation RandomZoom RandomCrop
RandomContrast
""".split()


def public(module, kind):
    """Public classes (kind "class") or functions ("function") of a Keras module, by name."""
    test = inspect.isclass if kind == "class" else inspect.isfunction
    return sorted(name for name in dir(module) if not name.startswith("_") and test(getattr(module, name)))


def keyword_names(function):
    """Names a callable takes by keyword, and whether it also takes **kwargs."""
    parameters = inspect.signature(function).parameters.values()
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def striate_arguments(layer_class):
    """The keyword arguments a striate layer accepts: its own __init__'s, and those of the classes above it in
    its MRO for as long as each passes **options on to the next."""
    accepted = set()
    for cls in layer_class.__mro__:
        if "__init__" not in vars(cls):
            continue
        own, passes_on = keyword_names(cls.__init__)
        accepted |= own
        if not passes_on:
            break
    return accepted


def layer_arguments(names):
    """(covered, total, missing) over the Keras arguments of the layers in `names` that striate has."""
    covered = total = 0
    missing = []
    for name in names:
        ours = getattr(striate.layers, name, None)
        if not inspect.isclass(ours):
            continue
        theirs, _ = keyword_names(getattr(keras.layers, name).__init__)
        accepted = striate_arguments(ours)
        covered += len(theirs & accepted)
        total += len(theirs)
        missing += [f"{name}({argument})" for argument in sorted(theirs - accepted)]
    return covered, total, missing


def coverage(module_name, names):
    """(covered names, missing names) of `names` in striate's module of that name."""
    ours = getattr(striate, module_name, None)
    covered = [name for name in names if ours is not None and hasattr(ours, name)]
    return covered, [name for name in names if name not in covered]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", action="store_true", help="also list what striate lacks")
    options = parser.parse_args()
    print(f"keras {keras.__version__} (backend {keras.backend.backend()}), striate {striate.__version__}")
    rows, missing = [], {}
    keras_layers = public(keras.layers, "class")
    cnn_layers = [name for name in CNN_LAYERS if name in keras_layers]
    for label, names in (("CNN layers", cnn_layers), ("all layers", keras_layers)):
        covered, lacking = coverage("layers", names)
        rows.append((label, len(covered), len(names)))
        missing[label] = lacking
    covered, total, lacking = layer_arguments(cnn_layers)
    rows.append(("arguments of the CNN layers striate has", covered, total))
    missing["arguments"] = lacking
    for module_name in MODULES[1:]:
        module = getattr(keras, module_name)
        names = public(module, "class") + public(module, "function")
        names = [name for name in names if name not in ("deserialize", "serialize", "get")]
        covered, lacking = coverage(module_name, names)
        rows.append((module_name, len(covered), len(names)))
        missing[module_name] = lacking
    print("| Keras 3 | striate has | of | share |\n|---|---:|---:|---:|")
    for label, covered, total in rows:
        print(f"| {label} | {covered} | {total} | {covered / total:.0%} |")
    if options.missing:
        for label, names in missing.items():
            print(f"\nmissing {label} ({len(names)}): {', '.join(names)}")


if __name__ == "__main__":
    main()
