"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) with the paper's layer sizes, in one stream.

    227x227x3 -> conv1 96@11x11 stride 4 -> 55x55x96 -> LRN -> max pool 3 stride 2 -> 27x27x96
    -> conv2 256@5x5 pad 2 -> 27x27x256 -> LRN -> max pool 3/2 -> 13x13x256
    -> conv3 384@3x3 pad 1 -> conv4 384@3x3 pad 1 -> conv5 256@3x3 pad 1 -> 13x13x256 -> max pool 3/2 -> 6x6x256
    -> flatten 9,216 -> dropout 0.5 -> fc6 4096 -> dropout 0.5 -> fc7 4096 -> fc8 1000 softmax

Local response normalization (after the relu of conv1 and conv2, before pooling) uses the paper's
k = 2, n = 5, alpha = 1e-4, beta = 0.75 (striate's LocalResponseNormalization defaults).

The paper ran on two GPUs: conv2, conv4 and conv5 saw only the half of the channels on their own GPU.
`groups=1` (the default) is the single-stream network everyone re-implements, `groups=2` the paper's split:

    layer   single stream (groups=1)              paper's two GPUs (groups=2)
    conv1   11*11*3*96 + 96        =     34,944   the same
    conv2   5*5*96*256 + 256       =    614,656   5*5*48*256 + 256   =  307,456
    conv3   3*3*256*384 + 384      =    885,120   the same
    conv4   3*3*384*384 + 384      =  1,327,488   3*3*192*384 + 384  =  663,936
    conv5   3*3*384*256 + 256      =    884,992   3*3*192*256 + 256  =  442,624
    fc6     9216*4096 + 4096       = 37,752,832   the same
    fc7     4096*4096 + 4096       = 16,781,312   the same
    fc8     4096*1000 + 1000       =  4,097,000   the same
    total                            62,378,344                         60,965,224 (the paper's "60 million")

The input is 227x227, the size at which (227 - 11) / 4 + 1 = 55 is exact (the paper's text says 224).

variant="torchvision" is the network torchvision's `alexnet` builds and publishes weights for, that of
Krizhevsky's 2014 "One weird trick" paper: conv1 64@11x11 stride 4 pad 2, conv2 192, conv3 384, conv4 256,
conv5 256, no local response normalization; 61,100,840 parameters. `weights` (torchvision's state dict as
safetensors, striate.models.torchvision_weights) selects it unless `variant` says otherwise; its inputs are
`preprocess_input(x, mode="torch")`, 224x224 with include_top=True (torchvision pools the last map to 6x6
before fc6; striate does not pool). include_top=False ends at pool5 (or its global average / maximum with
pooling="avg" / "max").
"""

from striate import layers as L
from striate.models.heads import feature_pooling
from striate.models.sequential import Sequential
from striate.models.torchvision_weights import check_weights_file, load_torchvision_weights

# variant -> (filters of conv1..conv5, conv1's padding, local response normalization)
VARIANTS = {"paper": ((96, 256, 384, 384, 256), 0, True), "torchvision": ((64, 192, 384, 256, 256), 2, False)}


def alexnet(input_shape=(227, 227, 3), classes=1000, groups=1, dropout=0.5, weights=None, include_top=True,
            pooling=None, variant=None):
    """AlexNet; variant "paper" (the default without weights) or "torchvision" (the default with weights)."""
    variant = variant or ("paper" if weights is None else "torchvision")
    if variant not in VARIANTS:
        raise ValueError(f"alexnet: variant must be 'paper' or 'torchvision'; received {variant!r}")
    if weights is not None and variant != "torchvision":
        raise ValueError(f"alexnet: torchvision's weights fit variant='torchvision' only; received variant={variant!r}")
    pool = feature_pooling(pooling, "alexnet")
    if weights is not None:
        check_weights_file(weights)
    filters, first_padding, lrn = VARIANTS[variant]
    stack = [
        L.Conv2D(filters[0], 11, strides=4, padding=first_padding, activation="relu", input_shape=input_shape,
                 name="conv1"),
        *([L.LocalResponseNormalization(name="norm1")] if lrn else []),
        L.MaxPooling2D(3, strides=2, name="pool1"),
        L.Conv2D(filters[1], 5, padding=2, groups=groups, activation="relu", name="conv2"),
        *([L.LocalResponseNormalization(name="norm2")] if lrn else []),
        L.MaxPooling2D(3, strides=2, name="pool2"),
        L.Conv2D(filters[2], 3, padding=1, activation="relu", name="conv3"),
        L.Conv2D(filters[3], 3, padding=1, groups=groups, activation="relu", name="conv4"),
        L.Conv2D(filters[4], 3, padding=1, groups=groups, activation="relu", name="conv5"),
        L.MaxPooling2D(3, strides=2, name="pool5"),
    ]
    if include_top:
        stack += [
            L.Flatten(name="flatten"),
            L.Dropout(dropout, name="dropout6"),
            L.Dense(4096, activation="relu", name="fc6"),
            L.Dropout(dropout, name="dropout7"),
            L.Dense(4096, activation="relu", name="fc7"),
            L.Dense(classes, activation="softmax", name="fc8"),
        ]
    elif pool is not None:
        stack.append(pool)
    model = Sequential(stack, name="alexnet")
    return model if weights is None else load_torchvision_weights(model, weights, "alexnet")
