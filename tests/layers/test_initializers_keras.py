"""The initializers against keras.initializers: Constant and Identity value for value; the random ones by
distribution (random streams differ): the standard deviation both give and the formula's, the bounds
(uniform limits, truncation at 2 stddev), the mean, and orthogonality W^T W = gain^2 I; and their Keras
names as layers' kernel_initializer strings."""

from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy  # noqa: I001 (selects Keras' torch backend first)

import math

import numpy as np
import pytest

import striate
from striate import initializers

pytestmark = IGNORE_KERAS_WARNINGS
SHAPE = (3, 3, 64, 96)  # fan_in 576, fan_out 864: 55296 values, a standard deviation to ~0.5 %
FAN = {"fan_in": 576, "fan_out": 864, "fan_avg": 720}


def both(class_name, shape, **arguments):
    """(striate's values, Keras' values) of the same initializer, float64."""
    ours = getattr(initializers, class_name)(**arguments)(shape)
    theirs = to_numpy(getattr(keras.initializers, class_name)(**arguments)(shape))
    assert ours.shape == theirs.shape == tuple(shape) and ours.dtype == np.float32
    return ours.astype(np.float64), theirs.astype(np.float64)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform", "normal"])
def test_variance_scaling_draws_keras_distribution(mode, distribution):
    ours, theirs = both("VarianceScaling", SHAPE, scale=2.0, mode=mode, distribution=distribution)
    std = math.sqrt(2.0 / FAN[mode])  # every distribution has variance scale / fan
    for values in (ours, theirs):
        assert abs(values.mean()) < 0.02 * std
        assert values.std() == pytest.approx(std, rel=0.02)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    if distribution == "uniform":
        limit = float(np.float32(math.sqrt(3) * std))  # the values are float32: the limit rounded as they are
        for values in (ours, theirs):
            assert np.abs(values).max() <= limit and np.abs(values).max() > 0.999 * limit
    elif distribution == "untruncated_normal":
        assert np.abs(ours).max() > 3.5 * std and np.abs(theirs).max() > 3.5 * std
    else:  # truncated at 2 standard deviations of the normal drawn, std / 0.8796
        assert_truncated(ours, theirs, 2 * std / 0.87962566103423978)


def assert_truncated(ours, theirs, bound):
    """Ours within the bound; Keras' torch backend keeps the first of 4 draws inside it, or the first draw
    when all 4 fall outside (p = 0.0455^4 each): a handful of its values may lie beyond."""
    assert 0.99 * bound < np.abs(ours).max() <= bound * (1 + 1e-6)
    assert np.mean(np.abs(theirs) > bound * (1 + 1e-6)) < 1e-4 and np.abs(theirs).max() > 0.99 * bound


@pytest.mark.parametrize(("class_name", "std", "limit"), [
    ("LecunNormal", math.sqrt(1 / 576), 2 * math.sqrt(1 / 576) / 0.87962566103423978),
    ("LecunUniform", math.sqrt(1 / 576), math.sqrt(3 / 576)),
])
def test_lecun_draws_keras_distribution(class_name, std, limit):
    ours, theirs = both(class_name, SHAPE)
    for values in (ours, theirs):
        assert values.std() == pytest.approx(std, rel=0.02) and abs(values.mean()) < 0.02 * std
    assert_truncated(ours, theirs, limit)


def test_truncated_normal_keeps_two_stddev_about_the_mean():
    ours, theirs = both("TruncatedNormal", (200, 300), mean=1.0, stddev=0.5)
    for values in (ours, theirs):
        assert values.mean() == pytest.approx(1.0, abs=0.005)
        assert values.std() == pytest.approx(0.5 * 0.87962566103423978, rel=0.02)  # a truncated normal's spread
    assert_truncated(ours - 1.0, theirs - 1.0, 1.0)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (3, 3, 8, 16), (2, 5, 12)])
def test_orthogonal_gives_orthonormal_columns_or_rows(shape):
    ours, theirs = both("OrthogonalInitializer", shape, gain=1.5)
    for values in (ours, theirs):
        flat = values.reshape(-1, shape[-1])
        gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(gram, 1.5**2 * np.eye(len(gram)), atol=1e-5)


def test_constant_and_identity_equal_keras():
    for class_name, shape, arguments in [("Constant", (2, 3, 4), dict(value=0.3)), ("Identity", (3, 5), dict(gain=2.0)),
                                         ("Identity", (4, 2), {}), ("Constant", (5,), {})]:
        ours, theirs = both(class_name, shape, **arguments)
        np.testing.assert_array_equal(ours, theirs)


def test_a_seed_repeats_the_values():
    for make in (lambda: initializers.VarianceScaling(seed=3), lambda: initializers.TruncatedNormal(seed=3),
                 lambda: initializers.OrthogonalInitializer(seed=3), lambda: initializers.LecunUniform(seed=3)):
        np.testing.assert_array_equal(make()((6, 4)), make()((6, 4)))
    assert not np.array_equal(initializers.LecunNormal()((6, 4)), initializers.LecunNormal()((6, 4)))


@pytest.mark.parametrize(("class_name", "arguments"), [
    ("VarianceScaling", dict(scale=2.0, mode="fan_out", distribution="uniform", seed=1)),
    ("TruncatedNormal", dict(mean=0.5, stddev=0.1, seed=None)), ("Constant", dict(value=2.0)),
    ("Identity", dict(gain=3.0)), ("LecunNormal", dict(seed=7)), ("LecunUniform", {}),
    ("OrthogonalInitializer", dict(gain=2.0, seed=4)), ("STFT", dict(side="imag", window="hamming")),
])
def test_config_has_keras_arguments_and_round_trips(class_name, arguments):
    ours = getattr(initializers, class_name)(**arguments)
    theirs = getattr(keras.initializers, class_name)(**arguments)
    config = ours.get_config()
    assert config["class_name"] == class_name
    # Keras' Identity leaves gain out of its config (so its from_config forgets it): striate keeps it
    assert config["config"] == {**theirs.get_config(), **({"gain": 3.0} if class_name == "Identity" else {})}
    rebuilt = initializers.get(config)
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == config


@pytest.mark.parametrize(("name", "std"), [
    ("lecun_normal", math.sqrt(1 / 1152)), ("lecun_uniform", math.sqrt(1 / 1152)),
    ("variance_scaling", math.sqrt(1 / 1152)), ("truncated_normal", 0.05 * 0.87962566103423978),
])
def test_names_work_as_kernel_initializer_strings(name, std):
    layer = striate.layers.Conv2D(64, 3, kernel_initializer=name)
    layer(np.zeros((1, 8, 8, 128), np.float32))
    kernel = layer.get_weights()[0]
    assert kernel.shape == (3, 3, 128, 64) and kernel.std() == pytest.approx(std, rel=0.03)


def test_identity_and_constant_strings_give_their_weights():
    dense = striate.layers.Dense(4, kernel_initializer="identity", bias_initializer="constant")
    dense(np.zeros((1, 4), np.float32))
    np.testing.assert_array_equal(dense.get_weights()[0], np.eye(4))
    np.testing.assert_array_equal(dense.get_weights()[1], np.zeros(4))
    dense = striate.layers.Dense(3, kernel_initializer="orthogonal")
    dense(np.zeros((1, 5), np.float32))
    np.testing.assert_allclose(dense.get_weights()[0].T @ dense.get_weights()[0], np.eye(3), atol=1e-6)


BAD_ARGUMENTS = {
    "mode": (lambda: initializers.VarianceScaling(mode="fan_max"), "VarianceScaling: needs scale > 0"),
    "scale": (lambda: initializers.VarianceScaling(scale=0.0), "VarianceScaling: needs scale > 0"),
    "identity_rank": (lambda: initializers.Identity()((2, 2, 2)), r"Identity: initializes 2D weights only; received"),
    "orthogonal_rank": (lambda: initializers.OrthogonalInitializer()((4,)), "OrthogonalInitializer: needs a shape"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_argument_raises(case):
    make, message = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("arguments", [{}, dict(side="imag", window="hamming", scaling="spectrum", periodic=True),
                                       dict(window=None, scaling=None), dict(window=np.linspace(0, 1, 16))])
def test_stft_kernel_equals_keras(arguments):
    ours, theirs = both("STFT", (16, 1, 9), **arguments)
    # Keras forms the angles 2 pi t f / N in float32: its sin at multiples of pi is ~2e-6, striate's 0
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=5e-6)


def test_stft_real_kernel_is_the_dft_of_windowed_frames():
    # a convolution with the kernel gives Re(rfft(frame * hann)) / sqrt(sum hann^2) (numpy's FFT as reference)
    kernel = initializers.STFT()((8, 1, 5))[:, 0, :]
    frame = np.random.default_rng(0).normal(size=8)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 7)  # the symmetric Hann window
    expected = np.fft.rfft(frame * window).real / np.sqrt(np.sum(window**2))
    np.testing.assert_allclose(frame @ kernel, expected, rtol=1e-5, atol=1e-6)
