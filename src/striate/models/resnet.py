"""ResNet-18, -34 and -50 (He et al. 2015), laid out as torchvision's: convolutions without bias, each followed
by batch normalization; a projection shortcut (1x1 convolution + batch norm) wherever the shape changes.

    224x224x3 -> conv1 64@7x7 stride 2 pad 3 -> 112x112x64 -> pad 1 + max pool 3 stride 2 -> 56x56x64
    -> conv2_x (56x56) -> conv3_x (28x28) -> conv4_x (14x14) -> conv5_x (7x7) -> global average pool -> fc

    network     block                     blocks per stage   trainable parameters
    resnet18    residual_block (basic)    2, 2, 2, 2         11,689,512
    resnet34    residual_block (basic)    3, 4, 6, 3         21,797,672
    resnet50    bottleneck_block          3, 4, 6, 3         25,557,032

The counts are torchvision's: the batch-norm scale and shift are trainable parameters, the moving mean and
variance are not (Keras lists them as non-trainable; torchvision keeps them as buffers).

The first block of conv3_x, conv4_x and conv5_x halves the resolution. torchvision (and "ResNet v1.5") puts
that stride on the bottleneck's 3x3 convolution; the paper and keras.applications put it on the first 1x1
convolution. The weights are the same, the arithmetic is not: `stride_on="3x3"` (the default) costs
4,089,184,256 multiply-accumulates at 224x224 and sees 427 pixels; `stride_on="1x1"` costs 3,857,973,248 and
sees 483 (docs/networks.md derives both).

Published weights: `resnet18(weights="resnet18.safetensors")` reads torchvision's state dict (converted to
safetensors; striate.models.torchvision_weights); their inputs are `preprocess_input(x, mode="torch")`.
include_top=False ends at conv5_x's map (or its global average / maximum with pooling="avg" / "max"), as
keras.applications. torchvision's ResNet-50 is v1.5: keep stride_on="3x3" with its weights.
"""

from striate import layers as L
from striate.models.heads import feature_pooling
from striate.models.model import Input, Model
from striate.models.torchvision_weights import check_weights_file, load_torchvision_weights


def conv_bn(x, filters, kernel_size, strides=1, padding=0, relu=True, name="conv"):
    """Convolution without bias, batch normalization (torchvision's epsilon 1e-5, momentum 0.1 = Keras' 0.9),
    then relu unless `relu=False`."""
    x = L.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                 kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = L.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return L.Activation("relu", name=f"{name}_relu")(x) if relu else x


def shortcut_path(x, filters, strides, name):
    """The identity, or a 1x1 projection with batch norm where the block changes the resolution or width."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return conv_bn(x, filters, 1, strides=strides, relu=False, name=f"{name}_0")


def residual_block(x, filters, strides=1, name="block", shortcut=True):
    """The basic block of ResNet-18/34: relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x)).

    shortcut=False drops the shortcut, relu(bn(conv3x3(relu(bn(conv3x3(x)))))): He et al.'s "plain" block,
    the same layers and parameters without the identity path.
    """
    y = conv_bn(x, filters, 3, strides=strides, padding=1, name=f"{name}_1")
    y = conv_bn(y, filters, 3, padding=1, relu=False, name=f"{name}_2")
    if shortcut:
        y = L.Add(name=f"{name}_add")([shortcut_path(x, filters, strides, name), y])
    return L.Activation("relu", name=f"{name}_out")(y)


def bottleneck_block(x, filters, strides=1, stride_on="3x3", name="block"):
    """The bottleneck block of ResNet-50: 1x1 down to `filters`, 3x3, 1x1 up to 4 * `filters`, plus the shortcut.

    stride_on: "3x3" (torchvision, ResNet v1.5) or "1x1" (the paper, keras.applications).
    """
    if stride_on not in ("3x3", "1x1"):
        raise ValueError(f"bottleneck_block: stride_on must be '3x3' or '1x1'; received {stride_on!r}")
    first_stride, middle_stride = (1, strides) if stride_on == "3x3" else (strides, 1)
    y = conv_bn(x, filters, 1, strides=first_stride, name=f"{name}_1")
    y = conv_bn(y, filters, 3, strides=middle_stride, padding=1, name=f"{name}_2")
    y = conv_bn(y, 4 * filters, 1, relu=False, name=f"{name}_3")
    y = L.Add(name=f"{name}_add")([shortcut_path(x, 4 * filters, strides, name), y])
    return L.Activation("relu", name=f"{name}_out")(y)


def resnet(blocks_per_stage, bottleneck=False, input_shape=(224, 224, 3), classes=1000, stride_on="3x3",
           name="resnet", weights=None, include_top=True, pooling=None):
    """The stem, four stages of `blocks_per_stage` blocks (64, 128, 256, 512 filters; the first block of
    stages 2-4 has stride 2), global average pooling and a softmax classifier (include_top), or `pooling`;
    `weights`: a torchvision state dict as safetensors, or None (fresh weights)."""
    pool = feature_pooling(pooling, name)
    if weights is not None:
        check_weights_file(weights)
    inputs = Input(input_shape)
    x = conv_bn(inputs, 64, 7, strides=2, padding=3, name="conv1")
    x = L.ZeroPadding2D(1, name="pool1_pad")(x)
    x = L.MaxPooling2D(3, strides=2, name="pool1_pool")(x)  # zeros are safe: the input is a relu output
    for stage, (repeats, filters) in enumerate(zip(blocks_per_stage, (64, 128, 256, 512))):
        for index in range(repeats):
            strides = 2 if stage > 0 and index == 0 else 1
            block_name = f"conv{stage + 2}_block{index + 1}"
            if bottleneck:
                x = bottleneck_block(x, filters, strides, stride_on, name=block_name)
            else:
                x = residual_block(x, filters, strides, name=block_name)
    if include_top:
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
        x = L.Dense(classes, activation="softmax", name="predictions")(x)
    elif pool is not None:
        x = pool(x)
    model = Model(inputs, x, name=name)
    return model if weights is None else load_torchvision_weights(model, weights, "resnet")


def resnet18(input_shape=(224, 224, 3), classes=1000, weights=None, include_top=True, pooling=None):
    """ResNet-18: basic blocks 2, 2, 2, 2; 11,689,512 trainable parameters."""
    return resnet((2, 2, 2, 2), False, input_shape, classes, name="resnet18", weights=weights,
                  include_top=include_top, pooling=pooling)


def resnet34(input_shape=(224, 224, 3), classes=1000, weights=None, include_top=True, pooling=None):
    """ResNet-34: basic blocks 3, 4, 6, 3; 21,797,672 trainable parameters."""
    return resnet((3, 4, 6, 3), False, input_shape, classes, name="resnet34", weights=weights,
                  include_top=include_top, pooling=pooling)


def resnet50(input_shape=(224, 224, 3), classes=1000, stride_on="3x3", weights=None, include_top=True, pooling=None):
    """ResNet-50: bottleneck blocks 3, 4, 6, 3; 25,557,032 trainable parameters."""
    return resnet((3, 4, 6, 3), True, input_shape, classes, stride_on, name="resnet50", weights=weights,
                  include_top=include_top, pooling=pooling)
