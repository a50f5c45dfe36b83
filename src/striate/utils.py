"""Keras' `utils` module: to_categorical, pad_sequences, set_random_seed, image_dataset_from_directory, each
kept beside its subject."""

from striate.core.random import set_random_seed
from striate.data.image_folder import image_dataset_from_directory
from striate.data.labels import to_categorical
from striate.data.py_dataset import PyDataset
from striate.layers.recurrent import pad_sequences

__all__ = ["PyDataset", "image_dataset_from_directory", "pad_sequences", "set_random_seed", "to_categorical"]
