"""Optimizers against torch.optim where the update rules coincide, and against NumPy references of
Keras 3's formulas where they do not (epsilon placement, decoupled weight decay of SGD)."""

import io
import json
import math

import numpy as np
import pytest
import torch

import striate
from striate import optim
from striate.optim import schedules

STEPS = 20
RTOL = 1e-10


def quadratic_problem(seed=0):
    """Initial values and the gradient of sum(curvature * (p - target)^2 / 2), per parameter."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,)]
    initial = [rng.normal(size=shape) for shape in shapes]
    curvature = [rng.uniform(0.5, 2.0, size=shape) for shape in shapes]
    target = [rng.normal(size=shape) for shape in shapes]

    def gradients(values):
        return [c * (v - t) for v, c, t in zip(values, curvature, target, strict=True)]

    return initial, gradients


def run_striate(optimizer, initial, gradients, steps=STEPS):
    """The parameter values after every step."""
    parameters = [striate.Tensor(value.copy()) for value in initial]
    trajectory = []
    for _ in range(steps):
        for parameter, gradient in zip(parameters, gradients([p.data for p in parameters]), strict=True):
            parameter.grad = gradient
        optimizer.apply_gradients(parameters)
        trajectory.append([p.data.copy() for p in parameters])
    return trajectory


def run_torch(make_optimizer, initial, gradients, make_scheduler=None, steps=STEPS):
    parameters = [torch.tensor(value, requires_grad=True) for value in initial]
    optimizer = make_optimizer(parameters)
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    trajectory = []
    for _ in range(steps):
        values = [p.detach().numpy() for p in parameters]
        for parameter, gradient in zip(parameters, gradients(values), strict=True):
            parameter.grad = torch.from_numpy(gradient)
        optimizer.step()
        if scheduler:
            scheduler.step()
        trajectory.append([p.detach().numpy().copy() for p in parameters])
    return trajectory


def assert_same_trajectory(actual, expected, rtol=RTOL):
    for step, (actual_values, expected_values) in enumerate(zip(actual, expected, strict=True)):
        for a, e in zip(actual_values, expected_values, strict=True):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol, err_msg=f"step {step + 1}")


# striate optimizer, the torch optimizer with the same trajectory (epsilon = 0 where the placements differ;
# torch's RMSprop defaults to alpha = 0.99, Keras' to rho = 0.9, so both are given)
SAME_AS_TORCH = {
    "sgd": (lambda: optim.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (lambda: optim.SGD(0.1, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "sgd_nesterov": (lambda: optim.SGD(0.05, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    "adam": (lambda: optim.Adam(0.05, epsilon=0.0), lambda p: torch.optim.Adam(p, lr=0.05, eps=0.0)),
    "adam_betas": (lambda: optim.Adam(0.05, beta_1=0.5, beta_2=0.9, epsilon=0.0),
                   lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.5, 0.9), eps=0.0)),
    "adamw": (lambda: optim.Adam(0.05, epsilon=0.0, weight_decay=0.3),
              lambda p: torch.optim.AdamW(p, lr=0.05, eps=0.0, weight_decay=0.3)),
    "rmsprop": (lambda: optim.RMSprop(0.01, rho=0.8, epsilon=0.0),
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.8, eps=0.0)),
    "rmsprop_momentum": (lambda: optim.RMSprop(0.01, rho=0.9, momentum=0.7, epsilon=0.0),
                         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.7, eps=0.0)),
    "rmsprop_centered": (lambda: optim.RMSprop(0.01, rho=0.9, centered=True, epsilon=0.0),
                         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, centered=True, eps=0.0)),
    "rmsprop_centered_momentum": (
        lambda: optim.RMSprop(0.01, rho=0.9, momentum=0.5, centered=True, epsilon=0.0),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, eps=0.0)),
}


@pytest.mark.parametrize("case", SAME_AS_TORCH)
def test_trajectory_equals_torch(case):
    make_striate, make_torch = SAME_AS_TORCH[case]
    initial, gradients = quadratic_problem()
    assert_same_trajectory(run_striate(make_striate(), initial, gradients),
                           run_torch(make_torch, initial, gradients))


def test_step_decay_schedule_equals_torch_step_lr():
    initial, gradients = quadratic_problem()
    optimizer = optim.SGD(schedules.StepDecay(0.2, step_size=6, gamma=0.5))
    expected = run_torch(lambda p: torch.optim.SGD(p, lr=0.2), initial, gradients,
                         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=6, gamma=0.5))
    assert_same_trajectory(run_striate(optimizer, initial, gradients), expected)


def test_cosine_decay_schedule_with_adam_equals_torch_cosine_annealing():
    initial, gradients = quadratic_problem()
    optimizer = optim.Adam(schedules.CosineDecay(0.05, decay_steps=STEPS, alpha=0.1), epsilon=0.0)
    expected = run_torch(lambda p: torch.optim.Adam(p, lr=0.05, eps=0.0), initial, gradients,
                         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.005))
    assert_same_trajectory(run_striate(optimizer, initial, gradients), expected)


# ---- NumPy references of Keras 3's formulas --------------------------------------------------------
def keras_adam_reference(initial, gradients, lr, beta_1, beta_2, epsilon, weight_decay):
    values = [v.copy() for v in initial]
    m = [np.zeros_like(v) for v in values]
    v2 = [np.zeros_like(v) for v in values]
    trajectory = []
    for t in range(1, STEPS + 1):
        grads = gradients(values)
        for i, g in enumerate(grads):
            values[i] = values[i] - lr * weight_decay * values[i]
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v2[i] = beta_2 * v2[i] + (1 - beta_2) * g**2
            lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
            values[i] = values[i] - lr_t * m[i] / (np.sqrt(v2[i]) + epsilon)
        trajectory.append([v.copy() for v in values])
    return trajectory


def keras_rmsprop_reference(initial, gradients, lr, rho, momentum, epsilon, centered):
    values = [v.copy() for v in initial]
    velocity = [np.zeros_like(v) for v in values]
    average = [np.zeros_like(v) for v in values]
    buffer = [np.zeros_like(v) for v in values]
    trajectory = []
    for _ in range(STEPS):
        for i, g in enumerate(gradients(values)):
            velocity[i] = rho * velocity[i] + (1 - rho) * g**2
            average[i] = rho * average[i] + (1 - rho) * g
            variance = velocity[i] - average[i] ** 2 if centered else velocity[i]
            buffer[i] = momentum * buffer[i] + lr * g / np.sqrt(variance + epsilon)   # epsilon inside sqrt
            values[i] = values[i] - buffer[i]
        trajectory.append([v.copy() for v in values])
    return trajectory


def sgd_decoupled_weight_decay_reference(initial, gradients, lr, momentum, nesterov, weight_decay):
    values = [v.copy() for v in initial]
    velocity = [np.zeros_like(v) for v in values]
    trajectory = []
    for _ in range(STEPS):
        for i, g in enumerate(gradients(values)):
            values[i] = values[i] - lr * weight_decay * values[i]
            velocity[i] = momentum * velocity[i] - lr * g
            values[i] = values[i] + (momentum * velocity[i] - lr * g if nesterov else velocity[i])
        trajectory.append([v.copy() for v in values])
    return trajectory


@pytest.mark.parametrize("weight_decay", [None, 0.2])
def test_adam_with_keras_epsilon_matches_reference(weight_decay):
    initial, gradients = quadratic_problem(seed=1)
    optimizer = optim.Adam(0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-3, weight_decay=weight_decay)
    expected = keras_adam_reference(initial, gradients, 0.05, 0.8, 0.95, 1e-3, weight_decay or 0.0)
    assert_same_trajectory(run_striate(optimizer, initial, gradients), expected)


@pytest.mark.parametrize("momentum, centered", [(0.0, False), (0.6, False), (0.0, True), (0.6, True)])
def test_rmsprop_with_keras_epsilon_inside_sqrt_matches_reference(momentum, centered):
    initial, gradients = quadratic_problem(seed=2)
    optimizer = optim.RMSprop(0.01, rho=0.85, momentum=momentum, epsilon=1e-3, centered=centered)
    expected = keras_rmsprop_reference(initial, gradients, 0.01, 0.85, momentum, 1e-3, centered)
    assert_same_trajectory(run_striate(optimizer, initial, gradients), expected)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_decoupled_weight_decay_matches_reference(momentum, nesterov):
    initial, gradients = quadratic_problem(seed=3)
    optimizer = optim.SGD(0.1, momentum=momentum, nesterov=nesterov, weight_decay=0.5)
    expected = sgd_decoupled_weight_decay_reference(initial, gradients, 0.1, momentum, nesterov, 0.5)
    assert_same_trajectory(run_striate(optimizer, initial, gradients), expected)


# ---- behaviour of apply_gradients -----------------------------------------------------------------
def test_updates_in_place_and_keeps_float32():
    parameter = striate.Tensor(np.ones((2, 3), dtype=np.float32))
    array = parameter.data
    parameter.grad = np.full((2, 3), 0.5)                     # float64 gradient
    optim.Adam(0.1).apply_gradients([parameter])
    assert parameter.data is array
    assert parameter.data.dtype == np.float32
    assert not np.array_equal(parameter.data, np.ones((2, 3)))


def test_parameter_without_gradient_is_left_alone_and_iterations_count_calls():
    frozen, trained = striate.Tensor(np.ones(3)), striate.Tensor(np.ones(3))
    trained.grad = np.ones(3)
    optimizer = optim.SGD(0.1, momentum=0.9)
    optimizer.apply_gradients([frozen, trained])
    optimizer.apply_gradients([frozen, trained])
    np.testing.assert_array_equal(frozen.data, np.ones(3))
    assert optimizer.iterations == 2
    assert set(optimizer.get_state()) == {"iterations", "slot/1/momentum"}


def test_current_learning_rate_follows_schedule():
    optimizer = optim.SGD(schedules.PiecewiseConstantDecay([1], [0.5, 0.25]))
    parameter = striate.Tensor(np.zeros(2))
    parameter.grad = np.ones(2)
    rates = []
    for _ in range(3):
        rates.append(optimizer.current_learning_rate())
        optimizer.apply_gradients([parameter])
    assert rates == [0.5, 0.5, 0.25]
    np.testing.assert_array_equal(parameter.data, [-1.25, -1.25])


# ---- configuration and state ----------------------------------------------------------------------
RESUMABLE = {
    "sgd": lambda: optim.SGD(schedules.ExponentialDecay(0.1, 3, 0.7), momentum=0.9, nesterov=True,
                             weight_decay=0.01),
    "adam": lambda: optim.Adam(schedules.CosineDecay(0.05, 8, alpha=0.2), weight_decay=0.1),
    "rmsprop": lambda: optim.RMSprop(schedules.StepDecay(0.01, 4), momentum=0.5, centered=True),
}


@pytest.mark.parametrize("name", RESUMABLE)
def test_resuming_from_saved_state_is_bit_identical(name):
    initial, gradients = quadratic_problem(seed=4)
    optimizer = RESUMABLE[name]()
    halfway = run_striate(optimizer, initial, gradients, steps=5)[-1]
    saved = io.BytesIO()
    np.savez(saved, **optimizer.get_state())
    config = json.dumps(optim.serialize(optimizer))
    uninterrupted = run_striate(optimizer, halfway, gradients, steps=5)[-1]

    saved.seek(0)
    restored = optim.get(json.loads(config))
    restored.set_state(dict(np.load(saved)))
    resumed = run_striate(restored, halfway, gradients, steps=5)[-1]
    for a, b in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", RESUMABLE)
def test_config_round_trip(name):
    optimizer = RESUMABLE[name]()
    rebuilt = type(optimizer).from_config(optimizer.get_config())
    assert rebuilt.get_config() == optimizer.get_config()
    assert rebuilt.iterations == 0


def test_get_by_name_instance_and_config():
    assert isinstance(optim.get("SGD"), optim.SGD)
    assert isinstance(optim.get("adam"), optim.Adam)
    assert isinstance(optim.get("RMSprop"), optim.RMSprop)
    optimizer = optim.Adam(0.01)
    assert optim.get(optimizer) is optimizer
    assert optim.get({"class_name": "SGD", "config": {"learning_rate": 0.3, "momentum": 0.5}}).momentum == 0.5


# ---- bad arguments: one test each -----------------------------------------------------------------
BAD_ARGUMENTS = {
    "negative_learning_rate": (lambda: optim.SGD(-0.1), "SGD: learning_rate must be a finite number >= 0; "
                               "received -0.1"),
    "learning_rate_not_a_number": (lambda: optim.Adam("fast"), "Adam: learning_rate .* received 'fast'"),
    "momentum_one": (lambda: optim.SGD(momentum=1.0), r"SGD: momentum must be a number in \[0, 1\); "
                     "received 1.0"),
    "negative_momentum": (lambda: optim.SGD(momentum=-0.5), "SGD: momentum .* received -0.5"),
    "negative_weight_decay": (lambda: optim.Adam(weight_decay=-1e-4),
                              "Adam: weight_decay .* received -0.0001"),
    "beta_1_one": (lambda: optim.Adam(beta_1=1.0),
                   r"Adam: beta_1 must be a number in \[0, 1\); received 1.0"),
    "negative_beta_2": (lambda: optim.Adam(beta_2=-0.1), "Adam: beta_2 .* received -0.1"),
    "negative_adam_epsilon": (lambda: optim.Adam(epsilon=-1e-7), "Adam: epsilon .* received -1e-07"),
    "rho_above_one": (lambda: optim.RMSprop(rho=1.5), "RMSprop: rho .* received 1.5"),
    "rmsprop_momentum_one": (lambda: optim.RMSprop(momentum=1), "RMSprop: momentum .* received 1"),
    "negative_rmsprop_epsilon": (lambda: optim.RMSprop(epsilon=-1.0), "RMSprop: epsilon .* received -1.0"),
    "unknown_name": (lambda: optim.get("adabelief"), r"'adamw', .* received 'adabelief'"),
    "unknown_class_name": (lambda: optim.get({"class_name": "AdaBelief", "config": {}}),
                           "received {'class_name'"),
    "keras_feature_not_implemented": (lambda: optim.Adam.from_config({**optim.Adam().get_config(), "use_ema": True}),
                                      "Adam.from_config: striate does not implement use_ema; received use_ema=True"),
    "state_without_iterations": (lambda: optim.SGD().set_state({}), "SGD.set_state: .* no 'iterations'"),
    "state_of_another_optimizer": (lambda: optim.SGD().set_state(optim_state_with_adam_slots()),
                                   "SGD.set_state: .* received 'slot/0/velocity'"),
}


def optim_state_with_adam_slots():
    parameter = striate.Tensor(np.ones(2))
    parameter.grad = np.ones(2)
    adam = optim.Adam()
    adam.apply_gradients([parameter])
    return adam.get_state()


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()


def test_gradient_of_wrong_shape_raises():
    parameter = striate.Tensor(np.ones((2, 3)))
    parameter.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"gradient of parameter 0 has shape \(3,\), the parameter \(2, 3\)"):
        optim.SGD().apply_gradients([parameter])


def test_parameters_in_another_order_raise():
    small, large = striate.Tensor(np.ones(2)), striate.Tensor(np.ones(5))
    small.grad, large.grad = np.ones(2), np.ones(5)
    optimizer = optim.Adam()
    optimizer.apply_gradients([small, large])
    with pytest.raises(ValueError, match="same parameters in the same order"):
        optimizer.apply_gradients([large, small])


def test_config_of_schedule_without_get_config_raises():
    with pytest.raises(TypeError, match="SGD.get_config: the learning-rate schedule needs a get_config"):
        optim.SGD(lambda step: 0.1).get_config()


def _adam_in_numpy(parameter, gradient, first_moment, second_moment, step, lr=0.01, beta_1=0.9, beta_2=0.999,
                   epsilon=1e-7):
    """Keras 3's Adam step written with NumPy, in the parameter's dtype (the reference for the compiled rule)."""
    step_size = lr * math.sqrt(1 - beta_2**step) / (1 - beta_1**step)  # a Python float, as the optimizer's
    first_moment += (gradient - first_moment) * (1 - beta_1)
    second_moment += (np.square(gradient) - second_moment) * (1 - beta_2)
    parameter -= first_moment * step_size / (np.sqrt(second_moment) + epsilon)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_steps_equal_the_numpy_formulas_value_for_value(dtype):
    rng = np.random.default_rng(7)
    start = rng.standard_normal((30, 7)).astype(dtype)
    parameter, optimizer = striate.Tensor(start.copy()), optim.Adam(0.01)
    expected, first, second = start.copy(), np.zeros_like(start), np.zeros_like(start)
    for step in range(1, 4):
        gradient = rng.standard_normal(start.shape).astype(dtype)
        parameter.grad = gradient
        optimizer.apply_gradients([parameter])
        _adam_in_numpy(expected, gradient, first, second, step)
    np.testing.assert_array_equal(parameter.data, expected)


def test_adam_updates_a_fortran_ordered_parameter_in_place():
    rng = np.random.default_rng(8)
    start = np.asfortranarray(rng.standard_normal((5, 4)).astype(np.float32))
    parameter = striate.Tensor(start.copy(order="F"))
    array = parameter.data
    gradient = rng.standard_normal((5, 4)).astype(np.float32)
    parameter.grad = gradient
    optim.Adam(0.01).apply_gradients([parameter])
    expected = np.ascontiguousarray(start)
    _adam_in_numpy(expected, gradient, np.zeros_like(expected), np.zeros_like(expected), 1)
    assert parameter.data is array
    np.testing.assert_array_equal(array, expected)


def test_adam_on_several_threads_equals_adam_on_one():
    """In a training step (`workers_only`) a large parameter is updated in parts at once."""
    from striate.core import runtime

    rng = np.random.default_rng(9)
    start, gradient = rng.standard_normal(600_001).astype(np.float32), rng.standard_normal(600_001).astype(np.float32)
    assert start.size >= runtime.PARALLEL_MIN_WORK  # large enough for split_batch to use the threads
    split, whole = striate.Tensor(start.copy()), striate.Tensor(start.copy())
    split.grad = whole.grad = gradient
    with runtime.workers_only():
        optim.Adam(0.01).apply_gradients([split])
    optim.Adam(0.01).apply_gradients([whole])
    np.testing.assert_array_equal(split.data, whole.data)
