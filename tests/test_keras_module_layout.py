"""`import striate as keras` finds Keras 3's modules and names, each the same object as striate's implementation.

The names checked are read from the installed Keras (the oracle): every Keras name whose object striate
implements must be there under Keras' name, aliases included (keras.layers.MaxPool2D is MaxPooling2D).
"""

import numpy as np
import pytest

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras
from striate.layers import initializers as layer_initializers
from striate.layers.layer import Layer
from striate.layers.recurrent import Orthogonal
from striate.training import callbacks as training_callbacks

pytestmark = IGNORE_KERAS_WARNINGS


def keras_names(module):
    return [name for name in dir(module) if not name.startswith("_")]


def test_every_keras_layer_alias_of_a_layer_striate_has_names_the_same_class():
    # group keras.layers' names by the object they name; a group with a class striate has must all be there
    groups = {}
    for name in keras_names(keras.layers):
        groups.setdefault(id(getattr(keras.layers, name)), []).append(name)
    checked = 0
    for names in groups.values():
        ours = [getattr(striate.layers, n) for n in names if isinstance(getattr(striate.layers, n, None), type)]
        if not ours or len(names) == 1:
            continue
        checked += 1
        for name in names:
            assert getattr(striate.layers, name, None) is ours[0], f"striate.layers.{name} is missing or differs"
    assert checked >= 13  # AvgPool1D/2D/3D, MaxPool1D/2D/3D, GlobalAvg/MaxPool2D, Convolution1D/2D/3D, ...
    assert striate.layers.MaxPool2D is striate.layers.MaxPooling2D
    assert striate.layers.GlobalAvgPool2D is striate.layers.GlobalAveragePooling2D


@pytest.mark.parametrize(("module", "implementation"), [
    ("optimizers", striate.optim),
    ("callbacks", training_callbacks),
    ("initializers", layer_initializers),
    ("losses", striate.losses),
])
def test_keras_module_names_striate_implements_are_reexported(module, implementation):
    ours = getattr(striate, module)
    shared = [n for n in keras_names(getattr(keras, module)) if n in keras_names(implementation)]
    assert len(shared) >= 4
    for name in shared:
        assert getattr(ours, name) is getattr(implementation, name), f"striate.{module}.{name}"


def test_initializer_aliases_follow_keras():
    for name in keras_names(keras.initializers):
        theirs = getattr(keras.initializers, name)
        if name.islower() and isinstance(theirs, type) and hasattr(striate.initializers, theirs.__name__):
            assert getattr(striate.initializers, name) is getattr(striate.initializers, theirs.__name__), name
    assert striate.initializers.orthogonal is Orthogonal


def test_activations_by_keras_name_are_the_layers_activations():
    for name in keras_names(keras.activations):
        if name in striate.layers.activations.BY_NAME:
            assert getattr(striate.activations, name) is striate.layers.activations.get(name), name
    x = striate.Tensor(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(striate.activations.relu(x).numpy(), [0.0, 2.0])


def test_keras_top_level_names_resolve():
    for module in ("layers", "models", "optimizers", "losses", "metrics", "callbacks", "initializers",
                   "activations", "utils", "datasets"):
        assert hasattr(keras, module) and hasattr(striate, module), module
    for name in ("Input", "Sequential", "Model"):
        assert getattr(striate, name) is getattr(striate.models, name)
    for name in ("Sequential", "Model", "load_model", "clone_model", "model_from_json"):
        assert hasattr(keras.models, name) and callable(getattr(striate.models, name)), name
    for name in ("to_categorical", "pad_sequences", "set_random_seed"):
        assert hasattr(keras.utils, name) and callable(getattr(striate.utils, name)), name
    assert striate.utils.set_random_seed is striate.set_random_seed
    assert striate.utils.pad_sequences is striate.layers.pad_sequences
    assert callable(striate.datasets.mnist.load_data)


@pytest.mark.parametrize(("labels", "num_classes"), [
    ([0, 2, 1, 2], None), ([3, 0], 5), ([[1], [0], [2]], None), ([[0, 1], [2, 2]], 4), (np.array([1.0, 0.0]), 3),
])
def test_to_categorical_matches_keras(labels, num_classes):
    ours = striate.utils.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


def test_sequential_starting_with_input_is_built_like_keras():
    ours = striate.Sequential([striate.Input(shape=(28, 28, 1)), striate.layers.Conv2D(8, 3),
                               striate.layers.MaxPool2D(), striate.layers.Flatten(), striate.layers.Dense(10)])
    theirs = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(8, 3),
                               keras.layers.MaxPool2D(), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert ours.built
    assert all(isinstance(layer, Layer) for layer in ours.layers)
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert ours.output_shape == theirs.output_shape
