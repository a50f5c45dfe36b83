"""FilterBank: a frozen Conv2D holding given kernels; fit leaves it as it is, plan and summary count it, and a
model holding it saves and loads."""

import numpy as np
import pytest
import scipy.ndimage as ndimage

import striate
from striate import filters
from striate import layers as L
from striate.inspect.plan import plan
from striate.layers.filter_bank import FilterBank

SOBEL_PAIR = np.concatenate([filters.sobel("y"), filters.sobel("x")], axis=3)  # (3, 3, 1, 2)


def edge_model():
    striate.set_random_seed(0)
    return striate.Sequential([FilterBank(SOBEL_PAIR, input_shape=(8, 8, 1)), L.Flatten(), L.Dense(1)])


def test_filter_bank_is_exported_by_striate_filters():
    assert filters.FilterBank is FilterBank
    assert isinstance(FilterBank(SOBEL_PAIR), L.Conv2D)


def test_output_equals_scipy_correlation_with_each_kernel():
    images = np.random.default_rng(0).random((2, 9, 11, 1)).astype(np.float32)
    output = FilterBank(SOBEL_PAIR, padding_mode="reflect")(images).numpy()
    assert output.shape == (2, 9, 11, 2)
    for n in range(2):
        for axis, channel in ((0, 0), (1, 1)):
            expected = ndimage.sobel(images[n, :, :, 0].astype(np.float64), axis=axis, mode="mirror")
            np.testing.assert_allclose(output[n, :, :, channel], expected, atol=1e-5)


def test_weights_are_not_trainable():
    layer = FilterBank(filters.gabor_bank(2, 1))
    layer(np.zeros((1, 20, 20, 1), np.float32))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1
    assert layer.weights[0].shape == filters.gabor_bank(2, 1).shape
    assert not layer.weights[0].requires_grad


def test_fit_leaves_the_bank_as_it_is_and_trains_the_rest():
    model = edge_model()
    bank, dense = model.layers[0], model.layers[2]
    model.compile(striate.optim.SGD(0.1), "mse")
    x = np.random.default_rng(1).random((16, 8, 8, 1)).astype(np.float32)
    y = np.random.default_rng(2).random((16, 1)).astype(np.float32)
    dense_before = dense.get_weights()[0].copy()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    np.testing.assert_array_equal(bank.get_weights()[0], SOBEL_PAIR)
    assert not np.array_equal(dense.get_weights()[0], dense_before)
    assert all(w is not bank.kernel for w in model.trainable_weights)
    assert any(w is bank.kernel for w in model.non_trainable_weights)


def test_plan_counts_its_multiplies_and_its_frozen_parameters():
    rows = plan([FilterBank(filters.gabor_bank(4, 2))], (32, 40, 1)).rows
    kernel_cells = filters.gabor_bank(4, 2).shape[0] ** 2
    bank_row = rows[-1]
    assert bank_row.output_shape == (None, 32, 40, 8)
    assert bank_row.macs == 32 * 40 * 8 * kernel_cells * 1
    assert bank_row.params == kernel_cells * 8 and bank_row.trainable_params == 0


def test_summary_reports_the_bank_as_non_trainable(capsys):
    edge_model().summary()
    printed = capsys.readouterr().out
    dense_params = 8 * 8 * 2 + 1
    assert f"Trainable params: {dense_params:,}" in printed
    assert "Non-trainable params: 18" in printed  # 3 * 3 * 1 * 2


def test_config_rebuilds_the_same_layer():
    layer = FilterBank(filters.gaussian(1.0), strides=2, padding="valid", padding_mode="replicate", name="blur")
    copy = FilterBank(**layer.get_config())
    images = np.random.default_rng(3).random((1, 12, 12, 1)).astype(np.float32)
    np.testing.assert_array_equal(copy(images).numpy(), layer(images).numpy())
    assert copy.name == "blur" and copy.compute_output_shape((None, 12, 12, 1)) == (None, 2, 2, 1)


def test_a_model_with_a_filter_bank_saves_and_loads(tmp_path):
    model = edge_model()
    images = np.random.default_rng(4).random((3, 8, 8, 1)).astype(np.float32)
    expected = model.predict(images)
    model.save(tmp_path / "edges.safetensors")
    loaded = striate.load_model(tmp_path / "edges.safetensors")
    assert isinstance(loaded.layers[0], FilterBank)
    np.testing.assert_array_equal(loaded.layers[0].get_weights()[0], SOBEL_PAIR)
    np.testing.assert_allclose(loaded.predict(images), expected, rtol=1e-6)


def test_wrong_channel_count_is_refused_when_built():
    with pytest.raises(ValueError, match=r"the kernels \(3, 3, 1, 2\) \(kh, kw, C_in, filters\) expect C_in = 1 "
                                         r"channels; received input shape \(None, 8, 8, 3\)"):
        FilterBank(SOBEL_PAIR)(np.zeros((1, 8, 8, 3), np.float32))


@pytest.mark.parametrize("arguments, message", [
    ({"kernels": np.zeros((3, 3, 1))}, r"kernels must be \(kh, kw, C_in, filters\) or \(kh, kw\)"),
    ({"kernels": np.full((3, 3), np.nan)}, "kernels must be finite"),
    ({"kernels": np.zeros((3, 3)), "padding_mode": "mirror"}, "padding_mode must be one of"),
])
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=f"FilterBank: {message}"):
        FilterBank(**arguments)
