"""Generated convolution cases and the one check every algorithm must pass: equal to `direct` in all three passes.

`generated_cases` draws shapes, strides, dilation and groups from a seeded generator, restricted to what an
algorithm serves (`kernel_sizes`, `strides`, ...); `assert_equals_direct` compares forward, input gradient and
kernel gradient in float64.
"""

import numpy as np
import pytest

from striate.algorithms import direct
from striate.algorithms.windows import windows_output_shape


def generated_cases(count, seed, ranks=(1, 2, 3), kernel_sizes=(1, 2, 3), strides=(1, 2, 3), dilations=(1, 2),
                    groups=(1, 2, 3), per_group_in=(1, 2), per_group_out=(1, 2), extra=(0, 5), batch=(1, 3)):
    """pytest params (x, kernel, strides, dilation, groups) of random float64 data."""
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        rank = int(ranks[index % len(ranks)])
        group_count = int(rng.choice(groups))
        channels_in, channels_out = int(rng.choice(per_group_in)), int(rng.choice(per_group_out))
        kernel_size = tuple(int(rng.choice(kernel_sizes)) for _ in range(rank))
        stride = tuple(int(rng.choice(strides)) for _ in range(rank))
        dilation = tuple(int(rng.choice(dilations)) for _ in range(rank))
        spatial = tuple(int(d * (k - 1) + 1 + rng.integers(*extra)) for k, d in zip(kernel_size, dilation))
        images = int(rng.integers(*batch))
        x = rng.standard_normal((images, *spatial, group_count * channels_in))
        kernel = rng.standard_normal((*kernel_size, channels_in, group_count * channels_out))
        label = f"case{index}-k{'x'.join(map(str, kernel_size))}-s{stride}-d{dilation}-g{group_count}"
        cases.append(pytest.param(x, kernel, stride, dilation, group_count, id=label))
    return cases


def output_gradient(x, kernel, strides, dilation, seed=1):
    rank = kernel.ndim - 2
    out_shape = windows_output_shape(x.shape[1:-1], kernel.shape[:rank], strides, dilation)
    return np.random.default_rng(seed).standard_normal((x.shape[0], *out_shape, kernel.shape[-1]))


def assert_equals_direct(module, x, kernel, strides, dilation, groups, tolerance=1e-10):
    """module's forward, input gradient and kernel gradient (and `conv_gradients`, if it has one) equal direct's."""
    grad_output = output_gradient(x, kernel, strides, dilation)
    np.testing.assert_allclose(module.conv_forward(x, kernel, strides, dilation, groups),
                               direct.conv_forward(x, kernel, strides, dilation, groups),
                               rtol=tolerance, atol=tolerance, err_msg="forward")
    np.testing.assert_allclose(module.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, groups),
                               direct.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, groups),
                               rtol=tolerance, atol=tolerance, err_msg="input gradient")
    np.testing.assert_allclose(module.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, groups),
                               direct.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, groups),
                               rtol=tolerance, atol=tolerance, err_msg="kernel gradient")
    if hasattr(module, "conv_gradients"):  # both gradients in one pass, where the module shares their work
        grad_input, grad_kernel = module.conv_gradients(x, grad_output, kernel, strides, dilation, groups)
        np.testing.assert_allclose(grad_input, direct.conv_input_gradient(grad_output, kernel, x.shape, strides,
                                                                          dilation, groups),
                                   rtol=tolerance, atol=tolerance, err_msg="conv_gradients: input gradient")
        np.testing.assert_allclose(grad_kernel, direct.conv_kernel_gradient(x, grad_output, kernel.shape, strides,
                                                                            dilation, groups),
                                   rtol=tolerance, atol=tolerance, err_msg="conv_gradients: kernel gradient")


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of one image and the runtime's threads even on tiny problems, so the chunked, threaded paths run."""
    from striate.algorithms import chunking, depthwise, winograd
    from striate.core import runtime

    monkeypatch.setattr(chunking, "CHUNK_BYTES", 1)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(depthwise, "CHUNK_BYTES", 1)


def assert_padded_equals_direct(module, x, kernel, strides, dilation, groups, padding, tolerance=1e-10):
    """A module that pads with zeros itself (`PADS_WITH_ZEROS`), given the unpadded x and `padding`, equals direct
    on the explicitly padded x: the same forward and kernel gradient, and direct's input gradient without its
    padding cells."""
    pad_width = ((0, 0), *padding, (0, 0))
    padded = np.pad(x, pad_width)
    inside = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
    grad_output = output_gradient(padded, kernel, strides, dilation)
    np.testing.assert_allclose(module.conv_forward(x, kernel, strides, dilation, groups, padding=padding),
                               direct.conv_forward(padded, kernel, strides, dilation, groups),
                               rtol=tolerance, atol=tolerance, err_msg="forward")
    grad_input = module.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, groups, padding=padding)
    expected_grad_input = direct.conv_input_gradient(grad_output, kernel, padded.shape, strides, dilation, groups)
    np.testing.assert_allclose(grad_input, expected_grad_input[inside], rtol=tolerance, atol=tolerance,
                               err_msg="input gradient")
    grad_kernel = module.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, groups, padding=padding)
    expected = direct.conv_kernel_gradient(padded, grad_output, kernel.shape, strides, dilation, groups)
    np.testing.assert_allclose(grad_kernel, expected, rtol=tolerance, atol=tolerance, err_msg="kernel gradient")
    if hasattr(module, "conv_gradients"):
        grad_input, grad_kernel = module.conv_gradients(x, grad_output, kernel, strides, dilation, groups,
                                                        padding=padding)
        np.testing.assert_allclose(grad_input, expected_grad_input[inside], rtol=tolerance, atol=tolerance,
                                   err_msg="conv_gradients: input gradient")
        np.testing.assert_allclose(grad_kernel, expected, rtol=tolerance, atol=tolerance,
                                   err_msg="conv_gradients: kernel gradient")
