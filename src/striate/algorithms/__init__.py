"""Convolution algorithms: pure functions with one signature, each equal to the direct definition.

Each module provides
    conv_forward(x, kernel, strides, dilation, groups)
    conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups)
    conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups)
on an already padded channels-last input, and raises ValueError for a case it cannot serve. A module whose two
gradients share work (winograd: the transformed output gradient) also provides
    conv_gradients(x, grad_output, kernel, strides, dilation, groups) -> (input gradient, kernel gradient)
A module that sets PADS_WITH_ZEROS (im2col, winograd, depthwise, per_group, depth_stack, vectorized) also takes
`padding=` (one (before, after) pair of zeros per spatial axis) in each of them: x and the input gradient are then
the unpadded arrays, and no padded copy is made (the convolution op uses this; for the other modules it pads x
itself, and "auto" pads for a chosen one). A module that sets ADDS_BIAS_AND_RELU (vectorized) takes `bias=` and
`relu=` in conv_forward and adds them as it stores each output.

    direct      the lectures' loop, the reference (any case)
    im2col      windows copied to a matrix, one GEMM per chunk of images (any case); pads with zeros itself
    winograd    F(4x4, 3x3) tiles as 36 batched GEMMs (2-D 3x3, stride 1, dilation 1); pads with zeros itself
    fft         products of spectra (any case; pays for large kernels with stride 1)
    toeplitz    each kernel row unrolled into a banded matrix over the width: one wide GEMM (2-D, groups 1)
    separable   rank-1 2-D kernels as a column pass and a row pass (kernel gradient by im2col)
    pointwise   1x1 kernels: the input is already the matrix, one GEMM (any stride)
    depthwise   one input channel per group: shifted multiply-adds, no GEMM; pads with zeros itself
    per_group   several input channels per group: one ungrouped convolution per group, each by "auto"; pads with
                zeros itself
    depth_slices  3-D kernels: a sum of 2-D convolutions over the depth slices, each by "auto"
    depth_stack   3-D kernels: one 2-D convolution by "auto", the input depths each output depth reads stacked as
                channels; pads with zeros itself
    vectorized  the definition with vector registers: 8 output pixels x 16 or 32 output channels per block (1-D, 2-D,
                groups 1 or groups whose channel counts divide 16 or are multiples of it); pads with zeros itself

`algorithm="auto"` (the default everywhere) picks per layer and per pass from `AUTO_TABLE` below, the one
place the choice is made: the first row whose condition holds names the algorithm for the forward pass,
the input gradient and the kernel gradient, or several candidates (`vectorized` joins them wherever it serves
the pass: `VECTORIZED_PASSES`), of which the first call on that geometry measures each and keeps the fastest
(`striate.algorithms.measured`, as cuDNN's benchmark mode): a 3x3 stride-1 layer goes to Winograd, im2col or the
vectorized loop by their times on it, not by a threshold on its shape
(`striate.use_deterministic_algorithms(True)`: the first candidate, untimed, in every process). The single-name rows
follow bench/conv_layers.py (numbers in docs/algorithms.md); `explain_algorithms` measures every algorithm on
a given layer.
"""

import functools
import math
from dataclasses import dataclass

from striate.algorithms import (
    depth_slices,
    depth_stack,
    depthwise,
    direct,
    fft,
    im2col,
    measured,
    per_group,
    pointwise,
    separable,
    toeplitz,
    vectorized,
    winograd,
)
from striate.algorithms.windows import inside, padded_shape, zero_padded
from striate.core.runtime import are_deterministic_algorithms_enabled

ALGORITHMS = {
    "direct": direct,
    "im2col": im2col,
    "winograd": winograd,
    "fft": fft,
    "separable": separable,
    "pointwise": pointwise,
    "depthwise": depthwise,
    "per_group": per_group,
    "depth_slices": depth_slices,
    "depth_stack": depth_stack,
    "toeplitz": toeplitz,
    "vectorized": vectorized,
}


@dataclass(frozen=True)
class Case:
    """The geometry of one convolution, as the dispatch sees it (the input is already padded)."""

    input_shape: tuple
    kernel_shape: tuple
    strides: tuple
    dilation: tuple
    groups: int

    @property
    def kernel_size(self):
        return tuple(self.kernel_shape[:-2])

    @property
    def per_group_in(self):
        return self.kernel_shape[-2]


def _is_pointwise(case):
    return all(k == 1 for k in case.kernel_size)


def _is_depthwise(case):
    return case.groups > 1 and case.per_group_in == 1


def _is_grouped(case):
    return case.groups > 1 and case.per_group_in > 1


def _is_3d(case):
    return len(case.kernel_size) == 3


def _is_winograd_3x3(case):
    # below 16 channels the transforms cost more than the multiplies they save
    return (case.kernel_size == (3, 3) and case.strides == (1, 1) and case.dilation == (1, 1)
            and case.groups == 1 and min(case.per_group_in, case.kernel_shape[-1]) >= 16)


def _is_narrow_few_channels_5x5_or_larger(case):
    # LeNet: im2col's products would have 1 to 6 columns (the input gradient) or 25 rows; the banded products of
    # `toeplitz` are wider, and its input gradient's (whole rows) multiply at most TOEPLITZ_WASTE times too many zeros
    return (len(case.kernel_size) == 2 and min(case.kernel_size) >= 5 and case.groups == 1
            and case.per_group_in < 16 and case.input_shape[2] <= TOEPLITZ_WASTE * case.kernel_size[1])


def _is_few_channels_5x5_or_larger(case):
    # the input gradient's im2col products would have 1 to 15 columns; the FFT's per-frequency products do not
    return (len(case.kernel_size) == 2 and min(case.kernel_size) >= 5 and case.strides == (1, 1)
            and case.dilation == (1, 1) and case.groups == 1 and case.per_group_in < 16)


def _is_one_channel_2d(case):
    # im2col's products would have k_h*k_w rows (9 for the MNIST CNN's first layer); toeplitz's tiles widen them
    return len(case.kernel_size) == 2 and case.groups == 1 and case.per_group_in == 1


def _is_large_kernel_stride_1(case):
    return (len(case.kernel_size) == 2 and min(case.kernel_size) >= 9 and all(s == 1 for s in case.strides)
            and case.per_group_in * case.kernel_shape[-1] // case.groups <= 64 * 64)


TOEPLITZ_WASTE = 8  # padded width / kernel width: how many times more multiplies the banded product may make
WINOGRAD_OR_IM2COL = ("winograd", "im2col")  # measured on each layer: the first is the choice until then
PER_GROUP_OR_IM2COL = ("per_group", "im2col")
THREE_D = ("depth_stack", "depth_slices", "im2col")

# (what the row covers, condition, forward, input gradient, kernel gradient): the first match wins; a tuple of
# names is measured (see the module's docstring)
AUTO_TABLE = (
    ("1x1 kernel", _is_pointwise, "pointwise", "pointwise", "pointwise"),
    ("depthwise: one input channel per group", _is_depthwise, "depthwise", "depthwise", "depthwise"),
    ("grouped: several input channels per group", _is_grouped, PER_GROUP_OR_IM2COL, PER_GROUP_OR_IM2COL,
     PER_GROUP_OR_IM2COL),
    ("3-D kernel", _is_3d, THREE_D, THREE_D, THREE_D),
    ("2-D 3x3, stride 1, dilation 1, >= 16 channels", _is_winograd_3x3, WINOGRAD_OR_IM2COL, WINOGRAD_OR_IM2COL,
     WINOGRAD_OR_IM2COL),
    ("2-D kernel >= 9x9 with stride 1", _is_large_kernel_stride_1, "fft", "fft", "fft"),
    ("2-D kernel >= 5x5, < 16 input channels, width <= 8 kernel widths", _is_narrow_few_channels_5x5_or_larger,
     "toeplitz", "toeplitz", "toeplitz"),
    ("2-D kernel >= 5x5, stride 1, < 16 input channels", _is_few_channels_5x5_or_larger, "im2col", "fft", "im2col"),
    ("2-D, one input channel (a first layer on grey images)", _is_one_channel_2d, "toeplitz", "im2col", "toeplitz"),
    ("everything else", lambda case: True, "im2col", "im2col", "im2col"),
)
PASSES = ("forward", "input gradient", "kernel gradient")


def _vectorized_serves(case):
    # 1-D or 2-D, groups 1 or groups whose channel counts suit its vectors (`vectorized.serves`). A 1x1 kernel is one
    # GEMM without copies, yet a thin one: on 64 x 32x32 x 60 -> 48 channels (DenseNet's bottleneck) the three passes
    # took 23.1 ms as OpenBLAS products and 14.5 ms in this loop, on 64 x 16x16 x 64 -> 128 13.2 and 13.5 ms (one
    # thread, docs/algorithms.md), so both are measured
    return vectorized.serves(case.kernel_shape, case.groups)


# the passes `vectorized` is measured in, as the last candidate, wherever it serves the case: its input gradient is
# its own loop (phase by phase with a stride; im2col's only with both a stride and a dilation > 1)
VECTORIZED_PASSES = dict.fromkeys(("forward", "input gradient", "kernel gradient"), _vectorized_serves)


@functools.lru_cache(maxsize=4096)
def candidates(case, which="forward"):
    """The algorithm names `AUTO_TABLE` gives `case` (a `Case`) for pass `which` (one of `PASSES`), as a tuple
    (kept per case: a network asks for the same few cases at every step)."""
    for _, condition, *names in AUTO_TABLE:
        if condition(case):
            name = names[PASSES.index(which)]
            names = name if isinstance(name, tuple) else (name,)
            if VECTORIZED_PASSES[which](case) and "vectorized" not in names:
                names = (*names, "vectorized")
            return names
    raise AssertionError("AUTO_TABLE ends with a row that matches every case")


def choose(case, which="forward"):
    """The algorithm "auto" runs for `case` and pass `which`: the table's one name, or among several the one
    measured fastest on this case, or the first of them while the case has not run yet or with
    `use_deterministic_algorithms(True)`."""
    names = candidates(case, which)
    if len(names) == 1 or are_deterministic_algorithms_enabled():
        return names[0]
    return measured.chosen(which, case) or names[0]


def _run(passes, case, call):
    """call(module) for the algorithm of `passes` on `case`, measured among the table's candidates when several
    (the first of them with `use_deterministic_algorithms(True)`)."""
    names = candidates(case, passes[0])
    if len(names) == 1 or are_deterministic_algorithms_enabled():
        return call(ALGORITHMS[names[0]])
    return measured.run(passes, case, names, lambda name: call(ALGORITHMS[name]))


def _padding_for(module, padding):
    """(padding= for `module`, the padding left to "auto"): a module that pads with zeros itself takes the
    (before, after) pairs (or None); for another, "auto" pads x and crops the input gradient itself."""
    if padding is None or getattr(module, "PADS_WITH_ZEROS", False):
        return ({"padding": padding} if padding is not None else {}), None
    return {}, padding


class Auto:
    """The "auto" algorithm: each call looks its case up in `AUTO_TABLE` and runs the algorithm named there (the
    measured fastest where it names several).

    It takes the zero padding itself (`PADS_WITH_ZEROS`): an algorithm that pads with zeros gets it passed on,
    another gets x zero-padded here (`windows.zero_padded`) and its input gradient cropped to the unpadded cells,
    so the measured times include that padding.
    case: the one `Case` this instance serves (`algorithm_module` makes one per case, so that a call need not
    build its case again), or None: each call's own.
    """

    PADS_WITH_ZEROS = True

    def __init__(self, case=None):
        self.case = case

    def forward_module(self):
        """The module this instance's forward runs, where known before the call (`module_for`)."""
        return self.module_for("forward")

    def module_for(self, which):
        """The module this instance runs for pass `which` (one of `PASSES`), where known before the call: the
        table's one candidate, the first with `use_deterministic_algorithms(True)`, or the measured fastest; None
        before that measurement (and without a case)."""
        if self.case is None:
            return None
        names = candidates(self.case, which)
        if len(names) == 1 or are_deterministic_algorithms_enabled():
            return ALGORITHMS[names[0]]
        name = measured.chosen(which, self.case)
        return None if name is None else ALGORITHMS[name]

    def decided_input_gradient(self):
        """A function with `conv_input_gradient`'s signature that runs the module `module_for("input gradient")`
        names, taking the padding as this instance does (passed on, or padded and cropped here); None while that
        module is not known."""
        module = self.module_for("input gradient")
        return None if module is None else functools.partial(_input_gradient, module)

    def _case(self, shape, kernel_shape, strides, dilation, groups, padding):
        if self.case is not None:
            return self.case
        return Case(padded_shape(shape, padding), tuple(kernel_shape), tuple(strides), tuple(dilation), groups)

    def conv_forward(self, x, kernel, strides, dilation, groups, padding=None):
        case = self._case(x.shape, kernel.shape, strides, dilation, groups, padding)
        return _run(("forward",), case, lambda module: _forward(module, x, kernel, strides, dilation, groups,
                                                                padding))

    def conv_input_gradient(self, grad_output, kernel, input_shape, strides, dilation, groups, padding=None):
        case = self._case(input_shape, kernel.shape, strides, dilation, groups, padding)
        return _run(("input gradient",), case, lambda module: _input_gradient(
            module, grad_output, kernel, input_shape, strides, dilation, groups, padding))

    def conv_kernel_gradient(self, x, grad_output, kernel_shape, strides, dilation, groups, padding=None):
        case = self._case(x.shape, kernel_shape, strides, dilation, groups, padding)
        return _run(("kernel gradient",), case, lambda module: _kernel_gradient(
            module, x, grad_output, kernel_shape, strides, dilation, groups, padding))

    def conv_gradients(self, x, grad_output, kernel, strides, dilation, groups, padding=None):
        """Both gradients: timed as one (one `conv_gradients` call where a candidate has it) when the table names
        the same candidates for both passes and one of them computes the two together (Winograd shares its
        transforms), else the two passes one after the other, each measured on its own (the fastest input
        gradient and the fastest kernel gradient may then be two algorithms)."""
        case = self._case(x.shape, kernel.shape, strides, dilation, groups, padding)
        names = candidates(case, "input gradient")
        if names == candidates(case, "kernel gradient") and any(hasattr(ALGORITHMS[name], "conv_gradients")
                                                                for name in names):
            def both(module):
                argument, own = _padding_for(module, padding)
                if hasattr(module, "conv_gradients") and own is None:
                    return module.conv_gradients(x, grad_output, kernel, strides, dilation, groups, **argument)
                return (_input_gradient(module, grad_output, kernel, x.shape, strides, dilation, groups, padding),
                        _kernel_gradient(module, x, grad_output, kernel.shape, strides, dilation, groups, padding))

            return _run(("input gradient", "kernel gradient"), case, both)
        return (self.conv_input_gradient(grad_output, kernel, x.shape, strides, dilation, groups, padding),
                self.conv_kernel_gradient(x, grad_output, kernel.shape, strides, dilation, groups, padding))


def _forward(module, x, kernel, strides, dilation, groups, padding):
    argument, own = _padding_for(module, padding)
    x = x if own is None else zero_padded(x, own)
    return module.conv_forward(x, kernel, strides, dilation, groups, **argument)


def _input_gradient(module, grad_output, kernel, input_shape, strides, dilation, groups, padding):
    argument, own = _padding_for(module, padding)
    if own is None:
        return module.conv_input_gradient(grad_output, kernel, input_shape, strides, dilation, groups, **argument)
    padded = module.conv_input_gradient(grad_output, kernel, padded_shape(input_shape, own), strides, dilation,
                                        groups)
    return padded[inside(own, input_shape[1:-1])]


def _kernel_gradient(module, x, grad_output, kernel_shape, strides, dilation, groups, padding):
    argument, own = _padding_for(module, padding)
    x = x if own is None else zero_padded(x, own)
    return module.conv_kernel_gradient(x, grad_output, kernel_shape, strides, dilation, groups, **argument)


auto = Auto()


def multiply_count(name, case):
    """Real multiplies of the forward pass of algorithm `name` on `case` (transforms not counted for fft)."""
    rank = len(case.kernel_size)
    out_shape = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in
                      zip(case.input_shape[1 : 1 + rank], case.kernel_size, case.strides, case.dilation))
    outputs = case.input_shape[0] * math.prod(out_shape) * case.kernel_shape[-1]
    per_output = math.prod(case.kernel_size) * case.per_group_in
    if name == "winograd":
        tile = winograd.DEFAULT_TILE
        tiles = case.input_shape[0] * math.prod(math.ceil(n / tile) for n in out_shape)
        return tiles * (tile + 2) ** 2 * case.per_group_in * case.kernel_shape[-1]
    if name == "fft":
        spatial = fft._lengths(case.input_shape[1 : 1 + rank])
        frequencies = math.prod(spatial[:-1]) * (spatial[-1] // 2 + 1)
        # one complex multiply is four real ones
        return 4 * frequencies * case.input_shape[0] * case.per_group_in * case.kernel_shape[-1]
    if name == "toeplitz":  # the band's zeros are multiplied too: each output reads a tile's window of V columns
        tile = toeplitz.tile_width(out_shape[1], case.kernel_shape[-1])
        window = toeplitz.window_width(tile, case.kernel_size[1], case.strides[1], case.dilation[1])
        return outputs * case.kernel_size[0] * window * case.per_group_in
    if name == "separable":
        kh, kw = case.kernel_size
        columns = case.input_shape[0] * out_shape[0] * case.input_shape[2] * case.per_group_in * case.kernel_shape[-1]
        return columns * kh + outputs * case.per_group_in * kw
    return outputs * per_output


@functools.lru_cache(maxsize=4096)
def algorithm_module(name, case=None):
    """The module implementing algorithm `name` ("auto" or a key of `ALGORITHMS`).

    For "auto" with a `case`, the algorithm `AUTO_TABLE` names for all three passes of that case, when it names
    one (so that its own abilities, such as `PADS_WITH_ZEROS`, are seen); otherwise a per-pass `Auto` for that
    case (kept per case, as `candidates`).
    """
    if name == "auto":
        if case is None:
            return auto
        names = {n for which in PASSES for n in candidates(case, which)}
        if len(names) == 1:
            return ALGORITHMS[names.pop()]
        return Auto(case)
    if name not in ALGORITHMS:
        raise ValueError(f"convolution: unknown algorithm {name!r}; expected 'auto' or one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[name]
