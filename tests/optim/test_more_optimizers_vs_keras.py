"""Ftrl, Lamb, Adafactor, Muon and ScheduleFreeAdamW against keras.optimizers (torch backend) with the same
gradients, several steps, in float64 as tests/optim/test_optimizers_vs_keras.py does (learning rates float32
holds exactly); their configs; and worked steps."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import numpy as np
import pytest
import torch

import striate
from striate import optimizers
from striate.optim import schedules
from striate.optim.muon import newton_schulz
from test_optimizers_vs_keras import assert_steps_equal_keras
from test_optimizers_vs_keras import random_gradients as random_gradients_of

pytestmark = IGNORE_KERAS_WARNINGS
SHAPES = [(3, 4), (5,), (2, 1, 3), (2, 3, 4)]

# name: (striate optimizer, Keras optimizer), the same arguments
SAME_AS_KERAS = {
    "ftrl": (lambda: optimizers.Ftrl(0.125), lambda: keras.optimizers.Ftrl(0.125)),
    "ftrl_regularized": (
        lambda: optimizers.Ftrl(0.25, learning_rate_power=-0.75, initial_accumulator_value=0.5,
                                l1_regularization_strength=0.01, l2_regularization_strength=0.125,
                                l2_shrinkage_regularization_strength=0.0625, beta=0.5),
        lambda: keras.optimizers.Ftrl(0.25, learning_rate_power=-0.75, initial_accumulator_value=0.5,
                                      l1_regularization_strength=0.01, l2_regularization_strength=0.125,
                                      l2_shrinkage_regularization_strength=0.0625, beta=0.5)),
    "ftrl_l1_zeroes": (lambda: optimizers.Ftrl(0.5, l1_regularization_strength=2.0),
                       lambda: keras.optimizers.Ftrl(0.5, l1_regularization_strength=2.0)),
    "lamb": (lambda: optimizers.Lamb(0.0625), lambda: keras.optimizers.Lamb(0.0625)),
    "lamb_decay_clip": (lambda: optimizers.Lamb(0.03125, beta_1=0.5, epsilon=1e-3, weight_decay=0.1, clipnorm=0.5),
                        lambda: keras.optimizers.Lamb(0.03125, beta_1=0.5, epsilon=1e-3, weight_decay=0.1,
                                                      clipnorm=0.5)),
    "adafactor": (lambda: optimizers.Adafactor(0.0625), lambda: keras.optimizers.Adafactor(0.0625)),
    "adafactor_large_lr": (lambda: optimizers.Adafactor(1.0, beta_2_decay=-0.5, clip_threshold=0.5),
                           lambda: keras.optimizers.Adafactor(1.0, beta_2_decay=-0.5, clip_threshold=0.5)),
    "muon": (lambda: optimizers.Muon(0.0625), lambda: keras.optimizers.Muon(0.0625)),
    "muon_plain": (lambda: optimizers.Muon(0.125, nesterov=False, rms_rate=None, weight_decay=0.125, momentum=0.5,
                                           adam_weight_decay=None, adam_lr_ratio=0.5, ns_steps=3),
                   lambda: keras.optimizers.Muon(0.125, nesterov=False, rms_rate=None, weight_decay=0.125, momentum=0.5,
                                                 adam_weight_decay=None, adam_lr_ratio=0.5, ns_steps=3)),
    "schedule_free_adamw_config": (lambda: optimizers.ScheduleFreeAdamW(0.01, warmup_steps=10),
                                   lambda: keras.optimizers.ScheduleFreeAdamW(0.01, warmup_steps=10)),
    "adafactor_schedule": (
        lambda: optimizers.Adafactor(schedules.ExponentialDecay(0.5, 2, 0.5), epsilon_2=0.5, relative_step=False),
        lambda: keras.optimizers.Adafactor(keras.optimizers.schedules.ExponentialDecay(0.5, 2, 0.5), epsilon_2=0.5,
                                           relative_step=False)),
}


def random_gradients(seed):
    """STEPS lists of gradients, one per shape of SHAPES."""
    return random_gradients_of(seed, SHAPES)


@pytest.mark.parametrize("case", [case for case in SAME_AS_KERAS if not case.startswith("schedule_free")])
def test_optimizer_equals_keras_step_by_step(case):
    assert_steps_equal_keras(*SAME_AS_KERAS[case], shapes=SHAPES)


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_config_is_keras_config(case):
    make_striate, make_keras = SAME_AS_KERAS[case]
    ours, theirs = make_striate().get_config(), make_keras().get_config()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if key == "name":
            assert ours[key] == value.rsplit("_", 1)[0] if value[-1].isdigit() else value
        elif isinstance(value, dict):  # a schedule
            assert ours[key]["class_name"] == value["class_name"]
            assert ours[key]["config"] == pytest.approx(value["config"])
        elif isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert ours[key] == value, key
    rebuilt = type(make_striate()).from_config(ours)
    assert rebuilt.get_config() == ours


def test_state_round_trip_resumes_exactly():
    gradients = random_gradients(seed=4)
    for make in (lambda: optimizers.Adafactor(0.5), lambda: optimizers.Ftrl(0.5), lambda: optimizers.Lamb(0.5),
                 lambda: optimizers.ScheduleFreeAdamW(0.5), lambda: optimizers.Muon(0.5)):
        first, second = make(), make()
        a = [striate.Tensor(np.ones(shape)) for shape in SHAPES]
        b = [striate.Tensor(np.ones(shape)) for shape in SHAPES]
        for step, batch in enumerate(gradients):
            for parameter, gradient in zip(a, batch, strict=True):
                parameter.grad = gradient
            first.apply_gradients(a)
            if step == 2:
                second.set_state(first.get_state())
                for x, y in zip(a, b, strict=True):
                    y.data[...] = x.data
            elif step > 2:
                for parameter, gradient in zip(b, batch, strict=True):
                    parameter.grad = gradient
                second.apply_gradients(b)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x.data, y.data)


SCHEDULE_FREE = {
    "default": {}, "warmup_decay": dict(warmup_steps=3, weight_decay=0.125, beta_1=0.75, clipvalue=1.0),
}


@pytest.mark.parametrize("case", SCHEDULE_FREE)
def test_schedule_free_adamw_first_step_equals_keras(case):
    # from the second step on, Keras' torch backend recovers x from the new z (its old-z reference is
    # updated in place): the first step is where the two rules must agree
    arguments = SCHEDULE_FREE[case]
    initial, gradients = [np.ones(shape) * 0.5 for shape in SHAPES], random_gradients(seed=5)[0]
    parameters = [striate.Tensor(value.copy()) for value in initial]
    variables = [keras.Variable(value.copy(), dtype="float64") for value in initial]
    for parameter, gradient in zip(parameters, gradients, strict=True):
        parameter.grad = gradient
    optimizers.ScheduleFreeAdamW(0.0625, **arguments).apply_gradients(parameters)
    keras.optimizers.ScheduleFreeAdamW(0.0625, **arguments).apply([torch.from_numpy(g) for g in gradients], variables)
    for parameter, variable in zip(parameters, variables, strict=True):
        np.testing.assert_allclose(parameter.data, to_numpy(variable), rtol=1e-7, atol=1e-7)


def test_schedule_free_adamw_follows_the_paper_over_steps():
    # Defazio et al. 2024 with the average x kept explicitly (striate recovers it from y and z):
    # z <- z - lr g(y) / (sqrt(v_hat) + eps), x <- mean of the z's so far, y = (1 - b1) z + b1 x
    lr, beta_1, beta_2, epsilon = 0.0625, 0.9, 0.999, 1e-8
    rng = np.random.default_rng(1)
    initial = [rng.normal(size=shape) for shape in SHAPES]
    optimizer = optimizers.ScheduleFreeAdamW(lr, warmup_steps=2)
    parameters = [striate.Tensor(value.copy()) for value in initial]
    z, x = [value.copy() for value in initial], [None] * len(SHAPES)
    v = [np.zeros(shape) for shape in SHAPES]
    for t, gradients in enumerate(random_gradients(seed=2), start=1):
        for parameter, gradient in zip(parameters, gradients, strict=True):
            parameter.grad = gradient
        optimizer.apply_gradients(parameters)
        for i, g in enumerate(gradients):
            v[i] = beta_2 * v[i] + (1 - beta_2) * g**2
            z[i] = z[i] - lr * min(t / 2, 1.0) * g / (np.sqrt(v[i] / (1 - beta_2**t)) + epsilon)
            x[i] = z[i] if t == 1 else x[i] + (z[i] - x[i]) / t
            np.testing.assert_allclose(parameters[i].data, (1 - beta_1) * z[i] + beta_1 * x[i], rtol=1e-10,
                                       atol=1e-12, err_msg=f"step {t}")


@pytest.mark.parametrize("arguments", [dict(exclude_layers=["^dense_"]), dict(exclude_embeddings=False)])
def test_muon_sends_embeddings_and_excluded_layers_to_adamw_as_keras(arguments):
    # Keras' variable path is its name here; striate reads a Tensor's name
    names, shapes = ["kernel", "dense_kernel", "embeddings", "bias"], [(3, 4), (4, 2), (6, 3), (4,)]
    rng = np.random.default_rng(3)
    initial = [rng.normal(size=shape) for shape in shapes]
    ours, theirs = optimizers.Muon(0.0625, **arguments), keras.optimizers.Muon(0.0625, **arguments)
    parameters = [striate.Tensor(value.copy()) for value in initial]
    for parameter, name in zip(parameters, names, strict=True):
        parameter.name = name
    variables = [keras.Variable(value.copy(), dtype="float64", name=name) for value, name in zip(initial, names)]
    for _ in range(3):
        gradients = [rng.normal(size=shape) for shape in shapes]
        for parameter, gradient in zip(parameters, gradients, strict=True):
            parameter.grad = gradient
        ours.apply_gradients(parameters)
        theirs.apply([torch.from_numpy(g) for g in gradients], variables)
        for parameter, variable in zip(parameters, variables, strict=True):
            np.testing.assert_allclose(parameter.data, to_numpy(variable), rtol=1e-7, atol=1e-7)
    assert [ours.uses_adamw(p) for p in parameters] == [False, "exclude_layers" in arguments,
                                                        "exclude_layers" in arguments, True]


def test_newton_schulz_approaches_the_orthogonal_factor():
    # the quintic iteration (tuned for speed, not convergence) leaves the singular values near 1 (0.7 .. 1.2),
    # with the singular vectors of the input: U diag(s') V^T
    x = np.random.default_rng(0).normal(size=(6, 4))
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    result = newton_schulz(x, steps=5)
    s = np.diag(u.T @ result @ vt.T)
    np.testing.assert_allclose(u @ np.diag(s) @ vt, result, atol=1e-10)
    assert np.all((s > 0.6) & (s < 1.25))


def test_multi_optimizer_routes_weights_by_name_as_keras():
    names, shapes = ["backbone_kernel", "backbone_bias", "head_kernel", "head_bias"], [(3, 4), (4,), (4, 2), (2,)]
    rng = np.random.default_rng(7)
    initial = [rng.normal(size=shape) for shape in shapes]

    def make(module):
        default, backbone, bias = module.Adam(0.0625), module.SGD(0.125, momentum=0.5), module.Lion(0.0078125)
        return module.MultiOptimizer(module.OptimizerMap(default, {"backbone_.*": backbone, "head_bias": bias}))

    ours, theirs = make(optimizers), make(keras.optimizers)
    parameters = [striate.Tensor(value.copy()) for value in initial]
    for parameter, name in zip(parameters, names, strict=True):
        parameter.name = name
    variables = [keras.Variable(value.copy(), dtype="float64", name=name) for value, name in zip(initial, names)]
    for _ in range(3):
        gradients = [rng.normal(size=shape) for shape in shapes]
        for parameter, gradient in zip(parameters, gradients, strict=True):
            parameter.grad = gradient
        ours.apply_gradients(parameters)
        theirs.apply([torch.from_numpy(g) for g in gradients], variables)
        for parameter, variable in zip(parameters, variables, strict=True):
            np.testing.assert_allclose(parameter.data, to_numpy(variable), rtol=1e-7, atol=1e-7)
    assert ours.iterations == 3 and [o.iterations for o in ours.optimizers] == [3, 3, 3]
    assert [type(o).__name__ for o in ours.optimizers] == [type(o).__name__ for o in theirs.optimizers]
    config, keras_config = ours.get_config(), theirs.get_config()
    assert set(config) == set(keras_config)
    assert config["optimizer_map"]["class_name"] == keras_config["optimizer_map"]["class_name"]
    assert set(config["optimizer_map"]["config"]) == set(keras_config["optimizer_map"]["config"])
    rebuilt = optimizers.MultiOptimizer.from_config(config)
    assert rebuilt.get_config() == config
    rebuilt.apply_gradients([striate.Tensor(np.zeros(shape)) for shape in shapes])  # no gradients: no step
    rebuilt.set_state(ours.get_state())
    assert [o.iterations for o in rebuilt.optimizers] == [3, 3, 3]


def test_optimizer_map_refuses_two_matching_patterns():
    optimizer_map = optimizers.OptimizerMap(optimizers.Adam(), {"a.*": optimizers.SGD(), ".*b": optimizers.SGD()})
    assert optimizer_map["ac"] is optimizer_map["a.*"] and optimizer_map["zz"] is optimizer_map.default_optimizer
    with pytest.raises(ValueError, match=r"OptimizerMap: the weight 'ab' matches several patterns"):
        optimizer_map["ab"]


def test_ftrl_worked_step():
    # w = 0, g = 2, n = 0.1, lr = 1, l1 = 1: n' = 4.1, z = 2 - (sqrt(4.1) - sqrt(0.1)) * 0 = 2,
    # w = (clip(2, -1, 1) - 2) / sqrt(4.1) = -1 / sqrt(4.1)
    parameter = striate.Tensor(np.zeros(1))
    parameter.grad = np.array([2.0])
    optimizers.Ftrl(1.0, l1_regularization_strength=1.0).apply_gradients([parameter])
    np.testing.assert_allclose(parameter.data, [-1 / np.sqrt(4.1)])


def test_lamb_step_has_the_weight_norm_times_lr():
    # the trust ratio rescales the step r to length ||p||: with lr 0.1 the weights move by 0.1 ||p||
    parameter = striate.Tensor(np.array([3.0, 4.0]))
    parameter.grad = np.array([1.0, -2.0])
    optimizers.Lamb(0.1).apply_gradients([parameter])
    assert np.linalg.norm(parameter.data - [3.0, 4.0]) == pytest.approx(0.5, rel=1e-9)


BAD_ARGUMENTS = {
    "ftrl_power": (lambda: optimizers.Ftrl(learning_rate_power=0.5), "Ftrl: learning_rate_power must be <= 0"),
    "ftrl_l1": (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0), "Ftrl: l1_regularization_strength must"),
    "lamb_beta": (lambda: optimizers.Lamb(beta_1=1.0), r"Lamb: beta_1 must be a number in \[0, 1\)"),
    "adafactor_decay": (lambda: optimizers.Adafactor(beta_2_decay=0.8), "Adafactor: beta_2_decay must be <= 0"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
