"""Each layer's own arithmetic (Layer.weight_shapes, parameter_count, multiply_accumulates,
floating_point_operations, sliding_window, receptive_field): counted before building, it equals the weights a
built layer really has; the multiply counts and windows equal formulas written out here by hand."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.inspect.plan import plan

# Every layer class of striate.layers.__all__, made with simple arguments, with the input shape it takes (without
# the batch axis; a list for a merge).
CASES = {
    "Activation": (lambda: L.Activation("relu"), (6, 6, 3)),
    "Add": (lambda: L.Add(), [(4, 3), (4, 3)]),
    "AveragePooling1D": (lambda: L.AveragePooling1D(2), (8, 3)),
    "AveragePooling2D": (lambda: L.AveragePooling2D(2), (6, 6, 3)),
    "AveragePooling3D": (lambda: L.AveragePooling3D(2), (4, 4, 4, 2)),
    "Average": (lambda: L.Average(), [(4, 3), (4, 3)]),
    "BatchNormalization": (lambda: L.BatchNormalization(), (5, 5, 6)),
    "Bidirectional": (lambda: L.Bidirectional(L.LSTM(3)), (5, 4)),
    "CenterCrop": (lambda: L.CenterCrop(4, 4), (6, 7, 3)),
    "Concatenate": (lambda: L.Concatenate(), [(4, 3), (4, 2)]),
    "Conv1D": (lambda: L.Conv1D(4, 3, padding="causal"), (8, 3)),
    "Conv1DTranspose": (lambda: L.Conv1DTranspose(4, 3, strides=2), (8, 3)),
    "Conv2D": (lambda: L.Conv2D(4, 3, groups=2), (5, 5, 6)),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(4, 3, groups=2), (5, 5, 6)),
    "Conv3D": (lambda: L.Conv3D(2, 3, use_bias=False), (4, 4, 4, 3)),
    "Conv3DTranspose": (lambda: L.Conv3DTranspose(2, (2, 3, 3), strides=2), (3, 4, 4, 5)),
    "Cropping1D": (lambda: L.Cropping1D((1, 2)), (8, 3)),
    "Cropping2D": (lambda: L.Cropping2D(1), (6, 6, 3)),
    "Cropping3D": (lambda: L.Cropping3D(1), (4, 4, 4, 2)),
    "Dense": (lambda: L.Dense(5), (6,)),
    "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, depth_multiplier=2), (8, 3)),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, depth_multiplier=2), (5, 5, 6)),
    "Dot": (lambda: L.Dot(axes=-1), [(3, 4), (5, 4)]),
    "Dropout": (lambda: L.Dropout(0.5), (6,)),
    "ELU": (lambda: L.ELU(), (6,)),
    "Embedding": (lambda: L.Embedding(10, 4), (5,)),
    "FilterBank": (lambda: L.FilterBank(np.ones((3, 3, 2, 4), np.float32)), (6, 6, 2)),
    "Flatten": (lambda: L.Flatten(), (3, 3, 2)),
    "GRU": (lambda: L.GRU(3), (5, 4)),
    "GaussianDropout": (lambda: L.GaussianDropout(0.1), (6,)),
    "GaussianNoise": (lambda: L.GaussianNoise(0.1), (6,)),
    "GlobalAveragePooling1D": (lambda: L.GlobalAveragePooling1D(), (7, 4)),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), (5, 5, 4)),
    "GlobalAveragePooling3D": (lambda: L.GlobalAveragePooling3D(), (2, 3, 4, 5)),
    "GlobalMaxPooling1D": (lambda: L.GlobalMaxPooling1D(), (7, 4)),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), (5, 5, 4)),
    "GlobalMaxPooling3D": (lambda: L.GlobalMaxPooling3D(), (2, 3, 4, 5)),
    "GroupNormalization": (lambda: L.GroupNormalization(2), (5, 5, 4)),
    "Identity": (lambda: L.Identity(), (6,)),
    "LSTM": (lambda: L.LSTM(3, return_sequences=True), (5, 4)),
    "Lambda": (lambda: L.Lambda(lambda x: x * 2.0), (6,)),
    "LayerNormalization": (lambda: L.LayerNormalization(axis=[-2, -1]), (5, 4)),
    "LeakyReLU": (lambda: L.LeakyReLU(), (6,)),
    "LocalResponseNormalization": (lambda: L.LocalResponseNormalization(), (4, 4, 8)),
    "Masking": (lambda: L.Masking(), (5, 4)),
    "MaxPooling1D": (lambda: L.MaxPooling1D(2), (8, 3)),
    "MaxPooling2D": (lambda: L.MaxPooling2D(2), (6, 6, 3)),
    "MaxPooling3D": (lambda: L.MaxPooling3D(2), (4, 4, 4, 2)),
    "Maximum": (lambda: L.Maximum(), [(4, 3), (4, 3)]),
    "Minimum": (lambda: L.Minimum(), [(4, 3), (4, 3)]),
    "Multiply": (lambda: L.Multiply(), [(4, 3), (4, 3)]),
    "Normalization": (lambda: L.Normalization(), (5, 3)),
    "PReLU": (lambda: L.PReLU(shared_axes=[1]), (5, 3)),
    "Permute": (lambda: L.Permute((2, 1)), (5, 3)),
    "RandomContrast": (lambda: L.RandomContrast(0.2), (6, 6, 3)),
    "RandomCrop": (lambda: L.RandomCrop(4, 4), (6, 6, 3)),
    "RandomFlip": (lambda: L.RandomFlip(), (6, 6, 3)),
    "RandomRotation": (lambda: L.RandomRotation(0.1), (6, 6, 3)),
    "RandomTranslation": (lambda: L.RandomTranslation(0.1, 0.1), (6, 6, 3)),
    "RandomZoom": (lambda: L.RandomZoom(0.1), (6, 6, 3)),
    "ReLU": (lambda: L.ReLU(), (6,)),
    "RepeatVector": (lambda: L.RepeatVector(3), (6,)),
    "Rescaling": (lambda: L.Rescaling(1 / 255), (6, 6, 3)),
    "Reshape": (lambda: L.Reshape((-1,)), (3, 4)),
    "Resizing": (lambda: L.Resizing(4, 5), (6, 6, 3)),
    "SeparableConv1D": (lambda: L.SeparableConv1D(5, 3, depth_multiplier=2), (8, 3)),
    "SeparableConv2D": (lambda: L.SeparableConv2D(7, 3), (5, 5, 6)),
    "SimpleRNN": (lambda: L.SimpleRNN(3), (5, 4)),
    "Softmax": (lambda: L.Softmax(), (6,)),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.1), (5, 3)),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.1), (5, 5, 3)),
    "SpatialDropout3D": (lambda: L.SpatialDropout3D(0.1), (3, 3, 3, 2)),
    "Subtract": (lambda: L.Subtract(), [(4, 3), (4, 3)]),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(3)), (5, 4)),
    "UpSampling1D": (lambda: L.UpSampling1D(2), (5, 3)),
    "UpSampling2D": (lambda: L.UpSampling2D(2), (5, 5, 3)),
    "UpSampling3D": (lambda: L.UpSampling3D(2), (2, 2, 2, 3)),
    "ZeroPadding1D": (lambda: L.ZeroPadding1D(2), (5, 3)),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(1), (5, 5, 3)),
    "ZeroPadding3D": (lambda: L.ZeroPadding3D(1), (2, 2, 2, 3)),
}
NOT_PLANNED = {"Layer", "InputLayer"}  # the base class; InputLayer only declares the input (no row of its own)


def exported_layer_classes():
    """The distinct Layer subclasses striate.layers exports (aliases such as MaxPool2D once)."""
    classes = {getattr(L, name) for name in L.__all__}
    return sorted(c.__name__ for c in classes if isinstance(c, type) and issubclass(c, L.Layer))


def with_batch(shape):
    return [(None, *s) for s in shape] if isinstance(shape, list) else (None, *shape)


def test_every_exported_layer_has_a_case_here():
    assert set(exported_layer_classes()) - NOT_PLANNED == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_unbuilt_parameter_count_equals_the_weights_built(name):
    make, shape = CASES[name]
    layer = make()
    if isinstance(shape, list):  # a merge: plan() reads the layer's own count on the list of shapes
        counted = layer.parameter_count(with_batch(shape))
    else:
        totals = plan([layer], shape).totals
        counted = (totals["params"], totals["trainable_params"])
    assert not layer.built and not layer.weights
    layer.ensure_built(with_batch(shape))
    real = (sum(w.size for w in layer.weights), sum(w.size for w in layer.trainable_weights))
    assert counted == real == (layer.count_params(), real[1])


@pytest.mark.parametrize("make, shape", [
    (lambda: L.LayerNormalization(), (5, 5, 4)), (lambda: L.LayerNormalization(center=False), (5, 4)),
    (lambda: L.GroupNormalization(2, scale=False), (5, 5, 4)), (lambda: L.PReLU(), (5, 5, 4)),
    (lambda: L.PReLU(shared_axes=[1, 2]), (5, 5, 4)), (lambda: L.BatchNormalization(trainable=False), (5, 4)),
    (lambda: L.Dense(3, trainable=False), (5, 4)), (lambda: L.Normalization(mean=0.5, variance=2.0), (5, 3)),
    (lambda: L.GRU(3, reset_after=False), (5, 4)), (lambda: L.Conv2D(4, 3, use_bias=False), (5, 5, 2)),
])
def test_unbuilt_counts_follow_the_arguments(make, shape):
    layer = make()
    counted = layer.parameter_count((None, *shape))
    layer.ensure_built((None, *shape))
    assert counted == (layer.count_params(), sum(w.size for w in layer.trainable_weights))


def test_normalization_and_prelu_counts_by_hand():
    assert L.LayerNormalization().parameter_count((None, 5, 5, 4)) == (2 * 4, 2 * 4)       # gamma, beta (C,)
    assert L.GroupNormalization(2).parameter_count((None, 5, 5, 4)) == (2 * 4, 2 * 4)
    assert L.PReLU().parameter_count((None, 5, 5, 4)) == (5 * 5 * 4, 5 * 5 * 4)            # one alpha per value
    assert L.PReLU(shared_axes=[1, 2]).parameter_count((None, 5, 5, 4)) == (4, 4)          # one per channel
    assert L.Normalization().parameter_count((None, 5, 3)) == (3 + 3 + 1, 0)               # mean, variance, count
    assert L.LSTM(3).parameter_count((None, 5, 4)) == (4 * 3 * (4 + 3 + 1),) * 2


def test_a_built_layer_counts_its_weights_not_its_arguments():
    layer = L.Dense(3)
    layer.ensure_built((None, 4))
    assert layer.parameter_count((None, 100)) == (4 * 3 + 3, 4 * 3 + 3)


ARITHMETIC = ("weight_shapes", "parameter_count", "multiply_accumulates", "floating_point_operations",
              "sliding_window", "receptive_field")


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_layer_shadows_the_arithmetic_methods_with_an_attribute(name):
    make, shape = CASES[name]
    layer = make()
    layer.ensure_built(with_batch(shape))
    assert not set(ARITHMETIC) & set(vars(layer))
    assert all(callable(getattr(layer, method)) for method in ARITHMETIC)


# ---- multiply-accumulates, FLOPs and windows, by hand -------------------------------------------------------------
def test_conv1d_causal_window_pads_k_minus_1_times_d_before_and_none_after():
    layer = L.Conv1D(4, 3, padding="causal", dilation_rate=2)
    kernel, strides, dilation, pads = layer.sliding_window((None, 10, 3))
    assert (kernel, strides, dilation) == ((3,), (1,), (2,))
    assert pads == (((3 - 1) * 2, 0),)


def test_transposed_convolutions_scatter_every_input_through_the_kernel():
    # Conv1DTranspose(2, 3, strides=2) on (10, 3): length (10 - 1) * 2 + 3 = 21
    layer = L.Conv1DTranspose(2, 3, strides=2)
    out = layer.compute_output_shape((None, 10, 3))
    assert out == (None, 21, 2)
    assert layer.multiply_accumulates((None, 10, 3), out) == 10 * 3 * 3 * 2
    assert layer.floating_point_operations((None, 10, 3), out) == 2 * 180 + 21 * 2    # products, bias
    assert layer.sliding_window((None, 10, 3)) is None
    # Conv3DTranspose(2, (2, 3, 3), strides=(1, 2, 2)) on (3, 4, 4, 5): (3-1)+2 = 4, (4-1)*2+3 = 9
    layer = L.Conv3DTranspose(2, (2, 3, 3), strides=(1, 2, 2))
    out = layer.compute_output_shape((None, 3, 4, 4, 5))
    assert out == (None, 4, 9, 9, 2)
    assert layer.parameter_count((None, 3, 4, 4, 5)) == (2 * 3 * 3 * 2 * 5 + 2,) * 2
    assert layer.multiply_accumulates((None, 3, 4, 4, 5), out) == 3 * 4 * 4 * 5 * (2 * 3 * 3) * 2
    assert layer.floating_point_operations((None, 3, 4, 4, 5), out) == 2 * 8640 + 4 * 9 * 9 * 2


def test_depthwise_and_separable_conv1d_count_per_position():
    depthwise = L.DepthwiseConv1D(3, depth_multiplier=2, activation="relu")        # (8, 3) -> (6, 6)
    assert depthwise.parameter_count((None, 8, 3)) == (3 * 3 * 2 + 6,) * 2
    assert depthwise.multiply_accumulates((None, 8, 3), (None, 6, 6)) == 6 * (3 * 2) * 3
    assert depthwise.floating_point_operations((None, 8, 3), (None, 6, 6)) == 2 * 108 + 36 + 36  # bias, relu
    assert depthwise.sliding_window((None, 8, 3)) == ((3,), (1,), (1,), ((0, 0),))
    separable = L.SeparableConv1D(5, 3)                                             # (8, 3) -> (6, 5)
    assert separable.parameter_count((None, 8, 3)) == (3 * 3 + 3 * 5 + 5,) * 2
    assert separable.multiply_accumulates((None, 8, 3), (None, 6, 5)) == 6 * 3 * 3 + 6 * 3 * 5
    assert separable.floating_point_operations((None, 8, 3), (None, 6, 5)) == 2 * 144 + 6 * 5


def test_global_pooling_1d_and_3d_compare_or_add_every_cell():
    assert L.GlobalMaxPooling1D().floating_point_operations((None, 7, 4), (None, 4)) == 4 * (7 - 1)
    assert L.GlobalAveragePooling1D().floating_point_operations((None, 7, 4), (None, 4)) == 4 * 7
    cells = 2 * 3 * 4
    assert L.GlobalMaxPooling3D().floating_point_operations((None, 2, 3, 4, 5), (None, 5)) == 5 * (cells - 1)
    assert L.GlobalAveragePooling3D(keepdims=True).floating_point_operations(
        (None, 2, 3, 4, 5), (None, 1, 1, 1, 5)) == 5 * cells
    assert L.GlobalAveragePooling3D().sliding_window((None, 2, 3, 4, 5)) == (
        (2, 3, 4), (2, 3, 4), (1, 1, 1), ((0, 0), (0, 0), (0, 0)))


@pytest.mark.parametrize("make, inputs, flops", [
    (L.Multiply, 3, 20 * 2), (L.Maximum, 2, 20), (L.Minimum, 4, 20 * 3), (L.Subtract, 2, 20),
    (L.Add, 3, 20 * 2), (L.Average, 3, 20 * 3),                               # Average: 2 adds and a divide
])
def test_merges_cost_one_flop_per_output_per_extra_input(make, inputs, flops):
    shapes = [(None, 4, 5)] * inputs
    layer = make()
    assert layer.floating_point_operations(shapes, layer.compute_output_shape(shapes)) == flops
    assert layer.multiply_accumulates(shapes, (None, 4, 5)) == 0


def test_a_broadcast_merge_counts_its_outputs():
    shapes = [(None, 4, 5), (None, 1, 5)]
    assert L.Multiply().floating_point_operations(shapes, (None, 4, 5)) == 4 * 5


def test_dot_sums_k_products_per_output():
    layer = L.Dot(axes=2)                             # (3, 4) . (5, 4) over the 4: (3, 5)
    shapes = [(None, 3, 4), (None, 5, 4)]
    assert layer.compute_output_shape(shapes) == (None, 3, 5)
    assert layer.multiply_accumulates(shapes, (None, 3, 5)) == 3 * 5 * 4
    assert L.Dot(axes=2, normalize=True).floating_point_operations(shapes, (None, 3, 5)) == 2 * 60 + 3 * (12 + 20)


def test_elementwise_layers_count_per_element():
    shape = (None, 5, 5, 4)
    assert L.GroupNormalization(2).floating_point_operations(shape, shape) == 100 * (5 + 2)
    assert L.LayerNormalization(center=False).floating_point_operations(shape, shape) == 100 * (5 + 1)
    assert L.Softmax().floating_point_operations(shape, shape) == 100 * 3
    assert L.PReLU().floating_point_operations(shape, shape) == 100
    assert L.Rescaling(2.0, 1.0).floating_point_operations(shape, shape) == 100 * 2
    assert L.Dropout(0.5).floating_point_operations(shape, shape) == 0
    assert L.Resizing(10, 10).floating_point_operations(shape, (None, 10, 10, 4)) == 400 * 7
    assert L.UpSampling2D(2).floating_point_operations(shape, (None, 10, 10, 4)) == 0


def test_recurrent_layers_multiply_inputs_and_state_every_step():
    # LSTM(3) on (5 steps, 4 features): 4 gates of 3 units, x_t (4) and h (3) each step
    layer = L.LSTM(3)
    assert layer.multiply_accumulates((None, 5, 4), (None, 3)) == 5 * 4 * 3 * (4 + 3)
    assert L.TimeDistributed(L.Dense(3)).multiply_accumulates((None, 5, 4), (None, 5, 3)) == 5 * 4 * 3


def test_a_model_used_as_a_layer_answers_with_its_plan():
    inner = striate.models.Sequential([L.Conv2D(2, 3), L.MaxPooling2D(2)])
    inner.ensure_built((None, 8, 8, 1))
    assert inner.multiply_accumulates((None, 8, 8, 1), (None, 3, 3, 2)) == 6 * 6 * 2 * 9
    assert inner.parameter_count((None, 8, 8, 1)) == (9 * 2 + 2, 9 * 2 + 2)
