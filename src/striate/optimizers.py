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

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Lion", "Nadam", "Optimizer", "RMSprop",
           "deserialize", "get", "schedules", "serialize"]
