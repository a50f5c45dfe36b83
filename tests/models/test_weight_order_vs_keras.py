"""A functional model lists its weights in Keras 3's order, so `set_weights(keras_model.get_weights())` works.

Keras orders a functional model's layers by their depth (the longest path to the output, deepest first) and
breaks ties by a depth-first walk from the output that takes each layer's inputs in the order given, so two
branches at the same depth come in the order they are passed to Add / Concatenate (not the order the layers
were made). The tests build the same graph in Keras and in striate, with the same layer names, and compare
the weights' names, then the predictions after copying Keras' (randomized) weights into striate.
"""

import numpy as np

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L

KL = keras.layers
pytestmark = IGNORE_KERAS_WARNINGS


def randomize(keras_model, seed=0):
    """Give every Keras weight random values (variances positive), so a swapped weight shows in the output."""
    rng = np.random.default_rng(seed)
    values = []
    for variable in keras_model.weights:
        shape = tuple(variable.shape)
        if variable.path.endswith("moving_variance"):
            values.append(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        else:
            values.append((0.3 * rng.standard_normal(shape)).astype(np.float32))
    keras_model.set_weights(values)


def assert_same_model(model, keras_model, x, atol=1e-5):
    assert [w.name for w in model.weights] == [v.path for v in keras_model.weights]
    randomize(keras_model)
    model.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(model.predict(x), to_numpy(keras_model(x, training=False)), rtol=1e-4, atol=atol)
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_two_same_shaped_branches_keep_the_order_given_to_add():
    # b is made after a but passed first: Keras lists b's weights first; swapping them changes the output
    x = np.random.default_rng(1).random((2, 6, 6, 3), dtype=np.float32)
    inputs = striate.Input((6, 6, 3))
    a = L.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    b = L.Conv2D(4, 3, padding="same", name="b")(inputs)
    model = striate.Model(inputs, L.Add(name="add")([b, a]))

    k_inputs = keras.Input((6, 6, 3))
    k_a = KL.Conv2D(4, 3, padding="same", activation="relu", name="a")(k_inputs)
    k_b = KL.Conv2D(4, 3, padding="same", name="b")(k_inputs)
    keras_model = keras.Model(k_inputs, KL.Add(name="add")([k_b, k_a]))

    assert [w.name for w in model.weights] == ["b/kernel", "b/bias", "a/kernel", "a/bias"]
    assert_same_model(model, keras_model, x)


def test_residual_block_with_projection_interleaves_branches_by_depth():
    # Keras: c1, bn1, then the projection conv c0 and c2 (same depth), then bn0 and bn2
    x = np.random.default_rng(2).random((2, 8, 8, 4), dtype=np.float32)
    inputs = striate.Input((8, 8, 4))
    y = L.Conv2D(8, 3, padding="same", use_bias=False, name="c1")(inputs)
    y = L.Activation("relu", name="relu1")(L.BatchNormalization(name="bn1")(y))
    y = L.BatchNormalization(name="bn2")(L.Conv2D(8, 3, padding="same", use_bias=False, name="c2")(y))
    s = L.BatchNormalization(name="bn0")(L.Conv2D(8, 1, use_bias=False, name="c0")(inputs))
    model = striate.Model(inputs, L.Activation("relu", name="out")(L.Add(name="add")([s, y])))

    k_inputs = keras.Input((8, 8, 4))
    k_y = KL.Conv2D(8, 3, padding="same", use_bias=False, name="c1")(k_inputs)
    k_y = KL.Activation("relu", name="relu1")(KL.BatchNormalization(name="bn1")(k_y))
    k_y = KL.BatchNormalization(name="bn2")(KL.Conv2D(8, 3, padding="same", use_bias=False, name="c2")(k_y))
    k_s = KL.BatchNormalization(name="bn0")(KL.Conv2D(8, 1, use_bias=False, name="c0")(k_inputs))
    keras_model = keras.Model(k_inputs, KL.Activation("relu", name="out")(KL.Add(name="add")([k_s, k_y])))

    assert [layer.name for layer in model.layers] == ["c1", "bn1", "relu1", "c0", "c2", "bn0", "bn2", "add", "out"]
    assert_same_model(model, keras_model, x)


def test_shared_layer_takes_its_deepest_call():
    # one Dense called on the input and on a later tensor: Keras places it at its deepest call's depth
    x = np.random.default_rng(3).random((3, 5), dtype=np.float32)
    inputs = striate.Input((5,))
    shared = L.Dense(5, name="shared")
    h = L.Dense(5, activation="tanh", name="first")(shared(inputs))
    model = striate.Model(inputs, L.Add(name="add")([shared(h), L.Dense(5, name="side")(inputs)]))

    k_inputs = keras.Input((5,))
    k_shared = KL.Dense(5, name="shared")
    k_h = KL.Dense(5, activation="tanh", name="first")(k_shared(k_inputs))
    keras_model = keras.Model(k_inputs, KL.Add(name="add")([k_shared(k_h), KL.Dense(5, name="side")(k_inputs)]))

    assert_same_model(model, keras_model, x)


# ---- the zoo's ResNet-18, built in Keras the same way (integer padding as ZeroPadding2D + "valid") ----------
def keras_conv_bn(x, filters, kernel_size, strides=1, padding=0, relu=True, name="conv"):
    if padding:
        x = KL.ZeroPadding2D(padding, name=f"{name}_pad")(x)
    x = KL.Conv2D(filters, kernel_size, strides=strides, use_bias=False, name=f"{name}_conv")(x)
    x = KL.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return KL.Activation("relu", name=f"{name}_relu")(x) if relu else x


def keras_residual_block(x, filters, strides, name):
    y = keras_conv_bn(x, filters, 3, strides=strides, padding=1, name=f"{name}_1")
    y = keras_conv_bn(y, filters, 3, padding=1, relu=False, name=f"{name}_2")
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = keras_conv_bn(x, filters, 1, strides=strides, relu=False, name=f"{name}_0")
    y = KL.Add(name=f"{name}_add")([shortcut, y])
    return KL.Activation("relu", name=f"{name}_out")(y)


def keras_resnet18(input_shape, classes):
    inputs = keras.Input(input_shape)
    x = keras_conv_bn(inputs, 64, 7, strides=2, padding=3, name="conv1")
    x = KL.ZeroPadding2D(1, name="pool1_pad")(x)
    x = KL.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, filters in enumerate((64, 128, 256, 512)):
        for index in range(2):
            strides = 2 if stage > 0 and index == 0 else 1
            x = keras_residual_block(x, filters, strides, name=f"conv{stage + 2}_block{index + 1}")
    x = KL.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, KL.Dense(classes, activation="softmax", name="predictions")(x))


def test_zoo_resnet18_takes_keras_weights():
    x = np.random.default_rng(4).random((2, 32, 32, 3), dtype=np.float32)
    model = striate.models.resnet18(input_shape=(32, 32, 3), classes=10)
    assert_same_model(model, keras_resnet18((32, 32, 3), 10), x)
