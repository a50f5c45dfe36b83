"""The names of striate's per-layer arithmetic are not names of Keras 3's Layer API (so a Keras-minded reader
never finds a striate method where Keras has an attribute of another meaning)."""

from keras_oracle import keras
from striate import layers as L

ARITHMETIC = ("weight_shapes", "parameter_count", "multiply_accumulates", "floating_point_operations",
              "sliding_window", "receptive_field")


def test_arithmetic_method_names_are_free_in_keras_layer():
    keras_names = set(dir(keras.layers.Layer)) | set(dir(keras.layers.Conv2D)) | set(dir(keras.Model))
    assert "compute_output_shape" in keras_names and "count_params" in keras_names  # the oracle reads real names
    assert not set(ARITHMETIC) & keras_names
    assert all(callable(getattr(L.Layer, name)) for name in ARITHMETIC)
