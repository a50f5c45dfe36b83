"""Convolutions (channels-last, Keras kernel layouts) against torch.nn.functional, forward and gradients.

Every padding form is resolved here to explicit (before, after) pairs per axis; torch then pads with
`torch.nn.functional.pad` (zeros or the padding mode) and convolves with padding 0. "same" is TensorFlow's
SAME: out = ceil(n / s), the odd extra cell of padding goes after.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate.functional as F
from oracle import (
    channels_first,
    channels_last,
    check_against_torch,
    tf_same_padding,
    torch_conv_transpose_weight,
    torch_conv_weight,
    torch_pad_argument,
)

DTYPES = {"float64": np.float64, "float32": np.float32}
STRIATE_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
STRIATE_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}
TORCH_CONV_TRANSPOSE = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}
TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def per_axis(value, nd):
    return tuple(value) if isinstance(value, tuple | list) else (value,) * nd


def resolve_padding(padding, spatial, kernel, strides, dilation):
    """Any striate padding argument -> one (before, after) pair per spatial axis."""
    nd = len(spatial)
    kernel, strides, dilation = per_axis(kernel, nd), per_axis(strides, nd), per_axis(dilation, nd)
    if padding == "valid":
        return [(0, 0)] * nd
    if padding == "same":
        axes = zip(spatial, kernel, strides, dilation, strict=True)
        return [tf_same_padding(n, k, s, d) for n, k, s, d in axes]
    if padding == "full":
        return [((k - 1) * d, (k - 1) * d) for k, d in zip(kernel, dilation, strict=True)]
    if isinstance(padding, int):
        return [(padding, padding)] * nd
    return [tuple(p) if isinstance(p, tuple | list) else (p, p) for p in padding]


def describe(case: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items() if k != "nd").replace(" ", "")


# ---- conv1d / conv2d / conv3d -----------------------------------------------------------------------------
def conv_case(nd, spatial, c_in=2, c_out=3, kernel=3, strides=1, padding="valid", dilation=1, groups=1,
              mode="zeros", bias=True, batch=2):
    return dict(nd=nd, batch=batch, spatial=spatial, c_in=c_in, c_out=c_out, kernel=kernel, strides=strides,
                padding=padding, dilation=dilation, groups=groups, mode=mode, bias=bias)


def random_conv_cases(nd, count, seed):
    """Random small configurations; kernels fit the input, reflect padding stays below the input size."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        groups = int(rng.choice([1, 1, 2, 3]))
        kernel = tuple(int(k) for k in rng.integers(1, 5, nd))
        dilation = tuple(int(d) for d in rng.integers(1, 3, nd))
        strides = tuple(int(s) for s in rng.integers(1, 4, nd))
        padding = ["valid", "same", "full", 1, "pairs"][int(rng.integers(0, 5))]
        if padding == "pairs":
            padding = tuple((int(a), int(b)) for a, b in rng.integers(0, 3, (nd, 2)))
        mode = ["zeros", "zeros", "reflect", "replicate", "circular"][int(rng.integers(0, 5))]
        spatial = tuple(int(n) for n in rng.integers(4, 9 if nd < 3 else 6, nd))
        pads = resolve_padding(padding, spatial, kernel, strides, dilation)
        if any((k - 1) * d + 1 > n + a + b
               for k, d, n, (a, b) in zip(kernel, dilation, spatial, pads, strict=True)):
            continue
        if any(max(a, b) >= n for n, (a, b) in zip(spatial, pads, strict=True)):
            continue  # torch's reflect needs padding < size; keep every mode within it
        cases.append(conv_case(nd, spatial, c_in=groups * int(rng.integers(1, 3)),
                               c_out=groups * int(rng.integers(1, 3)), kernel=kernel, strides=strides,
                               padding=padding, dilation=dilation, groups=groups, mode=mode,
                               bias=bool(rng.random() < 0.5), batch=int(rng.integers(1, 3))))
    return cases


CONV_CASES = [
    # conv2d: every padding form
    conv_case(2, (6, 7), padding="valid"),
    conv_case(2, (1, 1), c_in=1, c_out=1, kernel=1, batch=1, bias=False),
    conv_case(2, (5, 5), c_in=1, c_out=1, batch=1, bias=False, padding="same"),
    conv_case(2, (6, 7), padding="same"),
    conv_case(2, (6, 7), kernel=2, padding="same"),
    conv_case(2, (6, 7), kernel=4, padding="same"),
    conv_case(2, (7, 8), kernel=3, strides=2, padding="same"),
    conv_case(2, (8, 9), kernel=4, strides=2, padding="same"),
    conv_case(2, (7, 6), kernel=2, strides=3, padding="same"),
    conv_case(2, (7, 8), kernel=3, dilation=2, padding="same"),
    conv_case(2, (7, 8), kernel=2, dilation=2, padding="same"),
    conv_case(2, (8, 9), kernel=(3, 2), strides=(2, 3), dilation=(1, 2), padding="same"),
    conv_case(2, (5, 6), padding="full"),
    conv_case(2, (5, 6), kernel=(2, 3), dilation=2, padding="full"),
    conv_case(2, (5, 6), padding=1),
    conv_case(2, (7, 6), padding=2, strides=2),
    conv_case(2, (5, 6), padding=(1, 2)),
    conv_case(2, (5, 6), padding=((1, 0), (2, 1))),
    conv_case(2, (6, 6), kernel=2, padding=((0, 2), (3, 0)), strides=(2, 1)),
    # strides and dilation per axis
    conv_case(2, (8, 9), strides=(2, 3)),
    conv_case(2, (9, 7), kernel=(2, 3), dilation=(2, 1)),
    conv_case(2, (9, 9), kernel=2, dilation=3, strides=2),
    # groups
    conv_case(2, (6, 5), c_in=4, c_out=6, groups=2),
    conv_case(2, (6, 5), c_in=4, c_out=4, groups=2, strides=2, dilation=2, padding="same"),
    conv_case(2, (6, 5), c_in=3, c_out=6, groups=3, padding="same"),  # depthwise: groups == C_in
    conv_case(2, (5, 5), c_in=3, c_out=3, groups=3, bias=False),
    # padding modes
    conv_case(2, (6, 7), padding="same", mode="reflect"),
    conv_case(2, (8, 7), kernel=4, strides=2, padding="same", mode="reflect"),
    conv_case(2, (5, 6), padding=2, mode="replicate"),
    conv_case(2, (6, 6), kernel=2, padding="same", mode="replicate"),
    conv_case(2, (5, 6), padding=((1, 2), (0, 1)), mode="circular"),
    conv_case(2, (6, 7), padding="same", dilation=2, mode="circular"),
    conv_case(2, (6, 5), c_in=4, c_out=2, groups=2, padding=1, mode="reflect"),
    # conv1d
    conv_case(1, (9,), padding="valid"),
    conv_case(1, (4,), c_in=1, c_out=1, batch=1, bias=False, kernel=2),
    conv_case(1, (8,), kernel=2, padding="same"),
    conv_case(1, (9,), kernel=4, strides=2, padding="same"),
    conv_case(1, (9,), kernel=3, dilation=3, padding="same"),
    conv_case(1, (6,), kernel=3, padding="full"),
    conv_case(1, (6,), padding=2),
    conv_case(1, (6,), padding=(1,)),
    conv_case(1, (6,), padding=((2, 1),)),
    conv_case(1, (9,), strides=3, dilation=2),
    conv_case(1, (7,), c_in=3, c_out=6, groups=3, padding="same"),
    conv_case(1, (7,), c_in=4, c_out=2, groups=2),
    conv_case(1, (7,), padding="same", mode="reflect"),
    conv_case(1, (7,), kernel=4, padding="same", mode="replicate"),
    conv_case(1, (7,), padding=((2, 1),), mode="circular"),
    # conv3d
    conv_case(3, (4, 5, 4), kernel=2),
    conv_case(3, (3, 3, 3), c_in=1, c_out=1, batch=1, bias=False),
    conv_case(3, (4, 5, 5), kernel=2, strides=2, padding="same"),
    conv_case(3, (4, 4, 5), kernel=(3, 2, 2), strides=(1, 2, 2), padding="same", dilation=(1, 2, 1)),
    conv_case(3, (3, 4, 3), kernel=2, padding="full"),
    conv_case(3, (4, 4, 4), kernel=2, padding=(0, 1, 2)),
    conv_case(3, (4, 4, 4), kernel=2, padding=((1, 0), (0, 1), (2, 1))),
    conv_case(3, (4, 5, 4), c_in=4, c_out=4, kernel=2, groups=2),
    conv_case(3, (4, 4, 4), c_in=2, c_out=4, kernel=2, groups=2, padding="same", mode="replicate"),
    conv_case(3, (4, 4, 4), kernel=3, padding=1, mode="reflect"),
    conv_case(3, (4, 4, 4), kernel=2, padding="same", mode="circular"),
] + random_conv_cases(2, 24, seed=1) + random_conv_cases(1, 12, seed=2) + random_conv_cases(3, 6, seed=3)


def conv_inputs(case, rng):
    kernel = per_axis(case["kernel"], case["nd"])
    x = rng.standard_normal((case["batch"], *case["spatial"], case["c_in"]))
    w = rng.standard_normal((*kernel, case["c_in"] // case["groups"], case["c_out"]))
    b = rng.standard_normal(case["c_out"])
    return [x, w, b] if case["bias"] else [x, w]


def striate_conv(case):
    def run(x, w, b=None):
        return STRIATE_CONV[case["nd"]](
            x, w, bias=b, strides=case["strides"], padding=case["padding"], dilation_rate=case["dilation"],
            groups=case["groups"], padding_mode=case["mode"],
        )

    return run


def torch_conv(case):
    nd = case["nd"]
    pads = resolve_padding(case["padding"], case["spatial"], case["kernel"], case["strides"],
                           case["dilation"])

    def run(x, w, b=None):
        x = TF.pad(channels_first(x), torch_pad_argument(pads), mode=TORCH_PAD_MODE[case["mode"]])
        out = TORCH_CONV[nd](x, torch_conv_weight(w), b, stride=per_axis(case["strides"], nd), padding=0,
                             dilation=per_axis(case["dilation"], nd), groups=case["groups"])
        return channels_last(out)

    return run


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", CONV_CASES, ids=[f"conv{c['nd']}d-{describe(c)}" for c in CONV_CASES])
def test_conv_forward_and_gradients_match_torch(case, dtype):
    inputs = conv_inputs(case, np.random.default_rng(len(describe(case))))
    check_against_torch(striate_conv(case), torch_conv(case), inputs, dtype)


# zero padding taken by the algorithm itself (`PADS_WITH_ZEROS`: winograd for 3x3 stride-1 layers of >= 16
# channels, depthwise), or added by the op before it (im2col, toeplitz); "auto" picks as in training
SELF_PADDING_CASES = [
    conv_case(2, (7, 9), c_in=16, c_out=16, padding="same"),  # winograd
    conv_case(2, (6, 5), c_in=16, c_out=17, padding=((2, 0), (1, 3))),  # winograd, asymmetric
    conv_case(2, (7, 8), c_in=8, c_out=8, groups=8, strides=2, padding="same"),  # depthwise, stride 2
    conv_case(2, (7, 6), c_in=4, c_out=8, groups=4, kernel=5, dilation=2, padding=((4, 1), (0, 5))),  # depthwise x2
    conv_case(3, (4, 5, 4), c_in=3, c_out=3, groups=3, padding="same"),  # depthwise, 3-D
    conv_case(2, (9, 9), c_in=1, c_out=6, kernel=5, padding=2),  # toeplitz, padded by the op
]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", SELF_PADDING_CASES, ids=[f"conv{c['nd']}d-{describe(c)}" for c in SELF_PADDING_CASES])
def test_zero_padding_inside_the_convolution_op_matches_torch(case, dtype):
    inputs = conv_inputs(case, np.random.default_rng(len(describe(case))))
    check_against_torch(striate_conv(case), torch_conv(case), inputs, dtype)


# the 3-D algorithms forced through the op: depth_stack takes the padding itself (zeros in its stack for the
# depth, the rest to its 2-D convolution), depth_slices gets x padded by the op
THREE_D_CASES = [
    conv_case(3, (5, 6, 7), c_in=4, c_out=5, padding="same"),
    conv_case(3, (6, 5, 5), c_in=4, c_out=6, groups=2, strides=(2, 1, 2), dilation=(1, 2, 1),
              padding=((3, 0), (1, 2), (0, 1))),
    conv_case(3, (4, 6, 6), c_in=3, c_out=3, groups=3, kernel=(2, 3, 3), padding="same", batch=3),
]


@pytest.mark.parametrize("algorithm", ["depth_stack", "depth_slices"])
@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", THREE_D_CASES, ids=[describe(c) for c in THREE_D_CASES])
def test_a_3d_convolution_by_each_3d_algorithm_matches_torch(case, dtype, algorithm):
    def run(x, w, b=None):
        return F.conv3d(x, w, bias=b, strides=case["strides"], padding=case["padding"],
                        dilation_rate=case["dilation"], groups=case["groups"], algorithm=algorithm)

    inputs = conv_inputs(case, np.random.default_rng(len(describe(case))))
    check_against_torch(run, torch_conv(case), inputs, dtype)


TORCH_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
FUSED_CASES = [conv_case(2, (6, 7), padding="same"), conv_case(1, (9,), c_in=2, c_out=4, kernel=5, groups=2),
               conv_case(2, (9, 9), c_in=1, c_out=6, kernel=5, padding=2),  # LeNet conv1: toeplitz
               conv_case(2, (6, 6), c_in=3, c_out=3, groups=3, bias=False),  # depthwise
               # 3 x 12 = 36 rows of 3 channels: the bias tiled along rows of W*C (fewer rows: rows of C)
               conv_case(2, (12, 5), c_in=2, c_out=3, padding="same", batch=3)]


@pytest.mark.parametrize("activation", TORCH_ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", FUSED_CASES, ids=[f"conv{c['nd']}d-{describe(c)}" for c in FUSED_CASES])
def test_conv_with_fused_activation_matches_torch_activation_of_conv(case, dtype, activation):
    def fused(*inputs):
        return STRIATE_CONV[case["nd"]](*inputs[:2], bias=inputs[2] if case["bias"] else None,
                                        strides=case["strides"], padding=case["padding"],
                                        dilation_rate=case["dilation"], groups=case["groups"], activation=activation)

    def reference(*inputs):
        return TORCH_ACTIVATIONS[activation](torch_conv(case)(*inputs))

    inputs = conv_inputs(case, np.random.default_rng(len(describe(case))))
    check_against_torch(fused, reference, inputs, dtype)


@pytest.mark.parametrize("activation", TORCH_ACTIVATIONS)
def test_conv_bias_and_activation_on_two_workers_in_one_image_chunks_match_torch(activation, monkeypatch):
    """The fused bias, activation and activation gradient run chunk by chunk on the two workers."""
    from striate.algorithms import chunking
    from striate.core import runtime

    monkeypatch.setattr(chunking, "CHUNK_BYTES", 1)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    test_conv_with_fused_activation_matches_torch_activation_of_conv(
        conv_case(2, (6, 7), c_in=2, c_out=5, padding="same", batch=4), np.float64, activation)


# `vectorized` adds the bias and relu as it stores each output (`ADDS_BIAS_AND_RELU`): channels in the lanes, pixels
# in the lanes (few filters), strided, 1-D
STORE_EPILOGUE_CASES = [conv_case(2, (6, 7), c_in=3, c_out=20, padding="same"),
                        conv_case(2, (9, 20), c_in=1, c_out=6, kernel=5, padding=2),
                        conv_case(2, (8, 9), c_in=3, c_out=32, strides=2, padding="same"),
                        conv_case(1, (11,), c_in=2, c_out=17, kernel=3, padding="same")]


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", STORE_EPILOGUE_CASES,
                         ids=[f"conv{c['nd']}d-{describe(c)}" for c in STORE_EPILOGUE_CASES])
def test_conv_whose_algorithm_adds_the_bias_and_relu_as_it_stores_matches_torch(case, dtype, activation):
    def fused(*inputs):
        return STRIATE_CONV[case["nd"]](*inputs, strides=case["strides"], padding=case["padding"],
                                        algorithm="vectorized", activation=activation)

    def reference(*inputs):
        out = torch_conv(case)(*inputs)
        return out if activation is None else torch.relu(out)

    inputs = conv_inputs(case, np.random.default_rng(len(describe(case))))
    check_against_torch(fused, reference, inputs, dtype)


def test_auto_adds_the_bias_and_relu_in_the_measured_algorithm_once_it_is_known(monkeypatch):
    """"auto" with vectorized as the recorded choice for the forward: the bias and relu are added as it stores the
    outputs (no separate pass), to the values of the plain convolution plus the bias, then fmax."""
    import sys

    from striate.algorithms import Case, measured

    convolution_op = sys.modules["striate.ops.convolution"]  # the module (striate.ops.convolution is the function)

    rng = np.random.default_rng(7)
    x, kernel, bias = (rng.standard_normal(shape).astype(np.float32) for shape in ((2, 8, 9, 16), (3, 3, 16, 16),
                                                                                  (16,)))
    plain = F.conv2d(x, kernel, padding="same", algorithm="vectorized").data
    case = Case((2, 10, 11, 16), kernel.shape, (1, 1), (1, 1), 1)
    measured.forget_measured()
    for which in ("forward", "input gradient", "kernel gradient"):
        measured.record({(which, case): "vectorized"})
    monkeypatch.setattr(convolution_op, "add_bias_and_activate",
                        lambda *arguments: pytest.fail("a separate bias and relu pass"))
    try:
        y = F.conv2d(x, kernel, bias, padding="same", activation="relu").data
    finally:
        measured.forget_measured()
    np.testing.assert_array_equal(y, np.fmax(plain + bias, 0))


def test_conv_refuses_an_activation_it_cannot_fuse():
    with pytest.raises(ValueError, match=r"conv2d: activation must be None or one of \['relu', 'sigmoid', 'tanh'\] "
                                         r"\(applied inside the op\); received 'softmax'"):
        F.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), activation="softmax")


@pytest.mark.parametrize("op", ["convolution", "transposed_convolution"])
def test_the_convolution_ops_refuse_an_activation_they_cannot_fuse(op):
    from striate import ops
    from striate.core.tensor import Tensor

    arguments = (Tensor(np.zeros((1, 5, 5, 1))), Tensor(np.zeros((3, 3, 1, 1))))
    if op == "transposed_convolution":
        arguments = (*arguments, (1, 7, 7, 1))
    with pytest.raises(ValueError, match=rf"{op}: activation 'softmax' cannot be fused; expected None or one of "
                                         r"\['relu', 'sigmoid', 'tanh'\]"):
        getattr(ops, op)(*arguments, (1, 1), (1, 1), activation="softmax")


@pytest.mark.parametrize("padding,kernel,strides,expected", [
    ("valid", 3, 1, (5, 6)), ("valid", 3, 2, (3, 3)), ("same", 3, 1, (7, 8)), ("same", 2, 2, (4, 4)),
    ("same", 4, 3, (3, 3)), ("full", 3, 1, (9, 10)), (1, 3, 2, (4, 4)), (((2, 0), (0, 1)), 3, 1, (7, 7)),
])
def test_conv2d_output_shape_follows_the_padding_rule(padding, kernel, strides, expected):
    x = np.zeros((1, 7, 8, 2))
    w = np.zeros((kernel, kernel, 2, 3))
    out = F.conv2d(x, w, strides=strides, padding=padding)
    assert out.shape == (1, *expected, 3)


# ---- conv_transpose1d / 2d / 3d ---------------------------------------------------------------------------
def transpose_case(nd, spatial, c_in=3, c_out=2, kernel=3, strides=1, padding="valid", output_padding=None,
                   dilation=1, bias=True, batch=2):
    return dict(nd=nd, batch=batch, spatial=spatial, c_in=c_in, c_out=c_out, kernel=kernel, strides=strides,
                padding=padding, output_padding=output_padding, dilation=dilation, bias=bias)


def transpose_output_shape(case):
    """Keras' deconv_output_length per axis."""
    nd = case["nd"]
    lengths = []
    output_padding = case["output_padding"]
    for axis in range(nd):
        n = case["spatial"][axis]
        k, s, d = (per_axis(case[key], nd)[axis] for key in ("kernel", "strides", "dilation"))
        k_eff = (k - 1) * d + 1
        padding = case["padding"]
        if output_padding is None:
            if padding == "valid":
                lengths.append(n * s + max(k_eff - s, 0))
            elif padding == "same":
                lengths.append(n * s)
            else:
                lengths.append((n - 1) * s + k_eff - 2 * padding)
        else:
            pad = {"valid": 0, "same": k_eff // 2}.get(padding, padding)
            lengths.append((n - 1) * s + k_eff - 2 * pad + per_axis(output_padding, nd)[axis])
    return tuple(lengths)


TRANSPOSE_CASES = [
    transpose_case(2, (3, 4), kernel=3, strides=1),
    transpose_case(2, (3, 4), kernel=3, strides=2),
    transpose_case(2, (3, 3), kernel=2, strides=2, bias=False),
    transpose_case(2, (3, 3), kernel=2, strides=3),  # kernel < stride: Keras gives n * s
    transpose_case(2, (3, 4), kernel=3, strides=2, dilation=2),
    transpose_case(2, (3, 4), kernel=(3, 2), strides=(2, 1)),
    transpose_case(2, (2, 2), c_in=1, c_out=1, kernel=2, batch=1, bias=False),
    transpose_case(2, (3, 4), kernel=3, strides=1, padding="same"),
    transpose_case(2, (3, 4), kernel=3, strides=2, padding="same"),
    transpose_case(2, (3, 4), kernel=4, strides=2, padding="same"),
    transpose_case(2, (3, 3), kernel=2, strides=1, padding="same"),
    transpose_case(2, (3, 3), kernel=2, strides=2, padding="same"),
    transpose_case(2, (3, 4), kernel=(3, 2), strides=(2, 3), padding="same"),
    transpose_case(2, (3, 4), kernel=3, strides=1, dilation=2, padding="same"),
    transpose_case(2, (3, 4), kernel=3, strides=2, padding=1),
    transpose_case(2, (3, 4), kernel=3, strides=2, padding=1, output_padding=1),
    transpose_case(2, (3, 4), kernel=3, strides=2, padding="valid", output_padding=1),
    transpose_case(2, (3, 4), kernel=3, strides=(2, 3), padding=0, output_padding=(1, 2)),
    transpose_case(2, (3, 4), kernel=3, strides=2, padding="same", output_padding=1),
    # one output channel: the matching convolution's algorithms (toeplitz, im2col) do not all take the padding, so
    # the op crops the padding's cells itself (and pads the gradient back)
    transpose_case(2, (4, 5), c_out=1, kernel=3, strides=2, padding="same"),
    transpose_case(2, (4, 4), c_out=1, kernel=5, strides=1, padding="same"),
    transpose_case(1, (5,), kernel=3, strides=2),
    transpose_case(1, (5,), kernel=2, strides=3, bias=False),
    transpose_case(1, (5,), kernel=4, strides=2, padding="same"),
    transpose_case(1, (5,), kernel=3, strides=3, padding="same"),
    transpose_case(1, (4,), kernel=3, strides=2, padding=1, output_padding=1),
    transpose_case(1, (4,), kernel=3, strides=1, dilation=3, padding="same"),
    transpose_case(3, (2, 3, 2), kernel=2, strides=2),
    transpose_case(3, (2, 3, 2), kernel=3, strides=(1, 2, 2), padding="same"),
    transpose_case(3, (2, 2, 3), kernel=(2, 3, 2), strides=2, padding=1, output_padding=1),
]


def transpose_case_is_consistent(case):
    """The matching conv maps the transposed output's length back to the input length on every axis."""
    nd = case["nd"]
    out_shape = transpose_output_shape(case)
    if min(out_shape) < 1:
        return False
    pads = resolve_padding(case["padding"], out_shape, case["kernel"], case["strides"], case["dilation"])
    kernel, strides, dilation = (per_axis(case[key], nd) for key in ("kernel", "strides", "dilation"))
    for n, length, (a, b), k, s, d in zip(case["spatial"], out_shape, pads, kernel, strides, dilation,
                                          strict=True):
        span = length + a + b - ((k - 1) * d + 1)
        if span < 0 or span // s + 1 != n:
            return False
    return True


def random_transpose_cases(nd, count, seed):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        kernel = tuple(int(k) for k in rng.integers(1, 5, nd))
        strides = tuple(int(s) for s in rng.integers(1, 4, nd))
        dilation = tuple(int(d) for d in rng.integers(1, 3, nd)) if rng.random() < 0.3 else 1
        padding = ["valid", "same", int(rng.integers(0, 2))][int(rng.integers(0, 3))]
        output_padding = None
        if rng.random() < 0.3:
            output_padding = tuple(int(rng.integers(0, s)) for s in strides)
        case = transpose_case(nd, tuple(int(n) for n in rng.integers(2, 5, nd)), c_in=int(rng.integers(1, 4)),
                              c_out=int(rng.integers(1, 4)), kernel=kernel, strides=strides, padding=padding,
                              output_padding=output_padding, dilation=dilation, bias=bool(rng.random() < 0.5))
        if transpose_case_is_consistent(case):
            cases.append(case)
    return cases


TRANSPOSE_CASES += random_transpose_cases(2, 16, seed=4) + random_transpose_cases(1, 8, seed=5)
TRANSPOSE_CASES += random_transpose_cases(3, 4, seed=6)


def transpose_inputs(case, rng):
    kernel = per_axis(case["kernel"], case["nd"])
    y = rng.standard_normal((case["batch"], *case["spatial"], case["c_in"]))
    w = rng.standard_normal((*kernel, case["c_out"], case["c_in"]))
    b = rng.standard_normal(case["c_out"])
    return [y, w, b] if case["bias"] else [y, w]


def striate_conv_transpose(case):
    def run(y, w, b=None):
        return STRIATE_CONV_TRANSPOSE[case["nd"]](
            y, w, bias=b, strides=case["strides"], padding=case["padding"],
            output_padding=case["output_padding"], dilation_rate=case["dilation"],
        )

    return run


def torch_conv_input_gradient(case):
    """conv_transpose(y, w) == d/dx <conv(x, w, padding P), y> for x of the transposed output's shape."""
    nd = case["nd"]
    out_shape = transpose_output_shape(case)
    pads = resolve_padding(case["padding"], out_shape, case["kernel"], case["strides"], case["dilation"])

    def run(y, w, b=None):
        x = torch.zeros((case["batch"], case["c_out"], *out_shape), dtype=y.dtype, requires_grad=True)
        conv = TORCH_CONV[nd](TF.pad(x, torch_pad_argument(pads)), torch_conv_weight(w), stride=per_axis(
            case["strides"], nd), dilation=per_axis(case["dilation"], nd))
        assert conv.shape[2:] == tuple(case["spatial"]), "case inconsistent with the padding rule"
        (grad,) = torch.autograd.grad(conv, x, grad_outputs=channels_first(y), create_graph=True)
        out = channels_last(grad)
        return out if b is None else out + b

    return run


def torch_conv_transpose(case):
    """torch's conv_transpose, for symmetric ("valid" or int) padding."""
    nd = case["nd"]
    out_shape = transpose_output_shape(case)
    pad = 0 if case["padding"] == "valid" else case["padding"]
    kernel, strides, dilation = (per_axis(case[key], nd) for key in ("kernel", "strides", "dilation"))
    natural = [(n - 1) * s + (k - 1) * d + 1 - 2 * pad
               for n, k, s, d in zip(case["spatial"], kernel, strides, dilation, strict=True)]
    output_padding = tuple(o - m for o, m in zip(out_shape, natural, strict=True))

    def run(y, w, b=None):
        out = TORCH_CONV_TRANSPOSE[nd](channels_first(y), torch_conv_transpose_weight(w), b, stride=strides,
                                       padding=pad, output_padding=output_padding, dilation=dilation)
        return channels_last(out)

    return run


TRANSPOSE_IDS = [f"conv_transpose{c['nd']}d-{describe(c)}" for c in TRANSPOSE_CASES]
SYMMETRIC_TRANSPOSE_CASES = [c for c in TRANSPOSE_CASES if c["padding"] != "same"]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=TRANSPOSE_IDS)
def test_conv_transpose_is_the_input_gradient_of_the_matching_conv(case, dtype):
    inputs = transpose_inputs(case, np.random.default_rng(len(describe(case))))
    out, _ = check_against_torch(striate_conv_transpose(case), torch_conv_input_gradient(case), inputs, dtype)
    assert out.shape == (case["batch"], *transpose_output_shape(case), case["c_out"])


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", SYMMETRIC_TRANSPOSE_CASES,
                         ids=[f"conv_transpose{c['nd']}d-{describe(c)}" for c in SYMMETRIC_TRANSPOSE_CASES])
def test_conv_transpose_matches_torch_conv_transpose(case, dtype):
    inputs = transpose_inputs(case, np.random.default_rng(len(describe(case)) + 1))
    check_against_torch(striate_conv_transpose(case), torch_conv_transpose(case), inputs, dtype)


FUSED_TRANSPOSE_CASES = [transpose_case(2, (3, 4), kernel=3, strides=2, padding="same"),  # the autoencoder's
                         transpose_case(2, (4, 5), c_out=1, kernel=3, strides=2, padding="same"),  # its last
                         transpose_case(2, (3, 4), kernel=3, strides=2, padding=1, output_padding=1),
                         transpose_case(2, (3, 3), kernel=2, strides=3),  # kernel < stride: cells past the reach
                         transpose_case(1, (5,), kernel=3, strides=2, bias=False)]


@pytest.mark.parametrize("activation", TORCH_ACTIVATIONS)
@pytest.mark.parametrize("case", FUSED_TRANSPOSE_CASES, ids=[describe(c) for c in FUSED_TRANSPOSE_CASES])
def test_conv_transpose_with_fused_activation_matches_torch_activation_of_it(case, activation):
    """The bias and activation applied inside the op, or after it where output_padding adds cells past the
    matching convolution's reach (the bias and activation of zeros there)."""
    def fused(y, w, b=None):
        return STRIATE_CONV_TRANSPOSE[case["nd"]](y, w, bias=b, strides=case["strides"], padding=case["padding"],
                                                  output_padding=case["output_padding"], activation=activation)

    def reference(*inputs):
        return TORCH_ACTIVATIONS[activation](torch_conv_input_gradient(case)(*inputs))

    inputs = transpose_inputs(case, np.random.default_rng(len(describe(case)) + 2))
    check_against_torch(fused, reference, inputs, np.float64)


GROUPED_TRANSPOSE_CASES = [dict(nd=2, spatial=(3, 4), c_in=4, c_out=6, groups=2, kernel=3, strides=2, padding=1),
                           dict(nd=2, spatial=(3, 3), c_in=3, c_out=3, groups=3, kernel=2, strides=2, padding=0),
                           dict(nd=1, spatial=(5,), c_in=6, c_out=3, groups=3, kernel=3, strides=1, padding=1),
                           dict(nd=3, spatial=(2, 3, 2), c_in=2, c_out=4, groups=2, kernel=2, strides=2, padding=0)]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", GROUPED_TRANSPOSE_CASES, ids=[describe(c) for c in GROUPED_TRANSPOSE_CASES])
def test_grouped_conv_transpose_matches_torch_conv_transpose(case, dtype):
    nd, groups = case["nd"], case["groups"]
    rng = np.random.default_rng(len(describe(case)))
    y = rng.standard_normal((2, *case["spatial"], case["c_in"]))
    w = rng.standard_normal((*per_axis(case["kernel"], nd), case["c_out"] // groups, case["c_in"]))
    b = rng.standard_normal(case["c_out"])

    def striate_fn(y, w, b):
        return STRIATE_CONV_TRANSPOSE[nd](y, w, bias=b, strides=case["strides"], padding=case["padding"],
                                          output_padding=0, groups=groups)

    def torch_fn(y, w, b):
        out = TORCH_CONV_TRANSPOSE[nd](channels_first(y), torch_conv_transpose_weight(w), b, stride=case["strides"],
                                       padding=case["padding"], groups=groups)
        return channels_last(out)

    check_against_torch(striate_fn, torch_fn, [y, w, b], dtype)


def test_grouped_conv_transpose_refuses_groups_that_do_not_divide_the_input_channels():
    with pytest.raises(ValueError, match=r"conv_transpose2d: groups must be a positive int dividing the input "
                                         r"channels C_in=3; received 2"):
        F.conv_transpose2d(np.zeros((1, 4, 4, 3)), np.zeros((3, 3, 2, 3)), groups=2)


# ---- depthwise and separable ------------------------------------------------------------------------------
def torch_depthwise_weight(kernel):
    """(kh, kw, C_in, M) -> torch (C_in * M, 1, kh, kw); output channel c * M + m, as Keras."""
    kh, kw, c_in, mult = kernel.shape
    return kernel.reshape(kh, kw, c_in * mult).permute(2, 0, 1).unsqueeze(1).contiguous()


def torch_depthwise(x, kernel, strides, padding, dilation):
    nd = 2
    c_in = kernel.shape[2]
    pads = resolve_padding(padding, tuple(x.shape[1:3]), tuple(kernel.shape[:2]), strides, dilation)
    x = TF.pad(channels_first(x), torch_pad_argument(pads))
    return TF.conv2d(x, torch_depthwise_weight(kernel), stride=per_axis(strides, nd),
                     dilation=per_axis(dilation, nd), groups=c_in)


DEPTHWISE_CASES = [
    dict(spatial=(6, 7), c_in=3, mult=1, kernel=(3, 3), strides=1, padding="valid", dilation=1, bias=True),
    dict(spatial=(6, 7), c_in=3, mult=2, kernel=(3, 3), strides=1, padding="valid", dilation=1, bias=False),
    dict(spatial=(7, 8), c_in=2, mult=3, kernel=(3, 2), strides=2, padding="same", dilation=1, bias=True),
    dict(spatial=(8, 8), c_in=2, mult=2, kernel=(2, 2), strides=(1, 2), padding="same", dilation=2,
         bias=True),
    dict(spatial=(7, 7), c_in=1, mult=1, kernel=(3, 3), strides=1, padding="same", dilation=1, bias=False),
    dict(spatial=(9, 7), c_in=3, mult=2, kernel=(2, 3), strides=(2, 1), padding="valid", dilation=(2, 1),
         bias=True),
]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=[describe(c) for c in DEPTHWISE_CASES])
def test_depthwise_conv2d_matches_torch_grouped_conv(case, dtype):
    rng = np.random.default_rng(len(describe(case)))
    x = rng.standard_normal((2, *case["spatial"], case["c_in"]))
    w = rng.standard_normal((*case["kernel"], case["c_in"], case["mult"]))
    b = rng.standard_normal(case["c_in"] * case["mult"])
    options = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])

    def striate_fn(x, w, b=None):
        return F.depthwise_conv2d(x, w, bias=b, strides=options["strides"], padding=options["padding"],
                                  dilation_rate=options["dilation"])

    def torch_fn(x, w, b=None):
        out = channels_last(torch_depthwise(x, w, **options))
        return out if b is None else out + b

    check_against_torch(striate_fn, torch_fn, [x, w, b] if case["bias"] else [x, w], dtype)


SEPARABLE_CASES = [
    dict(spatial=(6, 7), c_in=3, mult=1, c_out=4, kernel=(3, 3), strides=1, padding="valid", dilation=1,
         bias=True),
    dict(spatial=(7, 8), c_in=2, mult=2, c_out=5, kernel=(3, 3), strides=2, padding="same", dilation=1,
         bias=True),
    dict(spatial=(8, 7), c_in=3, mult=2, c_out=2, kernel=(2, 3), strides=1, padding="same", dilation=2,
         bias=False),
]


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("case", SEPARABLE_CASES, ids=[describe(c) for c in SEPARABLE_CASES])
def test_separable_conv2d_is_depthwise_then_pointwise_like_torch(case, dtype):
    rng = np.random.default_rng(len(describe(case)))
    x = rng.standard_normal((2, *case["spatial"], case["c_in"]))
    depthwise = rng.standard_normal((*case["kernel"], case["c_in"], case["mult"]))
    pointwise = rng.standard_normal((1, 1, case["c_in"] * case["mult"], case["c_out"]))
    b = rng.standard_normal(case["c_out"])
    options = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])

    def striate_fn(x, dw, pw, b=None):
        return F.separable_conv2d(x, dw, pw, bias=b, strides=options["strides"], padding=options["padding"],
                                  dilation_rate=options["dilation"])

    def torch_fn(x, dw, pw, b=None):
        mid = torch_depthwise(x, dw, **options)
        return channels_last(TF.conv2d(mid, torch_conv_weight(pw), b))

    inputs = [x, depthwise, pointwise, b] if case["bias"] else [x, depthwise, pointwise]
    check_against_torch(striate_fn, torch_fn, inputs, dtype)


@pytest.mark.parametrize("activation", TORCH_ACTIVATIONS)
def test_fused_activation_on_an_algorithm_whose_output_is_not_contiguous_matches_torch(activation):
    """separable's output is a transposed view: the op applies the activation and its gradient with NumPy there
    instead of the compiled loops, which need contiguous rows."""
    case = conv_case(2, (6, 7), c_in=4, c_out=6, kernel=1, bias=False)

    def fused(*inputs):
        return F.conv2d(*inputs[:2], activation=activation, algorithm="separable")

    def reference(*inputs):
        return TORCH_ACTIVATIONS[activation](torch_conv(case)(*inputs))

    inputs = conv_inputs(case, np.random.default_rng(5))
    check_against_torch(fused, reference, inputs, np.float64)
