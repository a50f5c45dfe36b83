"""Model files crafted as someone editing one would: with the `safetensors` package and the digest recomputed.

The digest is written out here from save_model's description (striate.models.saving), not imported, so a
crafted file passes it and only the loader's own checks can stop it.
"""

import hashlib
import json

import numpy as np
import safetensors
import safetensors.numpy

import striate
from striate import layers as L


def saved_model(path):
    """(tensors, metadata) of a small trained functional model saved at `path`: Conv2D(2, 3) -> Flatten ->
    Dense(10), SGD with momentum after one step. Layers 0, 1, 2 are nodes 0, 1, 2; weights: conv kernel (3, 3,
    1, 2), bias (2,), dense kernel (32, 10), bias (10,)."""
    striate.set_random_seed(0)
    inputs = striate.Input((6, 6, 1))
    outputs = L.Dense(10, activation="softmax")(L.Flatten()(L.Conv2D(2, 3, activation="relu")(inputs)))
    model = striate.Model(inputs, outputs)
    model.compile(striate.optim.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((8, 6, 6, 1), dtype=np.float32), rng.integers(0, 10, 8), batch_size=8, verbose=0)
    model.save(path)
    with safetensors.safe_open(path, framework="numpy") as file:
        return {name: file.get_tensor(name) for name in file.keys()}, file.metadata()


def digest(tensors, metadata):
    """The sha256 save_model stores: every tensor's name, dtype, shape and bytes by name, then the metadata."""
    hashed = hashlib.sha256()
    for name in sorted(tensors):
        array = np.asarray(tensors[name], order="C")
        hashed.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        hashed.update(array.tobytes())
    hashed.update(json.dumps({k: v for k, v in metadata.items() if k != "sha256"}, sort_keys=True).encode())
    return hashed.hexdigest()


def write(path, tensors, metadata, architecture=None, settings=None):
    """Write a model file as a crafter would: edited architecture / compile settings, the digest recomputed."""
    metadata = dict(metadata)
    if architecture is not None:
        metadata["architecture"] = json.dumps(architecture)
    if settings is not None:
        metadata["compile"] = json.dumps(settings)
    metadata["sha256"] = digest(tensors, metadata)
    safetensors.numpy.save_file(tensors, path, metadata=metadata)
