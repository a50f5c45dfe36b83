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
@pytest.mark.parametrize("which", ["forward", "input gradient"])
def test_a_kept_route_follows_the_record_of_choices_and_deterministic_mode(monkeypatch, which):
    """A 3x3 stride-1 layer with 16 channels has three candidates for each pass: the first call measures them,
    later calls run the choice without timing; a choice recorded over it, deterministic mode (the first candidate)
    and a forgotten record each change which candidate runs (each candidate's method notes its name when called).
    The forward: a convolution with a bias and relu (a vectorized choice runs them inside its loop, from the route
    itself); the input gradient: the transposed convolution, which runs it."""
    x, kernel, bias = _tensors((2, 10, 10, 16), (3, 3, 16, 16), True, np.float32, requires_grad=False)
    padding, case = ((1, 1), (1, 1)), Case((2, 12, 12, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1)
    names = candidates(case, which)
    assert names == ("winograd", "im2col", "vectorized")
    method = "conv_forward" if which == "forward" else "conv_input_gradient"
    ran = []
    for name in names:
        original = getattr(ALGORITHMS[name], method)

        def noted(*arguments, name=name, original=original, **keywords):
            ran.append(name)
            return original(*arguments, **keywords)
        monkeypatch.setattr(ALGORITHMS[name], method, noted)

    def runs():
        ran.clear()
        if which == "forward":
            convolution(x, kernel, (1, 1), (1, 1), bias=bias, activation="relu", padding=padding)
        else:
            transposed_convolution(x, kernel, (2, 10, 10, 16), (1, 1), (1, 1), bias=bias, activation="sigmoid",
                                   padding=padding)
        return ran[:]

    assert sorted(set(runs())) == sorted(names)  # the first call measures every candidate
    assert runs() == [measured.chosen(which, case)]
    for recorded in ("vectorized", "im2col", "vectorized"):
        measured.record({(which, case): recorded})
        assert runs() == [recorded]
    runtime.use_deterministic_algorithms(True)
    assert runs() == ["winograd"]
    runtime.use_deterministic_algorithms(False)
    assert runs() == ["vectorized"]
    measured.forget_measured()
    assert sorted(set(runs())) == sorted(names)  # measured again
