"""Keras' "Train a ResNet on the CIFAR10 dataset" example (examples/cifar10_resnet.py, ResNet v1), its code with
`keras` imports changed to `striate` ones, run on small data.

The example's calls all resolve: Conv2D with he_normal and an l2 kernel regularizer, BatchNormalization,
Activation, AveragePooling2D, Input, Flatten, Dense, layers.add, Model, Adam(learning_rate=...), and the
callbacks ModelCheckpoint(save_best_only), LearningRateScheduler and ReduceLROnPlateau. CIFAR10 is not a
package here, so the data are 32x32 colour images of four classes a small network separates (a bright square
in one quadrant, on noise). Checked: the parameter count equals Keras 3's for the same function, the
schedule's and ReduceLROnPlateau's learning rates, the best checkpoint and the scores.
"""

import numpy as np
import pytest

import striate as keras
from striate.callbacks import LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau
from striate.layers import Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Flatten, Input
from striate.models import Model
from striate.optimizers import Adam
from striate.regularizers import l2


def lr_schedule(epoch):
    """Learning Rate Schedule: reduced after 80, 120, 160, 180 epochs (the example's, unchanged)."""
    lr = 1e-3
    if epoch > 180:
        lr *= 0.5e-3
    elif epoch > 160:
        lr *= 1e-3
    elif epoch > 120:
        lr *= 1e-2
    elif epoch > 80:
        lr *= 1e-1
    print("Learning rate: ", lr)
    return lr


def resnet_layer(inputs, num_filters=16, kernel_size=3, strides=1, activation="relu", batch_normalization=True,
                 conv_first=True):
    """2D Convolution-Batch Normalization-Activation stack builder (the example's, unchanged)."""
    conv = Conv2D(num_filters, kernel_size=kernel_size, strides=strides, padding="same",
                  kernel_initializer="he_normal", kernel_regularizer=l2(1e-4))
    x = inputs
    if conv_first:
        x = conv(x)
        if batch_normalization:
            x = BatchNormalization()(x)
        if activation is not None:
            x = Activation(activation)(x)
    else:
        if batch_normalization:
            x = BatchNormalization()(x)
        if activation is not None:
            x = Activation(activation)(x)
        x = conv(x)
    return x


def resnet_v1(input_shape, depth, num_classes=10):
    """ResNet Version 1 Model builder [a] (the example's, unchanged)."""
    if (depth - 2) % 6 != 0:
        raise ValueError("depth should be 6n+2 (eg 20, 32, 44 in [a])")
    num_filters = 16
    num_res_blocks = int((depth - 2) / 6)

    inputs = Input(shape=input_shape)
    x = resnet_layer(inputs=inputs)
    for stack in range(3):
        for res_block in range(num_res_blocks):
            strides = 1
            if stack > 0 and res_block == 0:  # first layer but not first stack
                strides = 2  # downsample
            y = resnet_layer(inputs=x, num_filters=num_filters, strides=strides)
            y = resnet_layer(inputs=y, num_filters=num_filters, activation=None)
            if stack > 0 and res_block == 0:  # first layer but not first stack
                # linear projection residual shortcut connection to match changed dims
                x = resnet_layer(inputs=x, num_filters=num_filters, kernel_size=1, strides=strides, activation=None,
                                 batch_normalization=False)
            x = keras.layers.add([x, y])
            x = Activation("relu")(x)
        num_filters *= 2

    # Add classifier on top. v1 does not use BN after last shortcut connection-ReLU
    x = AveragePooling2D(pool_size=8)(x)
    y = Flatten()(x)
    outputs = Dense(num_classes, activation="softmax", kernel_initializer="he_normal")(y)
    return Model(inputs=inputs, outputs=outputs)


def quadrant_images(count, seed):
    """(images (count, 32, 32, 3) in [0, 1], labels (count,)): a bright 12x12 square in quadrant `label`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, count)
    images = rng.random((count, 32, 32, 3), dtype=np.float32) * 0.5
    for image, label in zip(images, labels):
        top, left = 16 * (label // 2) + 2, 16 * (label % 2) + 2
        image[top : top + 12, left : left + 12] += 0.5
    return images, labels


def test_resnet20_v1_has_the_parameters_keras_counts():
    from keras_oracle import keras as real_keras

    ours = resnet_v1(input_shape=(32, 32, 3), depth=20)
    layers, regularizers = real_keras.layers, real_keras.regularizers

    def keras_layer(inputs, num_filters=16, kernel_size=3, strides=1, activation="relu", batch_normalization=True):
        x = layers.Conv2D(num_filters, kernel_size, strides=strides, padding="same", kernel_initializer="he_normal",
                          kernel_regularizer=regularizers.l2(1e-4))(inputs)
        if batch_normalization:
            x = layers.BatchNormalization()(x)
        return x if activation is None else layers.Activation(activation)(x)

    inputs = real_keras.Input(shape=(32, 32, 3))
    x, filters = keras_layer(inputs), 16
    for stack in range(3):
        for block in range(3):
            strides = 2 if stack > 0 and block == 0 else 1
            y = keras_layer(keras_layer(x, filters, strides=strides), filters, activation=None)
            if strides == 2:
                x = keras_layer(x, filters, 1, strides, activation=None, batch_normalization=False)
            x = layers.Activation("relu")(layers.add([x, y]))
        filters *= 2
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(layers.AveragePooling2D(8)(x)))
    theirs = real_keras.Model(inputs, outputs)

    assert ours.count_params() == theirs.count_params() == 274_442  # the example's "ResNet20 v1: 0.27M"
    assert len(ours.losses) == 21  # one l2 penalty per convolution
    np.testing.assert_allclose(sum(float(loss.item()) for loss in ours.losses),
                               sum(1e-4 * np.sum(w.numpy() ** 2) for w in ours.weights if w.ndim == 4), rtol=1e-5)


@pytest.mark.slow
def test_cifar10_resnet_example_trains_with_its_callbacks(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = quadrant_images(512, seed=1), quadrant_images(64, seed=2)
    # the example's preprocessing: subtract the pixel mean, one-hot labels
    x_train_mean = np.mean(x_train, axis=0)
    x_train, x_test = x_train - x_train_mean, x_test - x_train_mean
    y_train, y_test = keras.utils.to_categorical(y_train, 4), keras.utils.to_categorical(y_test, 4)

    model = resnet_v1(input_shape=x_train.shape[1:], depth=8, num_classes=4)
    model.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=lr_schedule(0)), metrics=["accuracy"])
    filepath = str(tmp_path / "cifar10_ResNet8v1_model.{epoch:03d}.keras")
    checkpoint = ModelCheckpoint(filepath=filepath, monitor="val_accuracy", verbose=1, save_best_only=True)
    lr_scheduler = LearningRateScheduler(lr_schedule)
    lr_reducer = ReduceLROnPlateau(factor=np.sqrt(0.1), cooldown=0, patience=5, min_lr=0.5e-6)
    history = model.fit(x_train, y_train, batch_size=32, epochs=6, validation_data=(x_test, y_test), shuffle=True,
                        callbacks=[checkpoint, lr_reducer, lr_scheduler], verbose=0)
    scores = model.evaluate(x_test, y_test, verbose=0)

    assert "Learning rate:  0.001" in capsys.readouterr().out
    np.testing.assert_allclose(history.history["learning_rate"], [1e-3] * 6, rtol=1e-6)  # the schedule's first 80
    best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
    assert (tmp_path / f"cifar10_ResNet8v1_model.{best_epoch:03d}.keras").exists()
    probabilities = model.predict(x_test)
    assert scores[1] == pytest.approx(np.mean(probabilities.argmax(1) == y_test.argmax(1)))
    assert scores[1] > 0.9  # four classes: chance is 0.25
