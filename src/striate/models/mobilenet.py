"""MobileNet v1 (Howard et al. 2017), as keras.applications.MobileNet.

A 3x3 stride-2 convolution, then thirteen `separable_block`s (3x3 depthwise convolution, batch norm, relu6,
1x1 pointwise convolution, batch norm, relu6), global average pooling and the classifier:

    224x224x3 -> conv1 32 /2 -> 112 -> 64 -> 128 /2 -> 56 -> 128 -> 256 /2 -> 28 -> 256 -> 512 /2 -> 14
    -> 512 x5 -> 1024 /2 -> 7 -> 1024 -> global average pool -> dropout 1e-3 -> fc classes

The width multiplier `alpha` scales every layer's channels (int(c * alpha)). Convolutions have no bias;
stride-2 layers pad "same" ((0, 1) on each axis of an even input, as Keras' ZeroPadding2D(((0, 1), (0, 1)))).
Keras' classifier is a 1x1 convolution on the pooled 1x1x1024 map followed by a reshape; a Dense layer on
the pooled vector is the same weights and arithmetic (1024 * 1000 + 1000 parameters).

Parameters at alpha 1.0, 224x224, 1000 classes: 4,231,976 trainable, 21,888 non-trainable batch-norm
statistics, 4,253,864 in all (Keras' summary).
"""

from striate import layers as L
from striate import ops
from striate.models.sequential import Sequential


def relu6(x):
    """min(max(x, 0), 6): MobileNet's activation, robust in low precision."""
    return ops.clip(x, 0.0, 6.0)


def separable_block(pointwise_filters, alpha=1.0, strides=1, block_id=1):
    """Depthwise 3x3 (with `strides`), batch norm, relu6, then pointwise 1x1 to int(pointwise_filters * alpha)
    channels, batch norm, relu6: Keras' _depthwise_conv_block, as a list of layers."""
    return [
        L.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=f"conv_dw_{block_id}"),
        L.BatchNormalization(name=f"conv_dw_{block_id}_bn"),
        L.Activation(relu6, name=f"conv_dw_{block_id}_relu"),
        L.Conv2D(int(pointwise_filters * alpha), 1, use_bias=False, name=f"conv_pw_{block_id}"),
        L.BatchNormalization(name=f"conv_pw_{block_id}_bn"),
        L.Activation(relu6, name=f"conv_pw_{block_id}_relu"),
    ]


# (pointwise filters, depthwise stride) of the thirteen blocks, the paper's Table 1
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
          (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def mobilenet_v1(input_shape=(224, 224, 3), classes=1000, alpha=1.0, dropout=1e-3):
    stack = [
        L.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False, input_shape=input_shape,
                 name="conv1"),
        L.BatchNormalization(name="conv1_bn"),
        L.Activation(relu6, name="conv1_relu"),
    ]
    for block_id, (filters, strides) in enumerate(BLOCKS, start=1):
        stack += separable_block(filters, alpha, strides, block_id)
    stack += [
        L.GlobalAveragePooling2D(name="global_average_pooling2d"),
        L.Dropout(dropout, name="dropout"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ]
    return Sequential(stack, name=f"mobilenet_{alpha:.2f}_{input_shape[0]}")
