"""Constraints against keras.constraints on random weights, their configs, and names."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import numpy as np
import pytest

import striate
from striate import constraints

pytestmark = IGNORE_KERAS_WARNINGS

# name: (class name, arguments), the same for striate and Keras
SAME_AS_KERAS = {
    "max_norm": ("MaxNorm", {}),
    "max_norm_filters": ("MaxNorm", dict(max_value=1.5, axis=[0, 1, 2])),
    "non_neg": ("NonNeg", {}),
    "unit_norm": ("UnitNorm", {}),
    "unit_norm_last_axis": ("UnitNorm", dict(axis=-1)),
    "min_max_norm": ("MinMaxNorm", dict(min_value=1.0, max_value=2.0)),
    "min_max_norm_slow": ("MinMaxNorm", dict(min_value=0.5, max_value=1.0, rate=0.3, axis=[0, 1])),
}


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_projection_equals_keras(case):
    class_name, arguments = SAME_AS_KERAS[case]
    weight = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype(np.float32) * 1.5
    ours = getattr(constraints, class_name)(**arguments)(weight)
    theirs = to_numpy(getattr(keras.constraints, class_name)(**arguments)(weight))
    assert ours.shape == weight.shape and ours.dtype == weight.dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_config_round_trips_through_keras(case):
    class_name, arguments = SAME_AS_KERAS[case]
    ours, theirs = getattr(constraints, class_name)(**arguments), getattr(keras.constraints, class_name)(**arguments)
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)
    assert keras.constraints.deserialize(constraints.serialize(ours)).get_config() == theirs.get_config()
    assert constraints.deserialize(keras.constraints.serialize(theirs)).get_config() == ours.get_config()


def test_max_norm_worked_example():
    # columns (3, 4) of norm 5 and (0.3, 0.4) of norm 0.5: max_value 1 shrinks the first to (0.6, 0.8) only
    weight = np.array([[3.0, 0.3], [4.0, 0.4]])
    np.testing.assert_allclose(constraints.MaxNorm(1.0)(weight), [[0.6, 0.3], [0.8, 0.4]], rtol=1e-6)


def test_names_and_aliases_are_keras():
    assert constraints.max_norm is constraints.MaxNorm and constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm and constraints.min_max_norm is constraints.MinMaxNorm
    for name in ("max_norm", "non_neg", "unit_norm", "min_max_norm", "MaxNorm"):
        assert type(constraints.get(name)).__name__ == type(keras.constraints.get(name)).__name__
    assert constraints.get(None) is None
    assert striate.constraints.MaxNorm is constraints.MaxNorm


def test_unknown_name_raises():
    with pytest.raises(ValueError, match="constraints.get: unknown name; .* received 'positive'"):
        constraints.get("positive")
