"""Keras 3 (torch backend) as a second test oracle, beside PyTorch.

    from keras_oracle import keras, to_numpy

Importing this module selects Keras' torch backend (KERAS_BACKEND must be set before keras is first
imported) and skips the importing test module when keras is not installed; install it with
    .venv/bin/python -m pip install keras==3.15.1 h5py
"""

import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "torch"
keras = pytest.importorskip("keras", minversion="3.0",
                            reason="Keras 3 is the oracle here: .venv/bin/python -m pip install keras==3.15.1 h5py")
if keras.backend.backend() != "torch":
    raise RuntimeError(f"keras_oracle: keras was imported with the {keras.backend.backend()!r} backend before "
                       "KERAS_BACKEND=torch could be set; import keras_oracle first")


def to_numpy(value):
    """A Keras output (a torch tensor, a KerasTensor value, a list of them) as NumPy."""
    if isinstance(value, list | tuple):
        return [to_numpy(v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value))


# Keras' own variables convert through torch's __array__, which warns under NumPy 2; nothing of striate's
IGNORE_KERAS_WARNINGS = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
