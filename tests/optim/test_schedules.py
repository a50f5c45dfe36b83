"""Learning-rate schedules against hand-computed values and torch.optim.lr_scheduler."""

import json
import math

import pytest
import torch

from striate.optim import schedules


def torch_rates(make_scheduler, learning_rate, steps):
    """The learning rate torch uses at each of steps 0 .. steps - 1."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=learning_rate)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


HAND_COMPUTED = {
    "exponential": (schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5),
                    {0: 0.1, 5: 0.1 * math.sqrt(0.5), 10: 0.05, 25: 0.1 * 0.5**2.5}),
    "exponential_staircase": (schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True),
                              {0: 0.1, 9: 0.1, 10: 0.05, 25: 0.025}),
    "cosine": (schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1),
               {0: 1.0, 50: 0.55, 100: 0.1, 250: 0.1}),
    "cosine_to_zero": (schedules.CosineDecay(2.0, decay_steps=4),
                       {0: 2.0, 1: 1 + math.sqrt(0.5), 2: 1.0, 4: 0.0}),
    "step": (schedules.StepDecay(0.3, step_size=5), {0: 0.3, 4: 0.3, 5: 0.03, 12: 0.003}),
    "piecewise": (schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
                  {0: 1.0, 10: 1.0, 11: 0.5, 20: 0.5, 21: 0.1, 1000: 0.1}),
}


@pytest.mark.parametrize("case", HAND_COMPUTED)
def test_schedule_matches_hand_computed_values(case):
    schedule, expected = HAND_COMPUTED[case]
    for step, rate in expected.items():
        assert schedule(step) == pytest.approx(rate, rel=1e-14, abs=1e-15), f"step {step}"


# each schedule and the torch scheduler with the same rates over steps 0 .. 60
SAME_AS_TORCH = {
    "step": (schedules.StepDecay(0.3, step_size=7, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    "cosine": (schedules.CosineDecay(0.3, decay_steps=60, alpha=0.2),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=60, eta_min=0.06)),
    "exponential_per_step": (schedules.ExponentialDecay(0.3, decay_steps=1, decay_rate=0.95),
                             lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.95)),
}


@pytest.mark.parametrize("case", SAME_AS_TORCH)
def test_schedule_equals_torch_scheduler(case):
    schedule, make_scheduler = SAME_AS_TORCH[case]
    expected = torch_rates(make_scheduler, 0.3, steps=61)
    assert [schedule(step) for step in range(61)] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", HAND_COMPUTED)
def test_config_survives_json(case):
    schedule, expected = HAND_COMPUTED[case]
    rebuilt = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
    assert type(rebuilt) is type(schedule)
    assert [rebuilt(step) for step in expected] == [schedule(step) for step in expected]


# ---- bad arguments: one test each -----------------------------------------------------------------
BAD_ARGUMENTS = {
    "negative_initial_rate": (lambda: schedules.ExponentialDecay(-0.1, 10, 0.5),
                              "ExponentialDecay: initial_learning_rate must be a finite number >= 0; "
                              "received -0.1"),
    "zero_decay_steps": (lambda: schedules.ExponentialDecay(0.1, 0, 0.5),
                         "ExponentialDecay: decay_steps must be a finite number > 0; received 0"),
    "zero_decay_rate": (lambda: schedules.ExponentialDecay(0.1, 10, 0.0),
                        "ExponentialDecay: decay_rate .* received 0.0"),
    "cosine_zero_decay_steps": (lambda: schedules.CosineDecay(0.1, 0),
                                "CosineDecay: decay_steps .* received 0"),
    "cosine_alpha_above_one": (lambda: schedules.CosineDecay(0.1, 10, alpha=1.5),
                               r"CosineDecay: alpha must be a number in \[0, 1\]; received 1.5"),
    "zero_step_size": (lambda: schedules.StepDecay(0.1, 0),
                       "StepDecay: step_size must be a positive integer; received 0"),
    "fractional_step_size": (lambda: schedules.StepDecay(0.1, 2.5), "StepDecay: step_size .* received 2.5"),
    "zero_gamma": (lambda: schedules.StepDecay(0.1, 5, gamma=0), "StepDecay: gamma .* received 0"),
    "decreasing_boundaries": (lambda: schedules.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1]),
                              r"PiecewiseConstantDecay: boundaries .* received \[20, 10\]"),
    "too_few_values": (lambda: schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5]),
                       r"PiecewiseConstantDecay: needs one value more than boundaries \(3\); received 2"),
    "negative_value": (lambda: schedules.PiecewiseConstantDecay([10], [1.0, -0.5]),
                       r"PiecewiseConstantDecay: values\[1\] .* received -0.5"),
    "unknown_class_name": (lambda: schedules.deserialize({"class_name": "OneCycle", "config": {}}),
                           "schedules.deserialize: class_name must be one of .* received {'class_name': 'OneCycle'"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
