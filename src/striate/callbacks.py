"""Keras' `callbacks` module: the callbacks of striate.training under their Keras names."""

from striate.training.callbacks import Callback, EarlyStopping, History, ModelCheckpoint

__all__ = ["Callback", "EarlyStopping", "History", "ModelCheckpoint"]
