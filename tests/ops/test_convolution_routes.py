"""The convolution ops' inference path and the routes they keep per case: without a graph to build (grad mode off,
or no input requiring a gradient) the output is the training forward's, bit for bit, and builds no graph; a kept
route follows the record of measured choices and deterministic mode."""

import numpy as np
import pytest

from striate.algorithms import ALGORITHMS, Case, candidates, measured
from striate.core import runtime
from striate.core.tensor import Tensor
from striate.ops import convolution, transposed_convolution

rng = np.random.default_rng(7)

# (x shape, kernel shape, strides, padding, bias, activation, dtype): forward convolutions
CASES = [
    ((2, 9, 9, 3), (3, 3, 3, 8), (1, 1), ((1, 1), (1, 1)), True, "relu", np.float32),
    ((1, 14, 14, 32), (3, 3, 32, 64), (2, 2), ((0, 1), (0, 1)), True, "relu", np.float32),
    ((3, 20, 5), (3, 5, 16), (1,), ((2, 0),), True, "tanh", np.float64),
    ((2, 7, 7, 4), (1, 1, 4, 6), (2, 2), ((0, 0), (0, 0)), False, None, np.float32),
    ((1, 10, 10, 2), (3, 3, 2, 5), (1, 1), ((1, 1), (1, 1)), True, "sigmoid", np.float32),
]


def _tensors(x_shape, kernel_shape, bias, dtype, requires_grad):
    x = Tensor(rng.standard_normal(x_shape).astype(dtype), requires_grad=requires_grad)
    kernel = Tensor(rng.standard_normal(kernel_shape).astype(dtype), requires_grad=requires_grad)
    bias_tensor = Tensor(rng.standard_normal(kernel_shape[-1]).astype(dtype), requires_grad=requires_grad)
    return x, kernel, (bias_tensor if bias else None)


@pytest.mark.parametrize("x_shape, kernel_shape, strides, padding, bias, activation, dtype", CASES)
def test_a_convolution_without_a_graph_equals_the_training_forward_bitwise(x_shape, kernel_shape, strides, padding,
                                                                             bias, activation, dtype):
    x, kernel, bias_tensor = _tensors(x_shape, kernel_shape, bias, dtype, requires_grad=True)
    dilation = (1,) * len(strides)
    trained = convolution(x, kernel, strides, dilation, bias=bias_tensor, activation=activation, padding=padding)
    assert trained.requires_grad
    with runtime.no_grad():
        inferred = convolution(x, kernel, strides, dilation, bias=bias_tensor, activation=activation,
                               padding=padding)
    constants = [Tensor(t.data) for t in (x, kernel) + ((bias_tensor,) if bias else ())]
    untracked = convolution(constants[0], constants[1], strides, dilation, bias=constants[2] if bias else None,
                            activation=activation, padding=padding)
    for result in (inferred, untracked):
        assert not result.requires_grad and result.dtype == dtype
        np.testing.assert_array_equal(result.data, trained.data)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid"])
def test_a_transposed_convolution_without_a_graph_equals_the_training_forward_bitwise(activation):
    x, kernel, bias = _tensors((2, 7, 7, 16), (3, 3, 8, 16), True, np.float32, requires_grad=True)
    arguments = dict(output_shape=(2, 14, 14, 8), strides=(2, 2), dilation=(1, 1), bias=bias, activation=activation,
                     padding=((0, 1), (0, 1)))
    trained = transposed_convolution(x, kernel, **arguments)
    with runtime.no_grad():
        inferred = transposed_convolution(x, kernel, **arguments)
    assert trained.requires_grad and not inferred.requires_grad
    np.testing.assert_array_equal(inferred.data, trained.data)


@pytest.fixture
def empty_record():
    measured.forget_measured()
    yield
    measured.forget_measured()
    runtime.use_deterministic_algorithms(False)


@pytest.mark.usefixtures("empty_record")
def test_a_kept_route_follows_the_record_of_choices_and_deterministic_mode(monkeypatch):
    """A 3x3 stride-1 layer with 16 channels has three candidates: the first call measures them, later calls run
    the choice without timing. With a bias and relu the route runs a vectorized choice itself (the bias and relu in
    its loop); a choice recorded over it, deterministic mode (Winograd, the first candidate) and a forgotten record
    each change which candidate runs (each candidate's conv_forward notes its name when called)."""
    x, kernel, bias = _tensors((2, 10, 10, 16), (3, 3, 16, 16), True, np.float32, requires_grad=False)
    padding, case = ((1, 1), (1, 1)), Case((2, 12, 12, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1)
    names = candidates(case, "forward")
    assert names == ("winograd", "im2col", "vectorized")
    ran = []
    for name in names:
        def noted(*arguments, name=name, forward=ALGORITHMS[name].conv_forward, **keywords):
            ran.append(name)
            return forward(*arguments, **keywords)
        monkeypatch.setattr(ALGORITHMS[name], "conv_forward", noted)

    def runs():
        ran.clear()
        convolution(x, kernel, (1, 1), (1, 1), bias=bias, activation="relu", padding=padding)
        return ran[:]

    assert sorted(set(runs())) == sorted(names)  # the first call measures every candidate
    assert runs() == [measured.chosen("forward", case)]
    for recorded in ("vectorized", "im2col", "vectorized"):
        measured.record({("forward", case): recorded})
        assert runs() == [recorded]
    runtime.use_deterministic_algorithms(True)
    assert runs() == ["winograd"]
    runtime.use_deterministic_algorithms(False)
    assert runs() == ["vectorized"]
    measured.forget_measured()
    assert sorted(set(runs())) == sorted(names)  # measured again


@pytest.mark.usefixtures("empty_record")
def test_a_kept_transposed_route_follows_the_record_of_choices_and_deterministic_mode(monkeypatch):
    """A transposed convolution runs the matching convolution's input gradient: "auto" measures the candidates for
    that pass at the first call, later calls run the choice alone, and a recorded choice, deterministic mode and a
    forgotten record each change which candidate runs."""
    x, kernel, bias = _tensors((2, 10, 10, 16), (3, 3, 16, 16), True, np.float32, requires_grad=False)
    padding, case = ((1, 1), (1, 1)), Case((2, 12, 12, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1)
    names = candidates(case, "input gradient")
    assert len(names) == 3
    ran = []
    for name in names:
        def noted(*arguments, name=name, gradient=ALGORITHMS[name].conv_input_gradient, **keywords):
            ran.append(name)
            return gradient(*arguments, **keywords)
        monkeypatch.setattr(ALGORITHMS[name], "conv_input_gradient", noted)

    def runs():
        ran.clear()
        transposed_convolution(x, kernel, (2, 10, 10, 16), (1, 1), (1, 1), bias=bias, activation="sigmoid",
                               padding=padding)
        return ran[:]

    assert sorted(set(runs())) == sorted(names)
    assert runs() == [measured.chosen("input gradient", case)]
    for recorded in ("vectorized", "im2col", "vectorized"):
        measured.record({("input gradient", case): recorded})
        assert runs() == [recorded]
    runtime.use_deterministic_algorithms(True)
    assert runs() == [names[0]]
    runtime.use_deterministic_algorithms(False)
    assert runs() == ["vectorized"]
    measured.forget_measured()
    assert sorted(set(runs())) == sorted(names)
