"""keras.io's "Simple MNIST convnet" (fchollet), its code as published with `import keras` changed to
`import striate as keras` (and `from keras import layers` to `from striate import layers`), run on a subset.

Every call resolves: keras.datasets.mnist.load_data, keras.utils.to_categorical, keras.Sequential with
keras.Input first, layers.Conv2D / MaxPooling2D / Flatten / Dropout / Dense, summary, compile, fit with
validation_split, evaluate. The results are checked against the same quantities computed by hand from the
model's predictions.
"""

import io
from contextlib import redirect_stdout

import numpy as np

import striate as keras
from striate import layers


def simple_mnist_convnet(train_count, test_count, epochs):
    """The keras.io example, unchanged but for the subset and the number of epochs."""
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, y_train, x_test, y_test = x_train[:train_count], y_train[:train_count], x_test[:test_count], \
        y_test[:test_count]

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.summary()

    batch_size = 128
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=0)

    score = model.evaluate(x_test, y_test, verbose=0)
    return model, history, score, (x_test, y_test)


def test_simple_mnist_convnet_runs_with_striate_as_keras():
    keras.utils.set_random_seed(0)
    printed = io.StringIO()
    with redirect_stdout(printed):
        model, history, score, (x_test, y_test) = simple_mnist_convnet(train_count=1000, test_count=200, epochs=3)

    assert "Total params: 34,826" in printed.getvalue()  # the count keras.io's summary shows
    assert [layer.output_shape for layer in model.layers][:4] == [(None, 26, 26, 32), (None, 13, 13, 32),
                                                                 (None, 11, 11, 64), (None, 5, 5, 64)]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]

    # evaluate's loss and accuracy, written out from the predictions (Keras 3 gives them as [loss, accuracy])
    loss, accuracy = (score["loss"], score["accuracy"]) if isinstance(score, dict) else score
    probabilities = model.predict(x_test)
    expected_loss = np.mean(-np.sum(y_test * np.log(np.clip(probabilities, 1e-7, 1 - 1e-7)), axis=1))
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-4)
    assert accuracy == np.mean(probabilities.argmax(axis=1) == y_test.argmax(axis=1))
    assert accuracy > 0.5  # 900 images, 3 epochs: well above chance (0.1)
