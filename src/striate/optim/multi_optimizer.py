"""One optimizer per group of weights, as keras.optimizers.MultiOptimizer and OptimizerMap: weights are
routed by name (Keras' variable path) to an optimizer of their own, e.g. a smaller learning rate for a
pretrained backbone.

    backbone_sgd = optim.SGD(1e-4)
    multi = MultiOptimizer(OptimizerMap(optim.Adam(1e-3), {"backbone/.*": backbone_sgd}))
"""

import re
from collections.abc import MutableMapping

from striate.optim import deserialize, serialize
from striate.optim.optimizer import Optimizer


class OptimizerMap(MutableMapping):
    """A dict {pattern: optimizer} with a default: a weight named `name` gets the optimizer of the key equal
    to it, else of the one pattern that re.fullmatch-es it, else the default (two matching patterns are an
    error). Calling the map with a weight (a Tensor) looks up its `name`."""

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer) or not isinstance(optimizer_map, dict | None):
            raise TypeError(f"OptimizerMap: needs an Optimizer and a dict {{pattern: Optimizer}}; received "
                            f"{default_optimizer!r} and {optimizer_map!r}")
        self.default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"OptimizerMap: the weight {key!r} matches several patterns: {matching}")
        return self._optimizer_map[matching[0]] if matching else self.default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str) or key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: keys are new strings; received {key!r}")
        if not isinstance(optimizer, Optimizer) or isinstance(optimizer, MultiOptimizer):
            raise ValueError(f"OptimizerMap: values are optimizers other than MultiOptimizer; received {optimizer!r}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, parameter):
        return self[getattr(parameter, "name", None) or ""]

    def get_config(self):
        return {"default_optimizer": serialize(self.default_optimizer),
                "optimizer_map": {key: serialize(optimizer) for key, optimizer in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config):
        return cls(deserialize(config["default_optimizer"]),
                   {key: deserialize(value) for key, value in config["optimizer_map"].items()})


class MultiOptimizer(Optimizer):
    """Applies each weight's gradient with the optimizer `optimizer_map(weight)` gives (an OptimizerMap, or
    any function weight -> Optimizer), fixed at the first step. Each optimizer sees its own weights, in the
    order of the list, and counts its own iterations; clipping, weight decay and learning rates are the
    inner optimizers' (this one's learning_rate is 0 and unused).

    Args:
        optimizer_map: an OptimizerMap or a function weight -> Optimizer.
        loss_scale_factor: Keras' argument; only None.
        name: Default "multi_optimizer".
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if loss_scale_factor is not None:
            raise ValueError(f"MultiOptimizer: striate does not scale losses; received loss_scale_factor="
                             f"{loss_scale_factor!r}")
        super().__init__(0.0, name=name)
        self.optimizer_map = optimizer_map
        self.optimizers = []
        for optimizer in [*getattr(optimizer_map, "values", list)(),
                          getattr(optimizer_map, "default_optimizer", None)]:
            if optimizer is not None and all(optimizer is not known for known in self.optimizers):
                self.optimizers.append(optimizer)
        self._routes = None  # per weight position: the index of its optimizer in self.optimizers

    def apply_gradients(self, parameters):
        """Route the weights (the first time), then step every optimizer on its weights; iterations += 1."""
        if self._routes is None:
            self._routes = [self._route(parameter) for parameter in parameters]
        elif len(self._routes) != len(parameters):
            raise ValueError(f"MultiOptimizer: the first step had {len(self._routes)} weights, this one "
                             f"{len(parameters)}; pass the same weights in the same order at every step")
        for index, optimizer in enumerate(self.optimizers):
            group = [parameter for parameter, route in zip(parameters, self._routes, strict=True) if route == index]
            if group:
                optimizer.apply_gradients(group)
        self.iterations += 1

    def _route(self, parameter):
        optimizer = self.optimizer_map(parameter)
        if not isinstance(optimizer, Optimizer) or isinstance(optimizer, MultiOptimizer):
            raise ValueError(f"MultiOptimizer: the map gave {optimizer!r} for weight "
                             f"{getattr(parameter, 'name', None)!r}; expected an optimizer other than MultiOptimizer")
        for index, known in enumerate(self.optimizers):
            if known is optimizer:
                return index
        self.optimizers.append(optimizer)
        return len(self.optimizers) - 1

    def get_state(self):
        """"iterations" and each inner optimizer's state under "optimizer/<k>/"."""
        state = {"iterations": super().get_state()["iterations"]}
        for k, optimizer in enumerate(self.optimizers):
            state.update({f"optimizer/{k}/{key}": value for key, value in optimizer.get_state().items()})
        return state

    def set_state(self, state):
        inner = [{} for _ in self.optimizers]
        for key, value in state.items():
            parts = key.split("/", 2)
            if key != "iterations" and (len(parts) != 3 or parts[0] != "optimizer" or not parts[1].isdigit()
                                        or int(parts[1]) >= len(self.optimizers)):
                raise ValueError(f"MultiOptimizer.set_state: keys are 'iterations' or 'optimizer/<k>/...' with k "
                                 f"below {len(self.optimizers)}; received {key!r}")
            if key != "iterations":
                inner[int(parts[1])][parts[2]] = value
        for optimizer, optimizer_state in zip(self.optimizers, inner, strict=True):
            if optimizer_state:
                optimizer.set_state(optimizer_state)
        self.iterations = int(state["iterations"])

    def get_config(self):
        if not isinstance(self.optimizer_map, OptimizerMap):
            raise TypeError("MultiOptimizer.get_config: needs an OptimizerMap (a function cannot be saved)")
        optimizer_map = {"module": "keras.optimizers", "class_name": "OptimizerMap",
                         "config": self.optimizer_map.get_config(), "registered_name": None}
        return {"optimizer_map": optimizer_map, "loss_scale_factor": None, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        optimizer_map = config.pop("optimizer_map")
        return cls(OptimizerMap.from_config(optimizer_map.get("config", optimizer_map)), **config)
