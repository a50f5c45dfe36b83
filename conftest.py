"""The names every docstring example may use without importing them (`pytest --doctest-modules`): NumPy as
np, striate, Tensor, the layers and the model classes under their Keras names; and striate's seed set to 0
before each example, so random weights are the same in every run."""

import numpy as np
import pytest
from _pytest.doctest import DoctestItem

import striate
from striate import layers, models


@pytest.fixture(autouse=True)
def doctest_names(request):
    if not isinstance(request.node, DoctestItem):
        return
    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(np=np, striate=striate, Tensor=striate.Tensor)
    namespace.update({name: getattr(layers, name) for name in layers.__all__})
    namespace.update(Sequential=models.Sequential, Model=models.Model, Input=striate.Input)
    striate.utils.set_random_seed(0)
