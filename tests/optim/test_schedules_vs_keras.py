"""Every learning-rate schedule against keras.optimizers.schedules over a range of steps, and its config
against Keras' config (Keras computes in float32, hence rel=1e-6)."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import json

import pytest

from striate.optim import schedules

pytestmark = IGNORE_KERAS_WARNINGS
KS = keras.optimizers.schedules
STEPS = range(0, 41)

# name: (class name, arguments), the same for striate and Keras
SAME_AS_KERAS = {
    "exponential": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5)),
    "exponential_staircase": ("ExponentialDecay",
                              dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5, staircase=True)),
    "cosine": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=30, alpha=0.1)),
    "cosine_warmup": ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=25, warmup_target=0.2,
                                          warmup_steps=10)),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[5, 12], values=[0.1, 0.05, 0.01])),
    "polynomial": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=20)),
    "polynomial_power_cycle": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=9,
                                                       end_learning_rate=0.01, power=0.5, cycle=True)),
    "inverse_time": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5)),
    "inverse_time_staircase": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5,
                                                        staircase=True)),
    "restarts": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=5)),
    "restarts_constant_period": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=6,
                                                             t_mul=1.0, m_mul=0.5, alpha=0.1)),
    "restarts_longer_periods": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4,
                                                            t_mul=3.0, m_mul=0.8)),
}


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_schedule_equals_keras(case):
    class_name, arguments = SAME_AS_KERAS[case]
    ours, theirs = getattr(schedules, class_name)(**arguments), getattr(KS, class_name)(**arguments)
    expected = [float(to_numpy(theirs(step))) for step in STEPS]
    # float32 cosines near pi are off by 1e-8 of the initial rate
    assert [ours(step) for step in STEPS] == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_config_is_keras_config_and_round_trips(case):
    class_name, arguments = SAME_AS_KERAS[case]
    ours, theirs = getattr(schedules, class_name)(**arguments), getattr(KS, class_name)(**arguments)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert list(ours_config) == list(theirs_config)
    for key, value in theirs_config.items():
        assert ours_config[key] == (value if value is None or isinstance(value, str | bool) else pytest.approx(value))
    keras_rebuilt = KS.deserialize(json.loads(json.dumps(schedules.serialize(ours))))
    striate_rebuilt = schedules.deserialize(KS.serialize(theirs))
    rebuilt_rates = [float(to_numpy(keras_rebuilt(s))) for s in STEPS]
    assert rebuilt_rates == pytest.approx([ours(s) for s in STEPS], rel=1e-6, abs=1e-8)
    assert [striate_rebuilt(s) for s in STEPS] == [ours(s) for s in STEPS]


def test_polynomial_worked_example():
    # (0.1 - 0.01) * (1 - 5 / 10)^2 + 0.01 = 0.0325; past decay_steps it stays at end_learning_rate
    schedule = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0)
    assert schedule(5) == pytest.approx(0.0325)
    assert schedule(50) == pytest.approx(0.01)


def test_restarts_worked_example():
    # first_decay_steps 4, t_mul 2: periods [0, 4), [4, 12), [12, 28); each starts at the initial rate
    schedule = schedules.CosineDecayRestarts(1.0, 4)
    assert [schedule(s) for s in (0, 2, 4, 8, 12)] == pytest.approx([1.0, 0.5, 1.0, 0.5, 1.0])


BAD_ARGUMENTS = {
    "polynomial_zero_steps": (lambda: schedules.PolynomialDecay(0.1, 0),
                              "PolynomialDecay: decay_steps must be a finite number > 0; received 0"),
    "inverse_negative_rate": (lambda: schedules.InverseTimeDecay(0.1, 10, -1.0),
                              "InverseTimeDecay: decay_rate must be a finite number >= 0; received -1.0"),
    "restarts_zero_t_mul": (lambda: schedules.CosineDecayRestarts(0.1, 10, t_mul=0),
                            "CosineDecayRestarts: t_mul must be a finite number > 0; received 0"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
