"""Training: compile / fit / evaluate / predict, callbacks, the progress bar and summary()."""

from striate.training.callbacks import Callback, EarlyStopping, History, ModelCheckpoint

__all__ = ["Callback", "EarlyStopping", "History", "ModelCheckpoint"]
