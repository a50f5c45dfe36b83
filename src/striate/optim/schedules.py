"""Learning-rate schedules: `schedule(step) -> float`, step = number of updates done so far (from 0).

An optimizer given a schedule as `learning_rate` calls it with its `iterations` before every update. Each
schedule is a pure function of the step, so an optimizer's saved state needs nothing from it.
"""

import bisect
import math
import numbers


class LearningRateSchedule:
    """Base class: a subclass defines `__call__(step)` and lists its constructor arguments in config_names."""

    config_names: tuple[str, ...] = ()

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        """`{"class_name": ..., "config": {argument: value}}`, JSON-serializable; `deserialize` inverts it."""
        return {"class_name": type(self).__name__,
                "config": {name: getattr(self, name) for name in self.config_names}}


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps), as Keras.

    With `staircase=True` the exponent is floor(step / decay_steps): the rate drops once every decay_steps.
    """

    config_names = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        owner = "ExponentialDecay"
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        self.decay_rate = _positive(owner, "decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step):
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent


class CosineDecay(LearningRateSchedule):
    """Half a cosine from initial_learning_rate down to alpha * initial_learning_rate, then flat (Keras).

    lr(step) = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay_steps)) + alpha),
    t = min(step, decay_steps). Loshchilov & Hutter 2017 (SGDR) without restarts; for step <= decay_steps
    it equals PyTorch's CosineAnnealingLR(T_max=decay_steps, eta_min=alpha * initial_learning_rate).
    """

    config_names = ("initial_learning_rate", "decay_steps", "alpha")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        owner = "CosineDecay"
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        if not _is_real(alpha) or not 0 <= alpha <= 1:
            raise ValueError(f"{owner}: alpha must be a number in [0, 1]; received {alpha!r}")
        self.alpha = float(alpha)

    def __call__(self, step):
        completed_fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * completed_fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


class StepDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * gamma ** floor(step / step_size).

    PyTorch's StepLR, counted in optimizer steps rather than epochs.
    """

    config_names = ("initial_learning_rate", "step_size", "gamma")

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        owner = "StepDecay"
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        if not isinstance(step_size, numbers.Integral) or isinstance(step_size, bool) or step_size < 1:
            raise ValueError(f"{owner}: step_size must be a positive integer; received {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = _positive(owner, "gamma", gamma)

    def __call__(self, step):
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while boundaries[i - 1] < step <= boundaries[i] (Keras).

    With boundaries [b0, b1] and values [v0, v1, v2]: v0 for step <= b0, v1 for b0 < step <= b1, v2 after.
    """

    config_names = ("boundaries", "values")

    def __init__(self, boundaries, values):
        owner = "PiecewiseConstantDecay"
        boundaries, values = list(boundaries), list(values)
        numbers_only = all(_is_real(b) for b in boundaries)
        if not numbers_only or not all(a < b for a, b in zip(boundaries, boundaries[1:], strict=False)):
            raise ValueError(f"{owner}: boundaries must be increasing numbers; received {boundaries!r}")
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"{owner}: needs one value more than boundaries ({len(boundaries) + 1}); "
                             f"received {len(values)} values")
        self.boundaries = [float(b) for b in boundaries]
        self.values = [_non_negative(owner, f"values[{i}]", v) for i, v in enumerate(values)]

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, CosineDecay, StepDecay, PiecewiseConstantDecay)}


def deserialize(config):
    """The schedule described by `config`, a dict returned by a schedule's `get_config()`."""
    schedule_class = SCHEDULES.get(config.get("class_name"))
    if schedule_class is None:
        raise ValueError(f"schedules.deserialize: class_name must be one of {sorted(SCHEDULES)}; "
                         f"received {config.get('class_name')!r}")
    return schedule_class(**config["config"])


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _non_negative(owner, name, value):
    if not _is_real(value) or not 0 <= value < math.inf:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0; received {value!r}")
    return float(value)


def _positive(owner, name, value):
    if not _is_real(value) or not 0 < value < math.inf:
        raise ValueError(f"{owner}: {name} must be a finite number > 0; received {value!r}")
    return float(value)
