"""Keras' `optimizers` module: the optimizers of striate.optim under their Keras names.

    import striate as keras
    optimizer = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(1e-3, 1000, 0.9))
    model.compile(optimizer="adamw", ...)
"""

from striate.optim import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Nadam,
    Optimizer,
    RMSprop,
    deserialize,
    get,
    schedules,
    serialize,
)
from striate.optim.adafactor import Adafactor
from striate.optim.ftrl import Ftrl
from striate.optim.lamb import Lamb
from striate.optim.multi_optimizer import MultiOptimizer, OptimizerMap
from striate.optim.muon import Muon
from striate.optim.schedule_free_adamw import ScheduleFreeAdamW

__all__ = [
    "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion", "MultiOptimizer",
    "Muon", "Nadam", "Optimizer", "OptimizerMap", "RMSprop", "ScheduleFreeAdamW", "deserialize", "get", "schedules",
    "serialize",
]
