"""NaN and infinity: refused in a training batch (naming the batch), in a saved model (naming the weight)."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.models.saving import load_model, save_model, save_weights
from striate.training.finite import count_non_finite


def tiny_problem(count=96):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((count, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def compiled_model():
    striate.set_random_seed(0)
    model = striate.Sequential([L.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(striate.optim.SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
    return model


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_input_stops_fit_naming_the_batch_and_the_sample(bad):
    x, y = tiny_problem()
    x[70, 2] = bad  # without shuffling, sample 70 is sample 70 - 2 * 32 = 6 of batch 3 (counting from 1)
    with pytest.raises(ValueError, match=r"input batch 3 of epoch 1 \(counting from 1\) holds 1 NaN or infinite "
                                         r"values, the first in sample 6 of the batch"):
        compiled_model().fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)


def test_a_non_finite_float_target_is_refused_as_well():
    x, _ = tiny_problem()
    model = striate.Sequential([L.Dense(1, input_shape=(4,))])
    model.compile(striate.optim.SGD(0.1), "mse")
    y = x[:, :1].copy()
    y[5] = np.nan
    with pytest.raises(ValueError, match="target batch 1 of epoch 1"):
        model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)


def test_count_non_finite_counts_only_nan_and_inf_even_when_the_sum_overflows():
    big = np.array([3e38, 3e38, 1.0], dtype=np.float32)  # the float32 sum is inf, every value is finite
    with np.errstate(over="ignore"):
        assert np.isinf(big.sum())
    assert count_non_finite(big) == 0
    assert count_non_finite(np.array([1.0, np.nan, np.inf, -np.inf, 2.0])) == 3
    assert count_non_finite(np.array([1, 2, 3])) == 0


def test_saving_a_model_with_a_nan_weight_is_refused_naming_the_weight(tmp_path):
    striate.set_random_seed(0)
    model = striate.Sequential([L.Dense(2, input_shape=(4,))])
    model.weights[1].data[1] = np.nan  # the Dense layer's bias
    path = tmp_path / "model.safetensors"
    with pytest.raises(ValueError, match=rf"save_model: 1 weights hold NaN or infinity: {model.weights[1].name} "
                                         r"\(1 values\).*not written \(allow_non_finite=True"):
        save_model(model, path)
    with pytest.raises(ValueError, match="save_weights: 1 weights hold NaN"):
        save_weights(model, path)
    assert not path.exists()
    save_model(model, path, allow_non_finite=True)
    loaded = load_model(path)
    assert np.isnan(loaded.weights[1].data[1]) and np.isfinite(loaded.weights[0].data).all()


def test_each_input_of_a_model_of_several_inputs_is_checked():
    from striate.training.finite import check_finite_batch

    images, extra = np.zeros((4, 3, 3, 1), np.float32), np.zeros((4, 2), np.float32)
    check_finite_batch([images, extra], np.zeros(4, np.int64), 0, 0)
    extra[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"input batch 2 of epoch 3 .* holds 1 NaN or infinite values, the first in "
                                         r"sample 2 of the batch; .* shape \(4, 2\)"):
        check_finite_batch([images, extra], np.zeros(4, np.int64), 2, 1)
