"""GoogLeNet (Szegedy et al. 2014, Inception v1), laid out as torchvision's `googlenet`.

    224x224x3 -> conv1 64@7x7 stride 2 -> max pool 3/2 -> conv2 64@1x1 -> conv3 192@3x3 -> max pool 3/2 -> 28x28x192
    -> inception 3a, 3b -> max pool 3/2 -> 4a, 4b, 4c, 4d, 4e -> max pool 2/2 -> 5a, 5b -> 7x7x1024
    -> global average pool -> dropout 0.2 -> fc 1000

Every convolution is torchvision's BasicConv2d: no bias, batch normalization (epsilon 1e-3), relu. An
`inception_module` runs four branches on the same input and concatenates them on the channel axis:
1x1; 1x1 bottleneck then 3x3; 1x1 bottleneck then 5x5; 3x3 max pool (stride 1) then 1x1 projection.

`five_by_five`: torchvision's third branch uses a 3x3 convolution where the paper has a 5x5 (a slip kept for
its pretrained weights). The default (False) follows torchvision and has 6,624,904 trainable parameters,
torchvision's published count; `five_by_five=True` is the paper's module, 7,005,832 trainable parameters.

Max pools use "same" padding, which gives the sizes of torchvision's ceil_mode pools (112 -> 56 -> 28 -> 14 -> 7).
The paper's local response normalizations are left out, as torchvision does.

`auxiliary_heads=True` adds the paper's two auxiliary classifiers (on 4a and 4d: 5x5 average pool stride 3,
1x1 conv 128, fc 1024, dropout 0.7, fc classes). A striate Model has one output, so the heads come as two
more models sharing the trunk's layers, `model.auxiliary_heads`; training them weighs each head's loss by
0.3 (the paper). The heads add 3,188,968 and 3,191,016 trainable parameters: 13,004,888 in all, as
torchvision's googlenet(aux_logits=True).

Published weights: `googlenet(weights="googlenet.safetensors")` reads torchvision's state dict (converted to
safetensors; striate.models.torchvision_weights). torchvision's pretrained GoogLeNet was trained on inputs in
[-1, 1] (its transform_input): `preprocess_input(x, mode="tf")`. The file's auxiliary classifiers are not
used (striate's heads pool 5x5 stride 3 where torchvision pools adaptively to 4x4). The max pools equal
torchvision's ceil_mode pools for even map sizes (224x224 input). include_top=False ends at inception 5b's
map (or its global average / maximum with pooling="avg" / "max"), as keras.applications.
"""

from striate import layers as L
from striate.models.heads import feature_pooling
from striate.models.model import Input, Model
from striate.models.torchvision_weights import check_weights_file, load_torchvision_weights


def basic_conv(x, filters, kernel_size, strides=1, padding="same", name="conv"):
    """torchvision's BasicConv2d: convolution without bias, batch norm (epsilon 1e-3), relu."""
    x = L.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False, name=f"{name}_conv")(x)
    x = L.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(x)
    return L.Activation("relu", name=f"{name}_relu")(x)


def inception_module(x, ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj, five_by_five=False,
                     name="inception"):
    """Four branches concatenated: ch1x1 + ch3x3 + ch5x5 + pool_proj output channels.

    The 1x1 convolutions before the 3x3 and 5x5 ones (the "reduce" widths) are the bottlenecks that keep
    the module cheap: in 3a, the 5x5 branch costs 28*28*(192*16 + 5*5*16*32) = 12.4 M multiply-accumulates
    instead of 28*28*5*5*192*32 = 120.4 M straight on 192 channels.
    """
    branch1 = basic_conv(x, ch1x1, 1, name=f"{name}_1x1")
    branch2 = basic_conv(x, ch3x3_reduce, 1, name=f"{name}_3x3_reduce")
    branch2 = basic_conv(branch2, ch3x3, 3, name=f"{name}_3x3")
    branch3 = basic_conv(x, ch5x5_reduce, 1, name=f"{name}_5x5_reduce")
    branch3 = basic_conv(branch3, ch5x5, 5 if five_by_five else 3, name=f"{name}_5x5")
    branch4 = L.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch4 = basic_conv(branch4, pool_proj, 1, name=f"{name}_pool_proj")
    return L.Concatenate(name=f"{name}_concat")([branch1, branch2, branch3, branch4])


# name: (ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj), the paper's Table 1
MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def auxiliary_head(x, classes, name):
    """The paper's auxiliary classifier: 5x5 average pool stride 3 (14x14 -> 4x4), 1x1 conv 128, fc 1024, dropout
    0.7, fc classes (torchvision's InceptionAux with BasicConv2d)."""
    x = L.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = basic_conv(x, 128, 1, name=f"{name}")
    x = L.Flatten(name=f"{name}_flatten")(x)
    x = L.Dense(1024, activation="relu", name=f"{name}_fc1")(x)
    x = L.Dropout(0.7, name=f"{name}_dropout")(x)
    return L.Dense(classes, activation="softmax", name=f"{name}_fc2")(x)


def googlenet(input_shape=(224, 224, 3), classes=1000, auxiliary_heads=False, five_by_five=False, dropout=0.2,
              weights=None, include_top=True, pooling=None):
    pool = feature_pooling(pooling, "googlenet")
    if weights is not None:
        check_weights_file(weights)
    inputs = Input(input_shape)
    x = basic_conv(inputs, 64, 7, strides=2, padding=3, name="conv1")
    x = L.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = basic_conv(x, 64, 1, name="conv2")
    x = basic_conv(x, 192, 3, padding=1, name="conv3")
    x = L.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    heads = []
    for module, widths in MODULES.items():
        if module == "4a":
            x = L.MaxPooling2D(3, strides=2, padding="same", name="pool3")(x)
        if module == "5a":
            x = L.MaxPooling2D(2, strides=2, padding="same", name="pool4")(x)
        x = inception_module(x, *widths, five_by_five=five_by_five, name=f"inception_{module}")
        if auxiliary_heads and module in ("4a", "4d"):
            heads.append(auxiliary_head(x, classes, name=f"aux{len(heads) + 1}"))
    if include_top:
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
        x = L.Dropout(dropout, name="dropout")(x)
        x = L.Dense(classes, activation="softmax", name="predictions")(x)
    elif pool is not None:
        x = pool(x)
    model = Model(inputs, x, name="googlenet")
    model.auxiliary_heads = [Model(inputs, head, name=f"googlenet_aux{i + 1}") for i, head in enumerate(heads)]
    return model if weights is None else load_torchvision_weights(model, weights, "googlenet")
