"""LeNet-5 (LeCun et al. 1998), as the lectures draw it: two conv + average-pool stages, then 120-84-10.

    input 32x32x1 -> conv 6@5x5 (156) -> 28x28x6 -> avg pool 2 -> 14x14x6 -> conv 16@5x5 (2,416) -> 10x10x16
    -> avg pool 2 -> 5x5x16 = 400 -> dense 120 (48,120) -> dense 84 (10,164) -> dense 10 (850): 61,706 parameters

On 28x28 MNIST digits the first convolution pads by 2 rings ("same"), which is how the paper's 32x32 input
was made from 28x28 digits; the parameter count does not change.
"""

from striate import layers as L
from striate.models.sequential import Sequential


def lenet5(input_shape=(32, 32, 1), classes=10):
    first_padding = "same" if tuple(input_shape[:2]) == (28, 28) else "valid"
    return Sequential([
        L.Conv2D(6, 5, padding=first_padding, activation="tanh", input_shape=input_shape, name="conv1"),
        L.AveragePooling2D(2, name="pool1"),
        L.Conv2D(16, 5, activation="tanh", name="conv2"),
        L.AveragePooling2D(2, name="pool2"),
        L.Flatten(name="flatten"),
        L.Dense(120, activation="tanh", name="fc1"),
        L.Dense(84, activation="tanh", name="fc2"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ], name="lenet5")
