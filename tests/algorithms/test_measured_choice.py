"""algorithm="auto" where the table names several candidates: each is timed once on the case, the fastest is kept,
and its result is the direct definition's."""

import numpy as np
import pytest

from striate.algorithms import (
    ALGORITHMS,
    WINOGRAD_OR_IM2COL,
    Case,
    algorithm_module,
    auto,
    candidates,
    choose,
    measured,
)
from striate.algorithms.direct import conv_forward as direct_forward


@pytest.fixture(autouse=True)
def empty_record():
    measured.forget_measured()
    yield
    measured.forget_measured()


class FakeClock:
    """perf_counter for measured.run: each candidate's call advances it by that candidate's cost."""

    def __init__(self, costs):
        self.now, self.costs, self.calls = 0.0, costs, []

    def perf_counter(self):
        return self.now

    def call(self, name):
        self.calls.append(name)
        self.now += self.costs[name]
        return f"result of {name}"


def test_the_fastest_candidate_is_kept_and_later_calls_run_it_alone(monkeypatch):
    clock = FakeClock({"winograd": 3.0, "im2col": 1.0})
    monkeypatch.setattr(measured.time, "perf_counter", clock.perf_counter)
    case = Case((2, 10, 10, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1)
    assert choose(case, "forward") == "winograd"  # the first candidate until measured
    assert measured.run(("forward",), case, WINOGRAD_OR_IM2COL, clock.call) == "result of im2col"
    assert clock.calls == ["winograd", "im2col"] + ["winograd", "im2col"] * measured.ROUNDS  # warm-ups, then timed
    assert choose(case, "forward") == "im2col"
    assert measured.run(("forward",), case, WINOGRAD_OR_IM2COL, clock.call) == "result of im2col"
    assert clock.calls[2 + 2 * measured.ROUNDS:] == ["im2col"]


def test_both_gradients_timed_together_are_recorded_for_both_passes(monkeypatch):
    clock = FakeClock({"winograd": 1.0, "im2col": 2.0})
    monkeypatch.setattr(measured.time, "perf_counter", clock.perf_counter)
    case = Case((2, 10, 10, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1)
    measured.run(("input gradient", "kernel gradient"), case, WINOGRAD_OR_IM2COL, clock.call)
    assert measured.measured_choices() == {("input gradient", case): "winograd", ("kernel gradient", case): "winograd"}
    measured.forget_measured()
    assert measured.measured_choices() == {}


def test_a_measured_layer_through_auto_equals_direct_and_records_one_of_the_candidates():
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal((2, 9, 11, 16)), rng.standard_normal((3, 3, 16, 16))
    padding = ((1, 1), (1, 1))
    case = Case((2, 11, 13, 16), kernel.shape, (1, 1), (1, 1), 1)
    module = algorithm_module("auto", case)
    assert candidates(case, "forward") == ("winograd", "im2col", "vectorized")  # 16 output channels: vectorized too
    assert module.PADS_WITH_ZEROS  # all three take the padding themselves
    y = module.conv_forward(x, kernel, (1, 1), (1, 1), 1, padding=padding)
    expected = direct_forward(np.pad(x, ((0, 0), *padding, (0, 0))), kernel, (1, 1), (1, 1), 1)
    np.testing.assert_allclose(y, expected, rtol=1e-9, atol=1e-9)
    assert measured.chosen("forward", case) in candidates(case, "forward")
    again = module.conv_forward(x, kernel, (1, 1), (1, 1), 1, padding=padding)
    np.testing.assert_array_equal(again, y)  # the recorded algorithm, the same values


def test_gradients_through_auto_match_the_chosen_algorithm_run_alone():
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((2, 10, 10, 16)), rng.standard_normal((3, 3, 16, 24))
    grad_output = rng.standard_normal((2, 8, 8, 24))
    grad_x, grad_kernel = auto.conv_gradients(x, grad_output, kernel, (1, 1), (1, 1), 1)
    case = Case(x.shape, kernel.shape, (1, 1), (1, 1), 1)
    chosen = ALGORITHMS[measured.chosen("input gradient", case)]
    assert measured.chosen("kernel gradient", case) == measured.chosen("input gradient", case)
    np.testing.assert_array_equal(grad_x, chosen.conv_input_gradient(grad_output, kernel, x.shape, (1, 1), (1, 1), 1))
    np.testing.assert_allclose(grad_kernel, chosen.conv_kernel_gradient(x, grad_output, kernel.shape, (1, 1), (1, 1),
                                                                        1), rtol=1e-12)


@pytest.mark.parametrize(("case", "timed"), [
    # Winograd computes both gradients together: the pair is timed as one
    (Case((2, 10, 10, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1), [("input gradient", "kernel gradient")]),
    # toeplitz and vectorized (LeNet's second layer): each pass on its own, so the two may differ
    (Case((2, 14, 14, 6), (5, 5, 6, 16), (1, 1), (1, 1), 1), [("input gradient",), ("kernel gradient",)]),
])
def test_both_gradients_are_timed_together_only_where_a_candidate_computes_them_together(monkeypatch, case, timed):
    passes_timed = []

    def run(passes, case, names, call):
        passes_timed.append(passes)
        return call(names[0])

    monkeypatch.setattr(measured, "run", run)
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal(case.input_shape), rng.standard_normal(case.kernel_shape)
    grad_output = rng.standard_normal((2, *(n - k + 1 for n, k in zip(x.shape[1:3], kernel.shape[:2])),
                                       kernel.shape[-1]))
    auto.conv_gradients(x, grad_output, kernel, (1, 1), (1, 1), 1)
    assert passes_timed == timed


@pytest.fixture
def deterministic_algorithms():
    from striate.core import runtime

    runtime.use_deterministic_algorithms(True)
    yield
    runtime.use_deterministic_algorithms(False)


@pytest.mark.usefixtures("deterministic_algorithms")
def test_deterministic_algorithms_run_the_first_candidate_untimed_even_after_another_was_measured(monkeypatch):
    """use_deterministic_algorithms(True): Winograd, the table's first candidate for a 3x3 stride-1 layer, on every
    pass, with nothing timed and a recorded im2col ignored, so every process computes the same values."""
    from striate.algorithms import im2col, winograd

    rng = np.random.default_rng(2)
    x, kernel = rng.standard_normal((2, 10, 10, 16)), rng.standard_normal((3, 3, 16, 16))
    grad_output = rng.standard_normal((2, 8, 8, 16))
    case = Case(x.shape, kernel.shape, (1, 1), (1, 1), 1)
    for which in ("forward", "input gradient", "kernel gradient"):
        measured._choices[(which, case)] = "im2col"
    monkeypatch.setattr(measured, "run", lambda *arguments: pytest.fail("timed a candidate"))
    assert choose(case, "forward") == "winograd"
    np.testing.assert_array_equal(auto.conv_forward(x, kernel, (1, 1), (1, 1), 1),
                                  winograd.conv_forward(x, kernel, (1, 1), (1, 1), 1))
    grad_x, grad_kernel = auto.conv_gradients(x, grad_output, kernel, (1, 1), (1, 1), 1)
    expected_x, expected_kernel = winograd.conv_gradients(x, grad_output, kernel, (1, 1), (1, 1), 1)
    np.testing.assert_array_equal(grad_x, expected_x)
    np.testing.assert_array_equal(grad_kernel, expected_kernel)
    assert not np.array_equal(grad_x, im2col.conv_input_gradient(grad_output, kernel, x.shape, (1, 1), (1, 1), 1))


def test_deterministic_algorithms_take_only_true_or_false():
    from striate.core import runtime

    with pytest.raises(TypeError, match=r"use_deterministic_algorithms: mode must be True or False; received 1"):
        runtime.use_deterministic_algorithms(1)
    assert runtime.are_deterministic_algorithms_enabled() is False


@pytest.mark.parametrize("chosen", ["toeplitz", "vectorized"])
def test_auto_takes_the_padding_and_pads_for_a_chosen_algorithm_that_does_not(chosen):
    """A one-channel 2-D layer (toeplitz, which takes no padding, and vectorized, which does): "auto" takes the
    padding either way, padding x and cropping the input gradient itself for toeplitz; every pass equals direct on
    the padded input."""
    from striate.algorithms import direct

    rng = np.random.default_rng(4)
    x, kernel = rng.standard_normal((2, 9, 10, 1)), rng.standard_normal((3, 3, 1, 8))
    padding, strides = ((1, 2), (0, 1)), (2, 1)
    padded_x = np.pad(x, ((0, 0), *padding, (0, 0)))
    case = Case(padded_x.shape, kernel.shape, strides, (1, 1), 1)
    assert set(candidates(case, "forward")) == {"toeplitz", "vectorized"}
    for which in ("forward", "input gradient", "kernel gradient"):
        measured._choices[(which, case)] = chosen
    module = algorithm_module("auto", case)
    assert module.PADS_WITH_ZEROS
    y = module.conv_forward(x, kernel, strides, (1, 1), 1, padding=padding)
    np.testing.assert_allclose(y, direct.conv_forward(padded_x, kernel, strides, (1, 1), 1), rtol=1e-9, atol=1e-9)
    grad_output = rng.standard_normal(y.shape)
    grad_x, grad_kernel = module.conv_gradients(x, grad_output, kernel, strides, (1, 1), 1, padding=padding)
    expected_x = direct.conv_input_gradient(grad_output, kernel, padded_x.shape, strides, (1, 1), 1)
    np.testing.assert_allclose(grad_x, expected_x[:, 1:10, 0:10], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(grad_kernel, direct.conv_kernel_gradient(padded_x, grad_output, kernel.shape, strides,
                                                                        (1, 1), 1), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("chosen", ["pointwise", "vectorized"])
def test_a_1x1_layer_measures_its_gemm_against_the_vectorized_loop_and_either_equals_direct(chosen):
    """A 1x1 layer (here with a stride) has two candidates for each pass, the OpenBLAS product and the vectorized
    loop; whichever is recorded, every pass equals the direct definition."""
    from striate.algorithms import direct

    rng = np.random.default_rng(5)
    x, kernel, strides = rng.standard_normal((2, 9, 10, 20)), rng.standard_normal((1, 1, 20, 24)), (2, 1)
    case = Case(x.shape, kernel.shape, strides, (1, 1), 1)
    for which in ("forward", "input gradient", "kernel gradient"):
        assert candidates(case, which) == ("pointwise", "vectorized")
        measured._choices[(which, case)] = chosen
    module = algorithm_module("auto", case)
    y = module.conv_forward(x, kernel, strides, (1, 1), 1)
    np.testing.assert_allclose(y, direct.conv_forward(x, kernel, strides, (1, 1), 1), rtol=1e-9, atol=1e-9)
    grad_output = rng.standard_normal(y.shape)
    grad_x, grad_kernel = module.conv_gradients(x, grad_output, kernel, strides, (1, 1), 1)
    np.testing.assert_allclose(grad_x, direct.conv_input_gradient(grad_output, kernel, x.shape, strides, (1, 1), 1),
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(grad_kernel, direct.conv_kernel_gradient(x, grad_output, kernel.shape, strides, (1, 1),
                                                                        1), rtol=1e-9, atol=1e-9)
