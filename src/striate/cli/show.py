"""`striate show VIEW RUN_DIR [IMAGE] --out FILE.png`: a picture of a trained model, from striate.viz.

Views:
    filters      the first convolution layer's kernels (or --layer NAME)
    maps         every channel of each layer's output for one input (--layer NAME for one layer)
    saliency     the gradient of the class score with respect to the input (Simonyan et al. 2014)
    occlusion    the drop in the class probability as a square of zeros (black) hides each part (Zeiler & Fergus 2014)
    guided       guided backpropagation (Springenberg et al. 2015)
    history      loss and accuracy per epoch, from run.json
    confusion    the confusion matrix on the test images
    predictions  a grid of test images with predicted and true labels, errors in red

IMAGE is a file, or the name of a sample photo (`striate.images.sample_names()`); without it, the views that
need an input take test image number --index of the run's data set.
"""

import json
import os

import numpy as np

import striate
from striate.cli import CommandError

VIEWS = ("filters", "maps", "saliency", "occlusion", "guided", "history", "confusion", "predictions")


def add_arguments(parser):
    parser.add_argument("view", choices=VIEWS, help="what to draw")
    parser.add_argument("directory", help="a folder written by `striate train` (or a model .safetensors file)")
    parser.add_argument("image", nargs="?", help="an image file or a sample name (default: test image --index)")
    parser.add_argument("--out", required=True, help="the picture to write (.png, .svg or .pdf)")
    parser.add_argument("--layer", help="a layer name (filters, maps)")
    parser.add_argument("--index", type=int, default=0, help="which test image to use when IMAGE is not given")
    parser.add_argument("--class", dest="class_index", type=int, help="the class to explain (default: predicted)")
    parser.add_argument("--patch", type=int, default=6, help="occlusion: the side of the square, in pixels")
    parser.add_argument("--stride", type=int, default=2, help="occlusion: the step between squares, in pixels")
    parser.add_argument("--count", type=int, default=25, help="predictions: how many test images to show")
    parser.add_argument("--only-errors", action="store_true", help="predictions: show misclassified images only")


def run(arguments):
    from striate import viz

    _check_output_path(arguments.out)
    if arguments.view == "history":
        viz.plot_history(_run_record_path(arguments.directory), path=arguments.out)
        return _written(arguments.out)
    model = _load_model(arguments.directory)
    if arguments.view == "filters":
        viz.plot_filters(model if arguments.layer is None else _layer(model, arguments.layer), path=arguments.out)
    elif arguments.view in ("confusion", "predictions"):
        x_test, y_test = _test_set(arguments.directory)
        if arguments.view == "confusion":
            predicted = np.argmax(model.predict(x_test, batch_size=500, verbose=0), axis=-1)
            viz.plot_confusion_matrix(y_test, predicted, path=arguments.out)
        else:
            viz.plot_predictions(model, x_test, y_test, count=arguments.count, only_errors=arguments.only_errors,
                                 path=arguments.out)
    else:
        image = _input_image(model, arguments)
        if arguments.view == "maps":
            layers = None if arguments.layer is None else [_layer(model, arguments.layer).name]
            viz.plot_feature_maps(model, image, layers=layers, path=arguments.out)
        elif arguments.view == "occlusion":
            viz.plot_occlusion(model, image, class_index=arguments.class_index, patch=arguments.patch,
                               stride=arguments.stride, path=arguments.out)
        else:
            plot = viz.plot_saliency if arguments.view == "saliency" else viz.plot_guided_backprop
            plot(model, image, class_index=arguments.class_index, path=arguments.out)
    return _written(arguments.out)


def _written(path):
    print(f"wrote {path}")
    return 0


def _check_output_path(path):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CommandError(f"--out {path}: the folder {folder} does not exist")
    if os.path.splitext(path)[1].lower() not in (".png", ".svg", ".pdf"):
        raise CommandError(f"--out {path}: expected a .png, .svg or .pdf file name")


def _model_path(directory):
    path = directory if os.path.isfile(directory) else os.path.join(directory, "model.safetensors")
    if not os.path.exists(path):
        raise CommandError(f"{path} does not exist (train with `striate train MODEL --out DIR` first)")
    return path


def _load_model(directory):
    return striate.load_model(_model_path(directory))


def _run_record_path(directory):
    path = os.path.join(directory, "run.json") if os.path.isdir(directory) else directory
    if not os.path.isfile(path):
        raise CommandError(f"{path} does not exist (the history is read from the run.json of `striate train`)")
    return path


def _test_set(directory):
    """The test images of the data set the run was trained on (MNIST when the run does not say)."""
    from striate.cli.train import load_dataset

    dataset = "mnist"
    record_path = os.path.join(directory, "run.json") if os.path.isdir(directory) else None
    if record_path and os.path.isfile(record_path):
        try:
            with open(record_path) as file:
                dataset = json.load(file).get("dataset", "mnist")
        except json.JSONDecodeError as error:
            raise CommandError(f"{record_path} is not valid JSON: {error}") from None
    _, (x_test, y_test) = load_dataset(dataset)
    return x_test, y_test


def _layer(model, name):
    for layer in model.layers:
        if layer.name == name:
            return layer
    raise CommandError(f"the model has no layer {name!r}; its layers are {[layer.name for layer in model.layers]}")


def _input_image(model, arguments):
    """One input of the model's shape (H, W, C): IMAGE read and checked, or test image --index."""
    from striate import images

    height, width, channels = model.input_shape[1:]
    if arguments.image is None:
        x_test, _ = _test_set(arguments.directory)
        if not 0 <= arguments.index < len(x_test):
            raise CommandError(f"--index {arguments.index}: the test set has images 0 to {len(x_test) - 1}")
        return x_test[arguments.index]
    color_mode = "grayscale" if channels == 1 else "rgb"
    if os.path.exists(arguments.image):
        image = images.read(arguments.image, color_mode=color_mode)
    elif arguments.image in images.sample_names():
        image = images.sample(arguments.image, color_mode=color_mode)
    else:
        names = ", ".join(images.sample_names())
        raise CommandError(f"{arguments.image} is neither a file nor a sample name ({names})")
    if image.shape[:2] != (height, width):
        raise CommandError(f"{arguments.image} is {image.shape[1]}x{image.shape[0]} pixels; the model expects "
                           f"{width}x{height}")
    return image
