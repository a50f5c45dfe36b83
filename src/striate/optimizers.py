"""Keras' `optimizers` module: the optimizers of striate.optim under their Keras names.

    import striate as keras
    optimizer = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(1e-3, 1000, 0.9))
"""

from striate.optim import SGD, Adam, Optimizer, RMSprop, get, schedules

__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "get", "schedules"]
