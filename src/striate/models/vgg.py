"""VGG16 and VGG19 (Simonyan & Zisserman 2015, configurations D and E), as keras.applications builds them.

Five `vgg_block`s of 3x3 "same" convolutions (stride 1, one pixel of padding on each side) each followed by a
2x2 max pool of stride 2, then three fully connected layers:

    224x224x3 -> [64 x2] -> 112 -> [128 x2] -> 56 -> [256 x3|x4] -> 28 -> [512 x3|x4] -> 14 -> [512 x3|x4] -> 7
    -> flatten 7*7*512 = 25,088 -> fc1 4096 -> fc2 4096 -> predictions 1000

Parameters at the defaults: VGG16 138,357,544, VGG19 143,667,240 (keras.applications and torchvision agree;
the first fully connected layer alone holds 25,088 * 4,096 + 4,096 = 102,764,544 of them).

Published weights: `vgg16(weights="vgg16.safetensors")` reads torchvision's state dict (converted to
safetensors; striate.models.torchvision_weights), whose inputs are `preprocess_input(x, mode="torch")`. With
include_top=True the input must be 224x224 (torchvision pools the last map to 7x7 before fc1; striate does
not pool). include_top=False ends at block5_pool (or its global average / maximum with pooling="avg" / "max")
and takes any input of at least 32x32, as keras.applications.
"""

from striate import layers as L
from striate.models.heads import feature_pooling
from striate.models.sequential import Sequential
from striate.models.torchvision_weights import check_weights_file, load_torchvision_weights

FILTERS = (64, 128, 256, 512, 512)


def vgg_block(block, num_convs, filters, input_shape=None):
    """`num_convs` 3x3 relu convolutions with `filters` channels, then a 2x2 max pool (d2l's vgg_block).

    Returns the layers as a list, named as Keras: block{block}_conv1, ..., block{block}_pool. `input_shape`
    goes to the first convolution (for the first block of a Sequential).
    """
    convs = [L.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{block}_conv{i + 1}",
                      input_shape=input_shape if i == 0 else None)
             for i in range(num_convs)]
    return [*convs, L.MaxPooling2D(2, strides=2, name=f"block{block}_pool")]


def vgg(convs_per_block, input_shape=(224, 224, 3), classes=1000, name="vgg", weights=None, include_top=True,
        pooling=None, filters=FILTERS, units=4096):
    """A VGG network: one vgg_block per entry of `convs_per_block` (with `filters` channels: 64, 128, 256, 512,
    512), then `units`-`units`-classes fully connected layers (include_top), or `pooling`; `weights`: a
    torchvision state dict as safetensors, or None (fresh weights)."""
    pool = feature_pooling(pooling, name)
    if weights is not None:
        check_weights_file(weights)
    stack = []
    for block, (num_convs, width) in enumerate(zip(convs_per_block, filters), start=1):
        stack += vgg_block(block, num_convs, width, input_shape if block == 1 else None)
    if include_top:
        stack += [
            L.Flatten(name="flatten"),
            L.Dense(units, activation="relu", name="fc1"),
            L.Dense(units, activation="relu", name="fc2"),
            L.Dense(classes, activation="softmax", name="predictions"),
        ]
    elif pool is not None:
        stack.append(pool)
    model = Sequential(stack, name=name)
    return model if weights is None else load_torchvision_weights(model, weights, "vgg")


def vgg16(input_shape=(224, 224, 3), classes=1000, weights=None, include_top=True, pooling=None):
    """VGG16 (configuration D): 13 convolutions in blocks of 2, 2, 3, 3, 3; 138,357,544 parameters."""
    return vgg((2, 2, 3, 3, 3), input_shape, classes, "vgg16", weights, include_top, pooling)


def vgg19(input_shape=(224, 224, 3), classes=1000, weights=None, include_top=True, pooling=None):
    """VGG19 (configuration E): 16 convolutions in blocks of 2, 2, 4, 4, 4; 143,667,240 parameters."""
    return vgg((2, 2, 4, 4, 4), input_shape, classes, "vgg19", weights, include_top, pooling)
