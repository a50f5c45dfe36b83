"""scikit-learn's bundled 8x8 handwritten digits (UCI optdigits test set): 1,797 images, 10 classes.

Each pixel counts the set pixels in a 4x4 block of a 32x32 bitmap, so values are the integers 0..16
(17 levels). The file ``sklearn/datasets/data/digits.csv.gz`` is read directly from the installed
scikit-learn, without importing it; nothing is downloaded.

    from striate.datasets import digits
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train.shape, x_train.dtype        # (1438, 8, 8) float32, values 0..16
    y_train.shape, y_train.dtype        # (1438,) int64, values 0..9
"""


import numpy as np

from striate.datasets.package_data import package_file

PIP_COMMAND = "pip install scikit-learn"

_N_IMAGES = 1797


def load_data(test_fraction=0.2, seed=0):
    """Return ``((x_train, y_train), (x_test, y_test))``, a seeded split stratified by class.

    Each class sends ``round(test_fraction * class_size)`` randomly chosen images to the test set; both
    sets keep the file's order. The same ``seed`` gives the same split.

    Shape:
        x (n, 8, 8) float32 with integer values 0..16; y (n,) int64 with values 0..9.
        With the default test_fraction=0.2: 1438 train and 359 test images.

    Args:
        test_fraction: share of each class held out for testing, strictly between 0 and 1. Default 0.2.
        seed: seed for ``numpy.random.default_rng``. Default 0.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1; received {test_fraction}")
    table = np.loadtxt(_source_path(), delimiter=",", dtype=np.float32)
    if table.shape != (_N_IMAGES, 65):
        raise ValueError(f"digits.csv.gz should hold ({_N_IMAGES}, 65) values; received {table.shape}")
    images = table[:, :64].reshape(-1, 8, 8)
    labels = table[:, 64].astype(np.int64)

    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        n_test = round(test_fraction * len(members))
        is_test[rng.choice(members, size=n_test, replace=False)] = True
    return (images[~is_test], labels[~is_test]), (images[is_test], labels[is_test])


def _source_path():
    """scikit-learn's ``sklearn/datasets/data/digits.csv.gz``, found without importing scikit-learn."""
    return package_file("sklearn", "datasets", "data", "digits.csv.gz", what="the digits data set",
                        package="scikit-learn", install=PIP_COMMAND)
