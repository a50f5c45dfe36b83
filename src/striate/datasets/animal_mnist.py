"""Animal-MNIST: 10,000 28x28 grayscale animal silhouettes in 10 classes of 1,000, in MNIST's format.

The arrays are read from the installed package ``animal-mnist==0.4`` (files
``animal_mnist/data/Animal_MNIST/animal_{data,label}_version_3.gz``, gzipped pickles) without importing
it (it imports TensorFlow); nothing is downloaded. A pickle can run code, so these are read with an
unpickler that admits only NumPy's array reconstruction (striate.datasets.mnist.ArrayUnpickler) and
refuses anything else. The package names the animals Bear, Bird, Cat, Cow, Dog, Elephant, Giraffe,
Horse, Sheep and Zebra but does not say which label number is which, so labels stay numbers 0-9.

    from striate.datasets import animal_mnist
    (x_train, y_train), (x_test, y_test) = animal_mnist.load_data()
    x_train.shape, x_train.dtype        # (8000, 28, 28) uint8, values 0..255
    y_test.shape                        # (2000,) int64; 200 test images per class
"""

import gzip
import io
import pickle

import numpy as np

from striate.datasets.mnist import ArrayUnpickler
from striate.datasets.package_data import package_file

PIP_COMMAND = "pip install --no-deps animal-mnist==0.4"


def load_array(path):
    """The NumPy array in a gzipped pickle, read with MNIST's ArrayUnpickler (NumPy arrays only)."""
    with gzip.open(path, "rb") as file:
        array = ArrayUnpickler(io.BytesIO(file.read())).load()
    if not isinstance(array, np.ndarray):
        raise pickle.UnpicklingError(f"{path} does not hold a NumPy array; received {type(array).__name__}")
    return array


def load_data(test_fraction=0.2, seed=0):
    """Return ``((x_train, y_train), (x_test, y_test))``, a fixed split stratified by class.

    Each class sends ``round(test_fraction * 1000)`` images, drawn with ``seed``, to the test set; both
    sets keep the file's order. Default: 8,000 training and 2,000 test images.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1; received {test_fraction}")
    folder = _source_path()
    images = load_array(folder / "animal_data_version_3.gz")
    labels = load_array(folder / "animal_label_version_3.gz").astype(np.int64)
    if images.shape != (10000, 28, 28) or labels.shape != (10000,):
        raise ValueError(f"Animal-MNIST should hold (10000, 28, 28) images and (10000,) labels; received "
                         f"{images.shape} and {labels.shape}")
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for label in range(10):
        members = np.flatnonzero(labels == label)
        is_test[rng.choice(members, size=round(test_fraction * len(members)), replace=False)] = True
    return (images[~is_test], labels[~is_test]), (images[is_test], labels[is_test])


def _source_path():
    """The folder ``animal_mnist/data/Animal_MNIST`` that holds animal_data_version_3.gz (not imported)."""
    return package_file("animal_mnist", "data", "Animal_MNIST", "animal_data_version_3.gz", what="Animal-MNIST",
                        package="animal-mnist", install=PIP_COMMAND).parent
