"""Learning-rate schedules: `schedule(step) -> float`, step = number of updates done so far (from 0).

An optimizer given a schedule as `learning_rate` calls it with its `iterations` before every update. Each
schedule is a pure function of the step, so an optimizer's saved state needs nothing from it. Names,
arguments and `get_config()` are Keras' (keras.optimizers.schedules); `serialize` / `deserialize` give and
read Keras' {"module", "class_name", "config", "registered_name"} form. StepDecay is PyTorch's StepLR.
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
        """The constructor arguments, JSON-serializable (Keras' config); `cls(**config)` rebuilds the schedule."""
        return {name: getattr(self, name) for name in self.config_names}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps), as Keras.

    With `staircase=True` the exponent is floor(step / decay_steps): the rate drops once every decay_steps.
    """

    config_names = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        owner = "ExponentialDecay"
        self.name = name
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

    With `warmup_target`, the rate first rises linearly from initial_learning_rate to warmup_target over
    `warmup_steps` steps, then the cosine decays from warmup_target (Goyal et al. 2017's warmup).
    """

    config_names = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        owner = "CosineDecay"
        self.name = name
        self.warmup_target = None if warmup_target is None else _non_negative(owner, "warmup_target", warmup_target)
        self.warmup_steps = _non_negative(owner, "warmup_steps", warmup_steps)
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        if not _is_real(alpha) or not 0 <= alpha <= 1:
            raise ValueError(f"{owner}: alpha must be a number in [0, 1]; received {alpha!r}")
        self.alpha = float(alpha)

    def __call__(self, step):
        start = self.initial_learning_rate
        if self.warmup_target is not None:
            step = min(step, self.decay_steps + self.warmup_steps)
            if step < self.warmup_steps:
                return start + (self.warmup_target - start) * step / self.warmup_steps
            step, start = step - self.warmup_steps, self.warmup_target
        completed_fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * completed_fraction))
        return start * ((1 - self.alpha) * cosine + self.alpha)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decays that restart (SGDR, Loshchilov & Hutter 2017), as Keras.

    Period i (from 0) lasts first_decay_steps * t_mul^i steps and starts from initial_learning_rate * m_mul^i.
    With f = step / first_decay_steps, the period is i = floor(log(1 - f (1 - t_mul)) / log(t_mul))
    (i = floor(f) when t_mul = 1) and the fraction of it done is
    c = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i (c = f - i when t_mul = 1); then

        lr(step) = initial_learning_rate * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi * c)) + alpha)

    With t_mul=1, m_mul=1, it is PyTorch's CosineAnnealingWarmRestarts(T_0=first_decay_steps, T_mult=1,
    eta_min=alpha * initial_learning_rate).
    """

    config_names = ("initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha", "name")

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        owner = "CosineDecayRestarts"
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _positive(owner, "first_decay_steps", first_decay_steps)
        self.t_mul = _positive(owner, "t_mul", t_mul)
        self.m_mul = _non_negative(owner, "m_mul", m_mul)
        self.alpha = _non_negative(owner, "alpha", alpha)
        self.name = name

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul))
            done = (1.0 - self.t_mul**restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul**restart
        cosine = 0.5 * self.m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


class PolynomialDecay(LearningRateSchedule):
    """From initial_learning_rate to end_learning_rate along (1 - t / decay_steps)^power, as Keras.

        lr(step) = (initial_learning_rate - end_learning_rate) * (1 - t / d)^power + end_learning_rate

    cycle=False: t = min(step, decay_steps), d = decay_steps (flat at end_learning_rate afterwards).
    cycle=True: t = step, d = decay_steps * ceil(step / decay_steps) (1 at step 0): it decays again from a
    restart each decay_steps. power=1 is PyTorch's LinearLR / PolynomialLR(power=1) to end_learning_rate.
    """

    config_names = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name")

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        owner = "PolynomialDecay"
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        self.end_learning_rate = _non_negative(owner, "end_learning_rate", end_learning_rate)
        self.power = _non_negative(owner, "power", power)
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= max(1, math.ceil(step / self.decay_steps))
        else:
            step = min(step, decay_steps)
        remaining = (1 - step / decay_steps) ** self.power
        return (self.initial_learning_rate - self.end_learning_rate) * remaining + self.end_learning_rate


class InverseTimeDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps), as Keras.

    With `staircase=True`, step / decay_steps is floored: the rate drops once every decay_steps.
    """

    config_names = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        owner = "InverseTimeDecay"
        self.initial_learning_rate = _non_negative(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        self.decay_rate = _non_negative(owner, "decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        progress = step / self.decay_steps
        if self.staircase:
            progress = math.floor(progress)
        return self.initial_learning_rate / (1 + self.decay_rate * progress)


class StepDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * gamma ** floor(step / step_size).

    PyTorch's StepLR, counted in optimizer steps rather than epochs.
    """

    config_names = ("initial_learning_rate", "step_size", "gamma", "name")

    def __init__(self, initial_learning_rate, step_size, gamma=0.1, name="StepDecay"):
        owner = "StepDecay"
        self.name = name
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

    config_names = ("boundaries", "values", "name")

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        owner = "PiecewiseConstantDecay"
        self.name = name
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


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, CosineDecay, CosineDecayRestarts, PolynomialDecay,
                                            InverseTimeDecay, StepDecay, PiecewiseConstantDecay)}


def serialize(schedule):
    """Keras' serialized form of a schedule: {"module", "class_name", "config", "registered_name"}."""
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config):
    """The schedule described by `config`, a dict from `serialize` (Keras' or striate's)."""
    schedule_class = SCHEDULES.get(config.get("class_name")) if isinstance(config, dict) else None
    if schedule_class is None:
        raise ValueError(f"schedules.deserialize: class_name must be one of {sorted(SCHEDULES)}; "
                         f"received {config!r}")
    return schedule_class.from_config(config["config"])


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
