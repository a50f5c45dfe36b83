"""Spoken digits (FSDD, 13 MFCCs per frame): a 1D CNN over the frames and an LSTM, compared.

    python -m striate.examples.spoken_digits        # or: striate example spoken_digits

Both read the same standardized MFCC frames. The CNN sees a fixed window (recordings padded or cut to
`frames` frames) and pools over time; the LSTM reads each recording's real frames only (Masking marks the
padding). Held-out: 600 recordings (60 per digit) of the seeded split in striate.datasets.spoken_digits.
"""

import sys

import numpy as np

import striate
from striate import layers as L
from striate.datasets import spoken_digits
from striate.examples import run_main, standard_parser, train_classifier

FRAMES = 48  # 96% of the recordings are shorter; longer ones are cut at the end


def prepare(recordings, mean, std, frames=FRAMES):
    """Standardize each coefficient and pad (after the speech) with zeros to (N, frames, 13)."""
    scaled = [(r - mean) / std for r in recordings]
    return L.pad_sequences(scaled, maxlen=frames, dtype="float32", padding="post", truncating="post")


def cnn(frames=FRAMES):
    return striate.Sequential([
        L.Conv1D(32, 5, padding="same", activation="relu", input_shape=(frames, 13)),
        L.MaxPooling1D(2),
        L.Conv1D(64, 3, padding="same", activation="relu"),
        L.GlobalMaxPooling1D(),  # max over the time axis: (N, T, C) -> (N, C)
        L.Dropout(0.3),
        L.Dense(10, activation="softmax"),
    ])


def lstm(frames=FRAMES):
    return striate.Sequential([
        L.Masking(0.0, input_shape=(frames, 13)),
        L.LSTM(64),
        L.Dense(10, activation="softmax"),
    ])


def run(epochs=15, seed=0, quick=False, verbose=1):
    """Train both models; returns their held-out accuracies and training seconds."""
    (x_train, y_train), (x_test, y_test) = spoken_digits.load_data()
    if quick:
        x_train, y_train, x_test, y_test = x_train[::8], y_train[::8], x_test[::4], y_test[::4]
    frames = np.concatenate(x_train)
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    train, test = prepare(x_train, mean, std), prepare(x_test, mean, std)
    results = {"train_recordings": len(train), "test_recordings": len(test)}
    for name, make in (("cnn", cnn), ("lstm", lstm)):
        striate.set_random_seed(seed)
        accuracy, seconds = train_classifier(make(), 0.003, (train, y_train), (test, y_test), epochs, verbose)
        results[f"{name}_test_accuracy"], results[f"{name}_seconds"] = accuracy, seconds
    return results


def main(argv=None):
    return run_main(standard_parser("spoken_digits", epochs=15), run, argv)


if __name__ == "__main__":
    sys.exit(main())
