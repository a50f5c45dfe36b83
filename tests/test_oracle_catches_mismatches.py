"""The oracles themselves: a wrong forward value or a wrong gradient must fail the check.

These use deliberately wrong references built from torch or NumPy, so a silent oracle (one that compares
nothing) can't make the whole suite pass.
"""

import numpy as np
import pytest
import torch

import striate.functional as F
from oracle import check_against_torch, check_finite_differences
from striate import Tensor


def x_data():
    return np.random.default_rng(0).uniform(0.5, 1.5, (3, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_check_against_torch_fails_on_a_wrong_forward_value(dtype):
    with pytest.raises(AssertionError, match="forward output"):
        check_against_torch(F.exp, lambda x: torch.exp(x) * (1 + 1e-3), [x_data()], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_check_against_torch_fails_on_a_wrong_gradient_with_the_right_forward_value(dtype):
    def same_value_other_gradient(x):
        return torch.exp(x) + (x - x.detach()) * 0.5

    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_against_torch(F.exp, same_value_other_gradient, [x_data()], dtype)


def test_check_against_torch_fails_on_a_wrong_output_shape():
    with pytest.raises(AssertionError, match="shape"):
        check_against_torch(F.exp, lambda x: torch.exp(x).T, [x_data()])


def test_check_against_torch_fails_when_float32_inputs_give_float64():
    with pytest.raises(AssertionError, match="dtype"):
        check_against_torch(lambda x: x * np.ones(4), lambda x: x * 1.0, [x_data()], np.float32)


def test_check_against_torch_compares_the_second_input_gradient_too():
    def wrong_in_b(a, b):
        return a * b + (b - b.detach())

    data = [x_data(), x_data() + 1]
    with pytest.raises(AssertionError, match="gradient of input 1"):
        check_against_torch(lambda a, b: a * b, wrong_in_b, data)


def test_check_finite_differences_fails_on_a_wrong_gradient():
    def double_gradient(x):
        # forward x * x; a custom op would be needed to fake the gradient, so scale the function instead:
        # the check must notice that the analytic gradient of 2 x^2 is not that of the objective it probes
        return x * x * 2.0 if isinstance(x, Tensor) and x.requires_grad else x * x

    with pytest.raises(AssertionError, match="central differences"):
        check_finite_differences(double_gradient, [x_data()])
