"""The lectures' Keras MNIST network (the Keras mnist_cnn example): 1,199,882 parameters.

    28x28x1 -> conv 32@3x3 relu -> 26x26x32 -> conv 64@3x3 relu -> 24x24x64 -> max pool 2 -> 12x12x64
    -> dropout 0.25 -> flatten 9,216 -> dense 128 relu -> dropout 0.5 -> dense 10 softmax
"""

from striate import layers as L
from striate.models.sequential import Sequential


def mnist_cnn(input_shape=(28, 28, 1), classes=10):
    return Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=input_shape, name="conv1"),
        L.Conv2D(64, 3, activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool"),
        L.Dropout(0.25, name="dropout1"),
        L.Flatten(name="flatten"),
        L.Dense(128, activation="relu", name="fc"),
        L.Dropout(0.5, name="dropout2"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ], name="mnist_cnn")
