"""Optimizers: update parameters in place from their `.grad`, with Keras 3 semantics.

    import striate.optim as optim
    optimizer = optim.Adam(learning_rate=optim.schedules.CosineDecay(1e-3, decay_steps=1000))
    loss.backward()
    optimizer.apply_gradients(parameters)       # a list of Tensors, the same order at every step

Each rule's formula is in its class docstring; `get_config()` / `from_config()` rebuild an optimizer,
`get_state()` / `set_state()` resume its updates exactly.
"""

from striate.optim import schedules
from striate.optim.adam import Adam
from striate.optim.optimizer import Optimizer
from striate.optim.rmsprop import RMSprop
from striate.optim.sgd import SGD

OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(identifier):
    """An optimizer from a name ("sgd", "adam", "rmsprop", any case; default arguments), an Optimizer
    (returned as is) or a dict from `get_config()`."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    if isinstance(identifier, dict):
        by_class_name = {cls.__name__: cls for cls in OPTIMIZERS.values()}
        if identifier.get("class_name") in by_class_name:
            return by_class_name[identifier["class_name"]].from_config(identifier)
    class_names = sorted(cls.__name__ for cls in OPTIMIZERS.values())
    raise ValueError(f"optim.get: expects one of {sorted(OPTIMIZERS)} (any case), an Optimizer or a dict "
                     f"from get_config() with class_name in {class_names}; received {identifier!r}")


__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "get", "schedules"]
