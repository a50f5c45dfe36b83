"""Weight initializers, by Keras name or as objects.

fan_in and fan_out of a kernel (*kernel_size, C_in, C_out) are prod(kernel_size) * C_in and
prod(kernel_size) * C_out (for a Dense kernel (C_in, C_out), just C_in and C_out).

    glorot_uniform  U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))     (Glorot & Bengio 2010)
    glorot_normal   truncated normal, stddev sqrt(2 / (fan_in + fan_out))
    he_uniform      U(-limit, limit), limit = sqrt(6 / fan_in)                   (He et al. 2015)
    he_normal       truncated normal, stddev sqrt(2 / fan_in)
    zeros, ones, RandomUniform(minval, maxval) (the lectures' small random start: -0.01..0.01), RandomNormal

and Keras' general forms, each with an optional `seed` (the same values at every call; without one, draws
from striate's generator, striate.core.random):

    VarianceScaling(scale, mode, distribution)   s = scale / max(1, n), n = fan_in, fan_out or their mean:
        "truncated_normal"    normal truncated at 2 stddev, stddev sqrt(s) / 0.8796 (the truncated std is sqrt(s))
        "untruncated_normal"  N(0, s)
        "uniform"             U(-sqrt(3 s), sqrt(3 s))
    lecun_normal, lecun_uniform   VarianceScaling(1, "fan_in", ...)                        (LeCun et al. 1998)
    TruncatedNormal(mean, stddev) N(mean, stddev^2) truncated to mean +- 2 stddev
    Constant(value), Identity(gain) (gain * I for a 2D shape)
    OrthogonalInitializer(gain)   gain * Q, Q with orthonormal columns (or rows) once reshaped to
                                  (prod(shape[:-1]), shape[-1])                              (Saxe et al. 2014)
    STFT(side, window, scaling)   the windowed Fourier basis of a convolution computing a short-time
                                  Fourier transform
"""

import math

import numpy as np

from striate.core.random import generator

# a normal truncated at two standard deviations has this standard deviation (Keras' correction)
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape; with input_axes and output_axes, the products of those axes."""
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 2:
        return (shape[0], shape[0]) if shape else (1, 1)
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, stddev, rng):
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return values * stddev / TRUNCATED_NORMAL_STDDEV


class Initializer:
    """A weight initializer: `init(shape, dtype)` gives an array; subclasses write `sample(shape, rng)`."""

    seed = None  # an int: each call draws from a new generator of that seed (the same values every time)

    def __call__(self, shape, dtype=np.float32, rng=None):
        if rng is None:
            rng = generator() if self.seed is None else np.random.default_rng(self.seed)
        return np.asarray(self.sample(tuple(shape), rng), dtype=dtype)

    def sample(self, shape, rng):
        raise NotImplementedError

    def get_config(self):
        return {"class_name": type(self).__name__, "config": dict(vars(self))}


class Zeros(Initializer):
    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    def sample(self, shape, rng):
        return np.ones(shape)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = mean, stddev

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)


class GlorotUniform(Initializer):
    def sample(self, shape, rng):
        fan_in, fan_out = fans(shape)
        limit = math.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    def sample(self, shape, rng):
        fan_in, fan_out = fans(shape)
        return _truncated_normal(shape, math.sqrt(2 / (fan_in + fan_out)), rng)


class HeUniform(Initializer):
    def sample(self, shape, rng):
        limit = math.sqrt(6 / fans(shape)[0])
        return rng.uniform(-limit, limit, shape)


class HeNormal(Initializer):
    def sample(self, shape, rng):
        return _truncated_normal(shape, math.sqrt(2 / fans(shape)[0]), rng)


class Constant(Initializer):
    """Every entry `value`."""

    def __init__(self, value=0.0):
        self.value = value

    def sample(self, shape, rng):
        return np.full(shape, self.value, dtype=np.float64)


class Identity(Initializer):
    """gain * I (ones on the main diagonal) of a 2D shape, square or not."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def sample(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(f"Identity: initializes 2D weights only; received shape {shape}")
        return self.gain * np.eye(*shape)


class TruncatedNormal(Initializer):
    """N(mean, stddev^2) with values beyond 2 stddev from the mean redrawn (so the spread is 0.88 stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, rng):
        return self.mean + _truncated_normal(shape, self.stddev * TRUNCATED_NORMAL_STDDEV, rng)


class VarianceScaling(Initializer):
    """Values of variance scale / n, n the fan of `mode` (module docstring), as keras.initializers.

    Args:
        scale: > 0.
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal" ("normal" is the same), "untruncated_normal" or "uniform".
        input_axes, output_axes: the axes whose sizes multiply into fan_in and fan_out (both, or neither).
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        distribution = "truncated_normal" if distribution.lower() == "normal" else distribution.lower()
        if scale <= 0 or mode not in self.MODES or distribution not in self.DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: needs scale > 0, mode in {self.MODES} and distribution in "
                             f"{self.DISTRIBUTIONS}; received scale={scale}, mode={mode!r}, "
                             f"distribution={distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.input_axes, self.output_axes = input_axes, output_axes

    def sample(self, shape, rng):
        fan_in, fan_out = fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            return _truncated_normal(shape, math.sqrt(variance), rng)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        limit = math.sqrt(3 * variance)
        return rng.uniform(-limit, limit, shape)


class LecunNormal(VarianceScaling):
    """Truncated normal of std sqrt(1 / fan_in): VarianceScaling(1, "fan_in", "truncated_normal")."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {"class_name": type(self).__name__,
                "config": {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}}


class LecunUniform(VarianceScaling):
    """U(-sqrt(3 / fan_in), sqrt(3 / fan_in)): VarianceScaling(1, "fan_in", "uniform")."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_in", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {"class_name": type(self).__name__,
                "config": {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}}


class OrthogonalInitializer(Initializer):
    """gain * Q: the weights, reshaped to (prod(shape[:-1]), shape[-1]), have orthonormal columns (or rows,
    when there are fewer rows than columns), so W^T W = gain^2 I. Q comes from the QR factorization of a
    standard normal matrix, its columns' signs set by diag(R) so that Q is uniform over orthogonal matrices.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"OrthogonalInitializer: needs a shape of at least two axes; received {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        return self.gain * (q if rows >= cols else q.T).reshape(shape)


class STFT(Initializer):
    """The kernel (frame_length T, input_channels, F) of a 1D convolution whose outputs are the real or
    imaginary parts of the discrete Fourier transform of each windowed frame, for an FFT of length
    N = 2 (F - 1) (F = N / 2 + 1 non-negative frequencies), as keras.initializers.STFT:

        kernel[t, :, f] = cos(-2 pi t f / N) * w[t] / s      (side "real"; sin for "imag")

    w the window (a scipy.signal.get_window name, an array of length T, or None for no window) and s its
    scaling: sqrt(sum w^2) ("density"), sum |w| ("spectrum") or 1 (None).

    Args:
        side: "real" or "imag".
        window: a window name ("hann", "hamming", ...), a (T,) array, or None.
        scaling: "density", "spectrum" or None.
        periodic: a periodic window (for spectral analysis) rather than a symmetric one.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag") or scaling not in (None, "density", "spectrum"):
            raise ValueError(f"STFT: side must be 'real' or 'imag' and scaling None, 'density' or 'spectrum'; "
                             f"received side={side!r}, scaling={scaling!r}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # an unknown name raises here
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def sample(self, shape, rng):
        if len(shape) != 3:
            raise ValueError(f"STFT: needs a shape (frame_length, input_channels, fft_bins); received {shape}")
        frame_length, _, bins = shape
        time = np.arange(frame_length, dtype=np.float64)[:, None, None]
        frequency = np.arange(bins, dtype=np.float64)[None, None, :] / ((bins - 1) * 2)
        angle = -2 * time * frequency * np.pi
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            window = self.window
            if isinstance(window, str):
                window = _window(window, frame_length, self.periodic)
            window = np.asarray(window, dtype=np.float64)
            if window.shape != (frame_length,):
                raise ValueError(f"STFT: the window must have shape ({frame_length},); received {window.shape}")
            scale = {"density": np.sqrt(np.sum(window**2)), "spectrum": np.sum(np.abs(window)), None: 1.0}
            kernel = kernel * window[:, None, None] / scale[self.scaling]
        return np.broadcast_to(kernel, shape)


def _window(name, length, periodic):
    """scipy.signal.get_window(name, length, fftbins=periodic) (scipy.signal is imported here, when needed:
    it takes a second to load)."""
    import scipy.signal

    return scipy.signal.get_window(name, length, periodic)


BY_NAME = {
    "zeros": Zeros, "ones": Ones, "random_uniform": RandomUniform, "random_normal": RandomNormal,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "constant": Constant, "identity": Identity, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": OrthogonalInitializer, "stft": STFT,
}
BY_CLASS = {cls.__name__: cls for cls in BY_NAME.values()}
BY_CLASS.update({"IdentityInitializer": Identity, "Orthogonal": OrthogonalInitializer, "STFTInitializer": STFT})


def get(identifier):
    """An Initializer from a name ("glorot_uniform"), a config dict, or an Initializer (returned as is)."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in BY_NAME:
        return BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name") in BY_CLASS:
        return BY_CLASS[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"initializer: unknown {identifier!r}; expected one of {sorted(BY_NAME)} or an Initializer")
