"""Animal-MNIST (10 classes of 28x28 animal silhouettes): a small CNN, vision beyond handwritten digits.

    python -m striate.examples.animal_mnist         # or: striate example animal_mnist

Two 3x3 convolution blocks (32 and 64 filters, each followed by 2x2 max pooling), dropout and a softmax
layer, trained with Adam on the 8,000 training images of the fixed split in striate.datasets.animal_mnist;
accuracy on its 2,000 held-out images (200 per class).
"""

import sys

import striate
from striate import layers as L
from striate.datasets import animal_mnist
from striate.examples import Timer, run_main, standard_parser


def cnn():
    return striate.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dropout(0.4),
        L.Dense(10, activation="softmax"),
    ])


def run(epochs=10, seed=0, quick=False, verbose=1):
    """Train the CNN; returns its held-out accuracy and training seconds."""
    (x_train, y_train), (x_test, y_test) = animal_mnist.load_data()
    if quick:
        x_train, y_train, x_test, y_test = x_train[::8], y_train[::8], x_test[::4], y_test[::4]
    x_train, x_test = x_train[..., None] / 255.0, x_test[..., None] / 255.0
    striate.set_random_seed(seed)
    model = cnn()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    with Timer() as timer:
        model.fit(x_train.astype("float32"), y_train, batch_size=64, epochs=epochs, verbose=verbose)
    return {"train_images": len(x_train), "test_images": len(x_test),
            "test_accuracy": model.evaluate(x_test.astype("float32"), y_test, verbose=0, return_dict=True)["accuracy"],
            "seconds": round(timer.seconds, 1)}


def main(argv=None):
    return run_main(standard_parser("animal_mnist", epochs=10), run, argv)


if __name__ == "__main__":
    sys.exit(main())
