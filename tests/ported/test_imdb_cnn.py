"""Keras' "Use Convolution1D for text classification" example (examples/imdb_cnn.py), written for Keras 3 (an
Input first instead of Embedding's removed input_length) and run with `keras` being striate, on small data.

The example's calls all resolve: Sequential.add, Input, Embedding, Dropout, Conv1D(padding="valid",
activation="relu", strides=1), GlobalMaxPooling1D, Dense, Activation, pad_sequences, compile with
binary_crossentropy and adam, fit with validation_data, evaluate. IMDB is not a package here, so the reviews
are random word indices and a review is positive when it holds the phrase (7, 8, 9), which a width-3
convolution followed by a global max finds. The same function run with Keras 3 itself gives the parameter
count and the output shapes striate must match.
"""

import numpy as np
import pytest

import striate

# set parameters: the example's, but for shorter reviews and fewer of them
max_features = 5000
maxlen = 100
batch_size = 32
embedding_dims = 50
filters = 250
kernel_size = 3
hidden_dims = 250
epochs = 2


def imdb_cnn(keras):
    """The example's model, built with `keras` (striate, or Keras 3 itself)."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(maxlen,)))
    # we start off with an efficient embedding layer which maps our vocab indices into embedding_dims dimensions
    model.add(keras.layers.Embedding(max_features, embedding_dims))
    model.add(keras.layers.Dropout(0.2))
    # we add a Convolution1D, which will learn filters word group filters of size filter_length:
    model.add(keras.layers.Conv1D(filters, kernel_size, padding="valid", activation="relu", strides=1))
    # we use max pooling:
    model.add(keras.layers.GlobalMaxPooling1D())
    # We add a vanilla hidden layer:
    model.add(keras.layers.Dense(hidden_dims))
    model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Activation("relu"))
    # We project onto a single unit output layer, and squash it with a sigmoid:
    model.add(keras.layers.Dense(1))
    model.add(keras.layers.Activation("sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def reviews(count, seed):
    """(index sequences of lengths 20..maxlen, labels): label 1 when the review holds the phrase 7 8 9."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    sequences = []
    for label in labels:
        words = list(rng.integers(10, max_features, rng.integers(20, maxlen + 1)))
        if label:
            start = rng.integers(0, len(words) - 3)
            words[start : start + 3] = [7, 8, 9]
        sequences.append(words)
    return sequences, labels


def test_the_model_has_the_parameters_and_shapes_keras_gives():
    from keras_oracle import keras

    ours, theirs = imdb_cnn(striate), imdb_cnn(keras)
    assert ours.count_params() == theirs.count_params() == 5000 * 50 + (3 * 50 + 1) * 250 + 251 * 250 + 251
    assert [layer.output_shape for layer in ours.layers] == [tuple(layer.output.shape) for layer in theirs.layers]


@pytest.mark.slow
def test_imdb_cnn_example_learns_the_phrase():
    striate.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = reviews(600, seed=1), reviews(200, seed=2)
    x_train = striate.utils.pad_sequences(x_train, maxlen=maxlen)
    x_test = striate.utils.pad_sequences(x_test, maxlen=maxlen)

    model = imdb_cnn(striate)
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test),
                        verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)

    assert history.history["loss"][-1] < history.history["loss"][0]
    probabilities = model.predict(x_test)[:, 0]
    assert accuracy == pytest.approx(np.mean((probabilities > 0.5) == y_test))
    expected_loss = -np.mean(y_test * np.log(np.clip(probabilities, 1e-7, 1 - 1e-7))
                             + (1 - y_test) * np.log(np.clip(1 - probabilities, 1e-7, 1 - 1e-7)))
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert accuracy > 0.9
