"""`Optimizer`: what every update rule shares (learning rate, clipping, weight decay, constraints, per-parameter
state, saving).

A subclass writes only `_update`, the rule for one parameter array, in place. The optimizer's state is the
update count `iterations` and, per parameter, a few arrays ("slots", e.g. momentum) keyed by the
parameter's position in the list given to `apply_gradients`; the same list, in the same order, must be
passed at every step.
"""

import math
import numbers
import re

import numpy as np

from striate.optim import schedules

# Keras' constructor arguments striate does not implement, with the value that means "off": a Keras config
# holding these values loads; any other value is refused
KERAS_ONLY_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                       "loss_scale_factor": None, "gradient_accumulation_steps": None}


class Optimizer:
    """Base class of the update rules; Keras 3 semantics. One step (`apply_gradients`) is Keras' order:

        1. clip the gradients: clipnorm     g <- g * clipnorm / max(||g||, clipnorm)     (each gradient)
                               global_clipnorm  g <- g * global_clipnorm / max(G, global_clipnorm),
                                                G = sqrt(sum over all gradients of ||g||^2)
                               clipvalue    g <- clip(g, -clipvalue, clipvalue)
        2. decoupled weight decay (Loshchilov & Hutter 2019): p <- p - p * weight_decay * lr
        3. the rule of the subclass (`_update`)
        4. each updated weight with a `constraint` (see striate.constraints): p <- constraint(p)

    Args:
        learning_rate: a float >= 0, or a schedule `schedule(step) -> float` called with `iterations`
            before each update (see `striate.optim.schedules`).
        weight_decay: None, or a float >= 0 (see 2.); `exclude_from_weight_decay` exempts weights.
        clipnorm, clipvalue, global_clipnorm: None or a float > 0; at most one of the three.
        name: Keras' default is the class name in snake case ("adam", "sgd", "rm_sprop").

    Subclasses list their slot names in `slot_names` and their other constructor arguments in
    `config_names` (Keras' get_config order).
    """

    slot_names: tuple[str, ...] = ()
    config_names: tuple[str, ...] = ()

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        if not callable(learning_rate):
            learning_rate = check_in_range(self._name(), "learning_rate", learning_rate)
        self.learning_rate = learning_rate
        if weight_decay is not None:
            weight_decay = check_in_range(self._name(), "weight_decay", weight_decay)
        self.weight_decay = weight_decay
        clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clipping.values()) > 1:
            raise ValueError(f"{self._name()}: only one of clipnorm, clipvalue and global_clipnorm can be set; "
                             f"received {clipping}")
        for key, value in clipping.items():
            if value is not None:
                check_in_range(self._name(), key, value)
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            None if value is None else float(value) for value in clipping.values())
        self.name = name or _snake_case(self._name())
        self.iterations = 0
        self._slots: dict[int, dict[str, np.ndarray]] = {}
        self._excluded_ids: set[int] = set()
        self._excluded_pattern = None

    def current_learning_rate(self):
        """The learning rate of the next update: the float, or the schedule at step `iterations`."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt from weight decay the Tensors of `var_list` and those whose name contains one of the strings
        of `var_names` (a regular expression search, as Keras; e.g. var_names=["bias"])."""
        self._excluded_ids = {id(variable) for variable in var_list or ()}
        self._excluded_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def apply_gradients(self, parameters):
        """Update, in place, every Tensor of `parameters` whose `.grad` is not None; then iterations += 1."""
        learning_rate = self.current_learning_rate()
        updated = []
        for index, parameter in enumerate(parameters):
            if parameter.grad is None:
                continue
            gradient = np.asarray(parameter.grad).astype(parameter.data.dtype, copy=False)
            if gradient.shape != parameter.data.shape:
                raise ValueError(f"{self._name()}: the gradient of parameter {index} has shape "
                                 f"{gradient.shape}, the parameter {parameter.data.shape}")
            updated.append((index, parameter, gradient))
        gradients = self._clip([gradient for _, _, gradient in updated])
        for (index, parameter, _), gradient in zip(updated, gradients, strict=True):
            data = parameter.data
            if self.weight_decay is not None and self._decays(parameter):
                data -= data * self.weight_decay * learning_rate
            self._update(index, data, gradient, learning_rate)
        for _, parameter, _ in updated:
            constraint = getattr(parameter, "constraint", None)
            if constraint is not None:
                parameter.data[...] = constraint(parameter.data)
        self.iterations += 1

    def _clip(self, gradients):
        """The gradients clipped by clipnorm, global_clipnorm or clipvalue (new arrays), or as they are."""
        if self.clipnorm is not None:
            return [g * (self.clipnorm / max(float(np.sqrt(np.sum(np.square(g)))), self.clipnorm)) for g in gradients]
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in gradients))
            return [g * (self.global_clipnorm / max(total, self.global_clipnorm)) for g in gradients]
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in gradients]
        return gradients

    def _decays(self, parameter):
        if id(parameter) in self._excluded_ids:
            return False
        pattern, name = self._excluded_pattern, getattr(parameter, "name", None)
        return pattern is None or name is None or pattern.search(name) is None

    def _update(self, index, parameter, gradient, learning_rate):
        """Apply the rule to the array `parameter` (position `index` in the list), in place."""
        raise NotImplementedError

    def _slot(self, index, name, parameter, fill=0.0):
        """The slot `name` of parameter `index`, created full of `fill` like `parameter` (in C order) on first use."""
        slots = self._slots.setdefault(index, {})
        if name not in slots:
            slots[name] = np.full(parameter.shape, fill, dtype=parameter.dtype)
        elif slots[name].shape != parameter.shape:
            raise ValueError(f"{self._name()}: parameter {index} has shape {parameter.shape} but its slot "
                             f"'{name}' was made for shape {slots[name].shape}; pass the same parameters in "
                             f"the same order at every step")
        elif not slots[name].flags.c_contiguous:  # restored from a file in another order: compiled rules need C order
            slots[name] = np.ascontiguousarray(slots[name])
        return slots[name]

    # ---- saving and restoring ---------------------------------------------------------------------
    def get_config(self):
        """Keras' config: the constructor arguments as a JSON-serializable dict (a schedule as
        `schedules.serialize` gives it); `from_config` inverts it, and reads Keras' own configs."""
        learning_rate = self.learning_rate
        if callable(learning_rate):
            if not hasattr(learning_rate, "get_config"):
                raise TypeError(f"{self._name()}.get_config: the learning-rate schedule needs a get_config() "
                                f"method (see striate.optim.schedules); received {learning_rate!r}")
            learning_rate = schedules.serialize(learning_rate)
        config = {"name": self.name, "learning_rate": learning_rate, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                  **KERAS_ONLY_DEFAULTS}
        config.update({name: getattr(self, name) for name in self.config_names})
        return config

    @classmethod
    def from_config(cls, config):
        """A new optimizer, with fresh state, from a dict returned by `get_config()` (striate's or Keras')."""
        arguments = dict(config)
        for key, default in KERAS_ONLY_DEFAULTS.items():
            value = arguments.pop(key, default)
            if value != default:
                raise ValueError(f"{cls.__name__}.from_config: striate does not implement {key}; received "
                                 f"{key}={value!r} (only {default!r} is accepted)")
        if isinstance(arguments.get("learning_rate"), dict):
            arguments["learning_rate"] = schedules.deserialize(arguments["learning_rate"])
        return cls(**arguments)

    def get_state(self):
        """Copies of the state as a flat dict: "iterations" and "slot/<index>/<name>" -> np.ndarray."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for index, slots in self._slots.items():
            for name, value in slots.items():
                state[f"slot/{index}/{name}"] = value.copy()
        return state

    def set_state(self, state):
        """Restore a state from `get_state()` exactly: the next updates are those the saved optimizer made."""
        if "iterations" not in state:
            raise ValueError(f"{self._name()}.set_state: the state has no 'iterations'; received keys "
                             f"{sorted(state)}")
        slots: dict[int, dict[str, np.ndarray]] = {}
        for key, value in state.items():
            if key == "iterations":
                continue
            parts = key.split("/")
            well_formed = len(parts) == 3 and parts[0] == "slot" and parts[1].isdigit()
            if not well_formed or parts[2] not in self.slot_names:
                raise ValueError(f"{self._name()}.set_state: keys must be 'iterations' or "
                                 f"'slot/<index>/<name>' with a name in {self.slot_names}; received {key!r}")
            slots.setdefault(int(parts[1]), {})[parts[2]] = np.array(value)
        self.iterations = int(state["iterations"])
        self._slots = slots

    def _name(self):
        return type(self).__name__


class AdaptiveMoments(Optimizer):
    """The base of Adam and its variants (Adamax, Nadam, Lamb): an optimizer with a first-moment decay beta_1 and
    a second-moment decay beta_2, each in [0, 1), and epsilon >= 0, checked here once for all of them."""

    config_names: tuple[str, ...] = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, **options):
        super().__init__(learning_rate, weight_decay, **options)
        self.beta_1 = check_in_range(self._name(), "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_in_range(self._name(), "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_in_range(self._name(), "epsilon", epsilon)


def _snake_case(name):
    """Keras' to_snake_case: "AdamW" -> "adam_w", "RMSprop" -> "rm_sprop"."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def check_in_range(owner, name, value, low=0.0, high=math.inf):
    """`value` as a float, after checking that it is a number with low <= value < high."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not low <= value < high:
        interval = f"a finite number >= {low:g}" if high == math.inf else f"a number in [{low:g}, {high:g})"
        raise ValueError(f"{owner}: {name} must be {interval}; received {value!r}")
    return float(value)
