"""The FFT algorithm computes what the direct loop computes, in all three passes, for every case."""

import numpy as np
import pytest
from algorithm_cases import assert_equals_direct, generated_cases

from striate.algorithms import direct, fft


@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"),
                         generated_cases(24, seed=5, kernel_sizes=(1, 3, 5)))
def test_fft_forward_and_both_gradients_equal_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(fft, x, kernel, strides, dilation, groups)


def test_fft_keeps_float32_and_its_error_small_on_a_large_kernel():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 30, 30, 3)).astype(np.float32)
    kernel = rng.standard_normal((11, 11, 3, 4)).astype(np.float32)
    y = fft.conv_forward(x, kernel, (1, 1), (1, 1), 1)
    reference = direct.conv_forward(x.astype(np.float64), kernel.astype(np.float64), (1, 1), (1, 1), 1)
    assert y.dtype == np.float32
    assert np.abs(y - reference).max() <= 1e-5 * np.abs(reference).max()
