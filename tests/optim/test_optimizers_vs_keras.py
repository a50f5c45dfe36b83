"""Every optimizer against keras.optimizers (torch backend) with the same gradients, several steps; and
against torch.optim where the rules coincide (epsilon = 0, or PyTorch's options set to Keras' form).

Both sides run in float64 with learning rates that float32 holds exactly (Keras keeps the learning rate in
a float32 variable, and computes schedules, weight decay and clipping factors partly in float32): the
trajectories then agree to 1e-8. In float32 the two differ by a few units in the last place per step
(Keras computes Adam's lr_t in float32, striate in float64), 1e-6 after a few steps."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import re

import numpy as np
import pytest
import torch

import striate
from striate import constraints, optim
from striate.optim import schedules

from test_optimizers_vs_torch import quadratic_problem, run_striate, run_torch

pytestmark = IGNORE_KERAS_WARNINGS
STEPS = 6
SHAPES = [(3, 4), (5,), (2, 1, 3)]

# name: (striate optimizer, Keras optimizer), the same arguments
SAME_AS_KERAS = {
    "sgd_nesterov_clipnorm": (lambda: optim.SGD(0.125, momentum=0.9, nesterov=True, clipnorm=0.5),
                              lambda: keras.optimizers.SGD(0.125, momentum=0.9, nesterov=True, clipnorm=0.5)),
    "rmsprop_weight_decay": (
        lambda: optim.RMSprop(0.0078125, momentum=0.5, centered=True, weight_decay=0.1),
        lambda: keras.optimizers.RMSprop(0.0078125, momentum=0.5, centered=True, weight_decay=0.1)),
    "adam": (lambda: optim.Adam(0.0625), lambda: keras.optimizers.Adam(0.0625)),
    "adam_amsgrad": (lambda: optim.Adam(0.0625, amsgrad=True), lambda: keras.optimizers.Adam(0.0625, amsgrad=True)),
    "adam_global_clipnorm": (lambda: optim.Adam(0.0625, global_clipnorm=1.0),
                             lambda: keras.optimizers.Adam(0.0625, global_clipnorm=1.0)),
    "adamw": (lambda: optim.AdamW(0.0625), lambda: keras.optimizers.AdamW(0.0625)),
    "adamw_amsgrad_clipvalue": (lambda: optim.AdamW(0.0625, weight_decay=0.1, amsgrad=True, clipvalue=0.3),
                                lambda: keras.optimizers.AdamW(0.0625, weight_decay=0.1, amsgrad=True, clipvalue=0.3)),
    "nadam": (lambda: optim.Nadam(0.0625), lambda: keras.optimizers.Nadam(0.0625)),
    "nadam_clipnorm": (lambda: optim.Nadam(0.015625, beta_1=0.8, clipnorm=0.7),
                       lambda: keras.optimizers.Nadam(0.015625, beta_1=0.8, clipnorm=0.7)),
    "adamax": (lambda: optim.Adamax(0.0625), lambda: keras.optimizers.Adamax(0.0625)),
    "adamax_weight_decay": (lambda: optim.Adamax(0.0625, beta_2=0.9, weight_decay=0.05),
                            lambda: keras.optimizers.Adamax(0.0625, beta_2=0.9, weight_decay=0.05)),
    "adagrad": (lambda: optim.Adagrad(0.125), lambda: keras.optimizers.Adagrad(0.125)),
    "adagrad_start": (lambda: optim.Adagrad(0.125, initial_accumulator_value=1.0, epsilon=1e-3),
                      lambda: keras.optimizers.Adagrad(0.125, initial_accumulator_value=1.0, epsilon=1e-3)),
    "adadelta": (lambda: optim.Adadelta(1.0), lambda: keras.optimizers.Adadelta(1.0)),
    "adadelta_rho": (lambda: optim.Adadelta(0.5, rho=0.8, epsilon=1e-4, global_clipnorm=0.5),
                     lambda: keras.optimizers.Adadelta(0.5, rho=0.8, epsilon=1e-4, global_clipnorm=0.5)),
    "lion": (lambda: optim.Lion(0.0078125), lambda: keras.optimizers.Lion(0.0078125)),
    "lion_weight_decay": (lambda: optim.Lion(0.0078125, beta_1=0.5, beta_2=0.9, weight_decay=0.5),
                          lambda: keras.optimizers.Lion(0.0078125, beta_1=0.5, beta_2=0.9, weight_decay=0.5)),
    "adam_with_schedule": (
        lambda: optim.Adam(schedules.PolynomialDecay(0.1, 4, power=2.0)),
        lambda: keras.optimizers.Adam(keras.optimizers.schedules.PolynomialDecay(0.1, 4, power=2.0))),
    "sgd_with_restarts": (
        lambda: optim.SGD(schedules.CosineDecayRestarts(0.1, 2), momentum=0.5),
        lambda: keras.optimizers.SGD(keras.optimizers.schedules.CosineDecayRestarts(0.1, 2), momentum=0.5)),
}


def random_gradients(seed, shapes=SHAPES):
    """STEPS lists of gradients, one per shape, of a few sizes of magnitude."""
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=shape) * rng.choice([0.1, 1.0, 3.0]) for shape in shapes] for _ in range(STEPS)]


def assert_steps_equal_keras(make_striate, make_keras, shapes=SHAPES):
    """Both optimizers, from the same float64 parameters, take STEPS steps on the same random gradients: the
    parameters agree to 1e-7 after every step, and so do the step counts."""
    rng = np.random.default_rng(1)
    initial = [rng.normal(size=shape) for shape in shapes]
    ours, theirs = make_striate(), make_keras()
    parameters = [striate.Tensor(value.copy()) for value in initial]
    variables = [keras.Variable(value.copy(), dtype="float64") for value in initial]
    for step, gradients in enumerate(random_gradients(2, shapes)):
        for parameter, gradient in zip(parameters, gradients, strict=True):
            parameter.grad = gradient
        ours.apply_gradients(parameters)
        theirs.apply([torch.from_numpy(g) for g in gradients], variables)
        for parameter, variable in zip(parameters, variables, strict=True):
            np.testing.assert_allclose(parameter.data, to_numpy(variable), rtol=1e-7, atol=1e-7,
                                       err_msg=f"step {step + 1}")
    assert ours.iterations == int(to_numpy(theirs.iterations))


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_optimizer_equals_keras_step_by_step(case):
    assert_steps_equal_keras(*SAME_AS_KERAS[case])


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_config_is_keras_config(case):
    make_striate, make_keras = SAME_AS_KERAS[case]
    ours, theirs = make_striate().get_config(), make_keras().get_config()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if key == "name":
            continue  # Keras numbers repeated names (adam_1, adam_2, ...)
        if isinstance(value, dict):  # a schedule
            assert ours[key]["class_name"] == value["class_name"]
            assert ours[key]["config"] == pytest.approx(value["config"])
        elif isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert ours[key] == value, key


@pytest.mark.parametrize("case", SAME_AS_KERAS)
def test_striate_rebuilds_keras_config(case):
    make_striate, make_keras = SAME_AS_KERAS[case]
    keras_optimizer = make_keras()
    serialized = keras.optimizers.serialize(keras_optimizer)
    rebuilt = optim.deserialize(serialized)
    assert type(rebuilt) is type(make_striate())
    expected = make_striate().get_config()
    assert set(rebuilt.get_config()) == set(expected)


def test_keras_rebuilds_striate_config():
    ours = optim.AdamW(0.01, weight_decay=0.0625, amsgrad=True, clipnorm=2.0)
    theirs = keras.optimizers.deserialize(optim.serialize(ours))
    assert type(theirs).__name__ == "AdamW"
    assert (theirs.weight_decay, theirs.amsgrad, theirs.clipnorm) == (0.0625, True, 2.0)


def test_keras_names_and_default_names():
    for name in ("sgd", "adam", "adamw", "rmsprop", "nadam", "adamax", "adagrad", "adadelta", "lion"):
        ours, theirs = optim.get(name), keras.optimizers.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeated names
    assert striate.optimizers.AdamW is optim.AdamW


# ---- against torch.optim, float64, where the rules coincide --------------------------------------------
SAME_AS_TORCH = {
    "adamw": (lambda: optim.AdamW(0.01, weight_decay=0.1, epsilon=0),
              lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=0)),
    "adam_amsgrad": (lambda: optim.Adam(0.01, epsilon=0, amsgrad=True),
                     lambda p: torch.optim.Adam(p, lr=0.01, eps=0, amsgrad=True)),
    "nadam": (lambda: optim.Nadam(0.01, epsilon=0),
              lambda p: torch.optim.NAdam(p, lr=0.01, eps=0, momentum_decay=1.0)),
    "adamax": (lambda: optim.Adamax(0.01, epsilon=0), lambda p: torch.optim.Adamax(p, lr=0.01, eps=0)),
    "adagrad": (lambda: optim.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=0),
                lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.5, eps=0)),
    "adadelta": (lambda: optim.Adadelta(1.0, rho=0.9, epsilon=1e-6),
                 lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
}


@pytest.mark.parametrize("case", SAME_AS_TORCH)
def test_optimizer_equals_torch_where_the_rules_coincide(case):
    make_striate, make_torch = SAME_AS_TORCH[case]
    initial, gradients = quadratic_problem(seed=3)
    ours = run_striate(make_striate(), initial, gradients, steps=10)
    theirs = run_torch(make_torch, initial, gradients, steps=10)
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for x, y in zip(a, b, strict=True):
            # PyTorch's NAdam keeps its momentum product in float32
            np.testing.assert_allclose(x, y, rtol=1e-7 if case == "nadam" else 1e-10, atol=1e-12,
                                       err_msg=f"step {step + 1}")


# ---- clipping, weight decay, constraints: worked examples --------------------------------------------
def one_step(optimizer, value, gradient):
    parameter = striate.Tensor(np.array(value, dtype=np.float64))
    parameter.grad = np.array(gradient, dtype=np.float64)
    optimizer.apply_gradients([parameter])
    return parameter.data


def test_clipnorm_scales_the_gradient_to_the_norm():
    # g = (3, 4) has norm 5; clipnorm 1 gives (0.6, 0.8); SGD with lr 1 subtracts it
    np.testing.assert_allclose(one_step(optim.SGD(1.0, clipnorm=1.0), [0.0, 0.0], [3.0, 4.0]), [-0.6, -0.8])
    np.testing.assert_allclose(one_step(optim.SGD(1.0, clipnorm=10.0), [0.0, 0.0], [3.0, 4.0]), [-3.0, -4.0])


def test_global_clipnorm_uses_the_norm_of_all_gradients():
    a, b = striate.Tensor(np.zeros(1)), striate.Tensor(np.zeros(1))
    a.grad, b.grad = np.array([3.0]), np.array([4.0])  # global norm 5
    optim.SGD(1.0, global_clipnorm=2.5).apply_gradients([a, b])
    np.testing.assert_allclose([a.data[0], b.data[0]], [-1.5, -2.0])


def test_clipvalue_clips_each_coordinate():
    np.testing.assert_allclose(one_step(optim.SGD(1.0, clipvalue=0.5), [0.0, 0.0, 0.0], [2.0, -0.2, -9.0]),
                               [-0.5, 0.2, 0.5])


def test_excluded_weights_do_not_decay():
    kernel, bias = striate.Tensor(np.ones(2)), striate.Tensor(np.ones(2))
    kernel.name, bias.name = "dense/kernel", "dense/bias"
    kernel.grad, bias.grad = np.zeros(2), np.zeros(2)
    optimizer = optim.SGD(0.5, weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.apply_gradients([kernel, bias])
    np.testing.assert_allclose(kernel.data, 1 - 0.5 * 0.1)  # p - p * wd * lr
    np.testing.assert_allclose(bias.data, 1.0)


def test_constraint_projects_after_the_step():
    parameter = striate.Tensor(np.array([[3.0], [4.0]]))
    parameter.constraint = constraints.MaxNorm(1.0)
    parameter.grad = np.array([[-3.0], [-4.0]])  # the step doubles it: norm 10, projected to norm 1
    optim.SGD(1.0).apply_gradients([parameter])
    np.testing.assert_allclose(parameter.data, [[0.6], [0.8]], rtol=1e-6)


def test_nadam_resumes_bit_identically_after_set_state():
    initial, gradients = quadratic_problem(seed=5)
    optimizer = optim.Nadam(0.05)
    halfway = run_striate(optimizer, initial, gradients, steps=4)[-1]
    state = optimizer.get_state()
    uninterrupted = run_striate(optimizer, halfway, gradients, steps=4)[-1]
    restored = optim.Nadam(0.05)
    restored.set_state(state)
    for a, b in zip(run_striate(restored, halfway, gradients, steps=4)[-1], uninterrupted, strict=True):
        np.testing.assert_array_equal(a, b)


BAD_ARGUMENTS = {
    "two_clippings": (lambda: optim.Adam(clipnorm=1.0, clipvalue=1.0),
                      "Adam: only one of clipnorm, clipvalue and global_clipnorm can be set"),
    "negative_clipnorm": (lambda: optim.SGD(clipnorm=-1.0),
                          "SGD: clipnorm must be a finite number >= 0; received -1.0"),
    "adamw_without_decay": (lambda: optim.AdamW(weight_decay=None), "AdamW: weight_decay must be a float"),
    "lion_beta_above_one": (lambda: optim.Lion(beta_1=1.5), r"Lion: beta_1 must be a number in \[0, 1\]; received 1.5"),
    "adadelta_rho_one": (lambda: optim.Adadelta(rho=1.0), r"Adadelta: rho must be a number in \[0, 1\); received 1.0"),
    "negative_accumulator": (lambda: optim.Adagrad(initial_accumulator_value=-1.0),
                             "Adagrad: initial_accumulator_value must be a finite number >= 0; received -1.0"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()
