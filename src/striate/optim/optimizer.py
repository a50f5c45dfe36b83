"""`Optimizer`: what every update rule shares (learning rate, weight decay, per-parameter state, saving).

A subclass writes only `_update`, the rule for one parameter array, in place. The optimizer's state is the
update count `iterations` and, per parameter, a few arrays ("slots", e.g. momentum) keyed by the
parameter's position in the list given to `apply_gradients`; the same list, in the same order, must be
passed at every step.
"""

import math
import numbers

import numpy as np

from striate.optim import schedules


class Optimizer:
    """Base class of the update rules; Keras 3 semantics.

    Args:
        learning_rate: a float >= 0, or a schedule `schedule(step) -> float` called with `iterations`
            before each update (see `striate.optim.schedules`).
        weight_decay: None, or a float >= 0 for decoupled weight decay (Loshchilov & Hutter 2019):
            before each update, p <- p - lr * weight_decay * p.

    Subclasses list their slot names in `slot_names` and their other constructor arguments in
    `config_names`.
    """

    slot_names: tuple[str, ...] = ()
    config_names: tuple[str, ...] = ()

    def __init__(self, learning_rate, weight_decay=None):
        if not callable(learning_rate):
            learning_rate = check_in_range(self._name(), "learning_rate", learning_rate)
        self.learning_rate = learning_rate
        if weight_decay is not None:
            weight_decay = check_in_range(self._name(), "weight_decay", weight_decay)
        self.weight_decay = weight_decay
        self.iterations = 0
        self._slots: dict[int, dict[str, np.ndarray]] = {}

    def current_learning_rate(self):
        """The learning rate of the next update: the float, or the schedule at step `iterations`."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def apply_gradients(self, parameters):
        """Update, in place, every Tensor of `parameters` whose `.grad` is not None; then iterations += 1."""
        learning_rate = self.current_learning_rate()
        for index, parameter in enumerate(parameters):
            if parameter.grad is None:
                continue
            data = parameter.data
            gradient = np.asarray(parameter.grad).astype(data.dtype, copy=False)
            if gradient.shape != data.shape:
                raise ValueError(f"{self._name()}: the gradient of parameter {index} has shape "
                                 f"{gradient.shape}, the parameter {data.shape}")
            if self.weight_decay is not None:
                data -= data * self.weight_decay * learning_rate
            self._update(index, data, gradient, learning_rate)
        self.iterations += 1

    def _update(self, index, parameter, gradient, learning_rate):
        """Apply the rule to the array `parameter` (position `index` in the list), in place."""
        raise NotImplementedError

    def _slot(self, index, name, parameter):
        """The slot `name` of parameter `index`, created as zeros like `parameter` (in C order) on first use."""
        slots = self._slots.setdefault(index, {})
        if name not in slots:
            slots[name] = np.zeros(parameter.shape, dtype=parameter.dtype)
        elif slots[name].shape != parameter.shape:
            raise ValueError(f"{self._name()}: parameter {index} has shape {parameter.shape} but its slot "
                             f"'{name}' was made for shape {slots[name].shape}; pass the same parameters in "
                             f"the same order at every step")
        elif not slots[name].flags.c_contiguous:  # restored from a file in another order: compiled rules need C order
            slots[name] = np.ascontiguousarray(slots[name])
        return slots[name]

    # ---- saving and restoring ---------------------------------------------------------------------
    def get_config(self):
        """`{"class_name": ..., "config": {argument: value}}`, JSON-serializable; `from_config` inverts it."""
        learning_rate = self.learning_rate
        if callable(learning_rate):
            if not hasattr(learning_rate, "get_config"):
                raise TypeError(f"{self._name()}.get_config: the learning-rate schedule needs a get_config() "
                                f"method (see striate.optim.schedules); received {learning_rate!r}")
            learning_rate = learning_rate.get_config()
        config = {"learning_rate": learning_rate}
        config.update({name: getattr(self, name) for name in self.config_names})
        return {"class_name": self._name(), "config": config}

    @classmethod
    def from_config(cls, config):
        """A new optimizer, with fresh state, from a dict returned by `get_config()`."""
        if config.get("class_name") != cls.__name__:
            raise ValueError(f"{cls.__name__}.from_config: expects class_name '{cls.__name__}'; received "
                             f"{config.get('class_name')!r}")
        arguments = dict(config["config"])
        if isinstance(arguments["learning_rate"], dict):
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


def check_in_range(owner, name, value, low=0.0, high=math.inf):
    """`value` as a float, after checking that it is a number with low <= value < high."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not low <= value < high:
        interval = f"a finite number >= {low:g}" if high == math.inf else f"a number in [{low:g}, {high:g})"
        raise ValueError(f"{owner}: {name} must be {interval}; received {value!r}")
    return float(value)
