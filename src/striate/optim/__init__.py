"""Optimizers: update parameters in place from their `.grad`, with Keras 3 semantics.

    import striate.optim as optim
    optimizer = optim.Adam(learning_rate=optim.schedules.CosineDecay(1e-3, decay_steps=1000))
    loss.backward()
    optimizer.apply_gradients(parameters)       # a list of Tensors, the same order at every step

Each rule's formula is in its class docstring; `get_config()` / `from_config()` rebuild an optimizer (Keras'
configs), `serialize` / `deserialize` add the class name, `get_state()` / `set_state()` resume its updates
exactly. Clipping (clipnorm, clipvalue, global_clipnorm), weight decay and weight constraints are the base
class's (optimizer.py).
"""

from striate.optim import schedules
from striate.optim.adadelta import Adadelta
from striate.optim.adafactor import Adafactor
from striate.optim.adagrad import Adagrad
from striate.optim.adam import Adam
from striate.optim.adamax import Adamax
from striate.optim.adamw import AdamW
from striate.optim.ftrl import Ftrl
from striate.optim.lamb import Lamb
from striate.optim.lion import Lion
from striate.optim.muon import Muon
from striate.optim.nadam import Nadam
from striate.optim.optimizer import Optimizer
from striate.optim.rmsprop import RMSprop
from striate.optim.schedule_free_adamw import ScheduleFreeAdamW
from striate.optim.sgd import SGD

OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop, Nadam, Adamax, Adagrad, Adadelta, Lion,
                                                    Ftrl, Lamb, Adafactor, Muon, ScheduleFreeAdamW)}


def serialize(optimizer):
    """Keras' serialized form: {"module", "class_name", "config", "registered_name"}."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config):
    """A new optimizer from a dict from `serialize` (Keras' or striate's; {"class_name", "config"} is enough)."""
    by_class_name = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    if not isinstance(config, dict) or config.get("class_name") not in by_class_name:
        raise ValueError(f"optim.deserialize: expects a dict from serialize() with class_name in "
                         f"{sorted(by_class_name)}; received {config!r}")
    return by_class_name[config["class_name"]].from_config(config.get("config", {}))


def get(identifier):
    """An optimizer from a name ("sgd", "adam", "adamw", ..., any case; default arguments), an Optimizer
    (returned as is) or a dict from `serialize()`."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"optim.get: expects one of {sorted(OPTIMIZERS)} (any case), an Optimizer or a dict "
                     f"from serialize(); received {identifier!r}")


__all__ = ["SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion", "Muon",
           "Nadam", "Optimizer", "RMSprop", "ScheduleFreeAdamW", "deserialize", "get", "schedules", "serialize"]
