"""VGG16 and VGG19 (Simonyan & Zisserman 2015, configurations D and E), as keras.applications builds them.

Five `vgg_block`s of 3x3 "same" convolutions (stride 1, one pixel of padding on each side) each followed by a
2x2 max pool of stride 2, then three fully connected layers:

    224x224x3 -> [64 x2] -> 112 -> [128 x2] -> 56 -> [256 x3|x4] -> 28 -> [512 x3|x4] -> 14 -> [512 x3|x4] -> 7
    -> flatten 7*7*512 = 25,088 -> fc1 4096 -> fc2 4096 -> predictions 1000

Parameters at the defaults: VGG16 138,357,544, VGG19 143,667,240 (keras.applications and torchvision agree;
the first fully connected layer alone holds 25,088 * 4,096 + 4,096 = 102,764,544 of them).
"""

from striate import layers as L
from striate.models.sequential import Sequential


def vgg_block(block, num_convs, filters, input_shape=None):
    """`num_convs` 3x3 relu convolutions with `filters` channels, then a 2x2 max pool (d2l's vgg_block).

    Returns the layers as a list, named as Keras: block{block}_conv1, ..., block{block}_pool. `input_shape`
    goes to the first convolution (for the first block of a Sequential).
    """
    convs = [L.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{block}_conv{i + 1}",
                      input_shape=input_shape if i == 0 else None)
             for i in range(num_convs)]
    return [*convs, L.MaxPooling2D(2, strides=2, name=f"block{block}_pool")]


def vgg(convs_per_block, input_shape=(224, 224, 3), classes=1000, name="vgg"):
    """A VGG network: one vgg_block per entry of `convs_per_block` (64, 128, 256, 512, 512 filters), then
    4096-4096-classes fully connected layers."""
    filters = (64, 128, 256, 512, 512)
    stack = []
    for block, (num_convs, width) in enumerate(zip(convs_per_block, filters), start=1):
        stack += vgg_block(block, num_convs, width, input_shape if block == 1 else None)
    stack += [
        L.Flatten(name="flatten"),
        L.Dense(4096, activation="relu", name="fc1"),
        L.Dense(4096, activation="relu", name="fc2"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ]
    return Sequential(stack, name=name)


def vgg16(input_shape=(224, 224, 3), classes=1000):
    """VGG16 (configuration D): 13 convolutions in blocks of 2, 2, 3, 3, 3; 138,357,544 parameters."""
    return vgg((2, 2, 3, 3, 3), input_shape, classes, name="vgg16")


def vgg19(input_shape=(224, 224, 3), classes=1000):
    """VGG19 (configuration E): 16 convolutions in blocks of 2, 2, 4, 4, 4; 143,667,240 parameters."""
    return vgg((2, 2, 4, 4, 4), input_shape, classes, name="vgg19")
