"""`striate predict DIR IMAGE.png`: the digit a trained model sees in an image (white digit on black, as MNIST)."""

import os

import numpy as np

import striate
from striate.cli import CommandError


def add_arguments(parser):
    parser.add_argument("directory", help="a folder written by `striate train`")
    parser.add_argument("image", help="a grayscale or color image of the model's input size, e.g. 28x28")


def run(arguments):
    from striate import images

    model_path = os.path.join(arguments.directory, "model.safetensors")
    if not os.path.exists(model_path):
        raise CommandError(f"{model_path} does not exist (train with `striate train MODEL --out DIR` first)")
    if not os.path.exists(arguments.image):
        raise CommandError(f"{arguments.image} does not exist")
    model = striate.load_model(model_path)
    height, width, channels = model.input_shape[1:]
    pixels = images.read(arguments.image, color_mode="grayscale" if channels == 1 else "rgb")
    if pixels.shape[:2] != (height, width):
        raise CommandError(f"{arguments.image} is {pixels.shape[1]}x{pixels.shape[0]} pixels; the model expects "
                           f"{width}x{height}")
    batch = pixels.reshape(1, height, width, channels)
    probabilities = model.predict(batch, verbose=0)[0]
    if not np.isfinite(probabilities).all():
        raise CommandError(f"the model in {model_path} outputs NaN or infinity for {arguments.image}: its weights "
                           f"are broken; train it again. Received outputs {np.round(probabilities, 3).tolist()}")
    best = int(np.argmax(probabilities))
    print(f"predicted: {best} (probability {probabilities[best]:.4f})")
    print("probabilities: " + " ".join(f"{digit}:{p:.3f}" for digit, p in enumerate(probabilities)))
    return 0
