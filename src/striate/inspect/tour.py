"""The lecture notes' worked examples, each computed by striate's own functions (`striate tour`).

    run_tour()                       # print every example, in the order the lectures teach them
    run_tour(pictures="tour")        # and write each example's picture or GIF into tour/
    examples = worked_examples()     # the examples as data: title, slide, printed lines, values, picture

The inputs (an image, a kernel, a table of e-mails) are the slides' own, typed in; every result is computed
by striate (conv2d, convolve, pooling, plan, conv_matrix, metrics, ...) and printed as the lectures write
it. Where a slide prints a wrong number the tour prints the correct one and says what the slide shows.
tests/test_lecture_worked_examples.py checks each of these results by hand.

The notes, as the tour names them: "Unit 2" (Unit 2 Convolutional Networks), "COSC2779" (Convolutional
Neural Networks), "One Fourth Labs", "handwritten notes" (CNN notes), "APL 405" (Lecture 15).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

import striate.functional as F
from striate import Tensor, filters, metrics
from striate.functional.output_size import output_formula
from striate.inspect.conv_matrix import compare_dense, connectivity, conv_matrix
from striate.inspect.frames import convolution_frames, pooling_frames
from striate.inspect.one_output import arithmetic_of_one_output
from striate.inspect.plan import depthwise_separable_ratio, plan
from striate.layers import Conv2D, Dense, DepthwiseConv2D, Flatten
from striate.models.lenet import lenet5
from striate.viz import figure
from striate.viz.animation import animate_arithmetic, animate_convolution, animate_pooling, animate_receptive_field
from striate.viz.training import plot_confusion_matrix

if TYPE_CHECKING:
    import scipy.sparse
    from matplotlib.figure import Figure

# ---- the slides' inputs ------------------------------------------------------------------------------------
SIX_BY_SIX = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                       [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=np.float64)
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64)
BRIGHT_LEFT = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float64)
SOBEL_PATCH = np.array([[0.8, 0.74, 0.6, 0.5, 0.47, 0.55], [0.81, 0.73, 0.58, 0.45, 0.41, 0.46],
                        [0.81, 0.73, 0.58, 0.43, 0.35, 0.38], [0.81, 0.73, 0.58, 0.43, 0.31, 0.31],
                        [0.82, 0.73, 0.61, 0.44, 0.29, 0.27], [0.83, 0.75, 0.62, 0.44, 0.27, 0.25]])
SOBEL_SLIDE = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
SOBEL_SLIDE_MAP = np.array([[-0.89, -1.09, -0.71, 0.02], [-0.92, -1.18, -0.91, -0.2],
                            [-0.9, -1.2, -1.11, -0.44], [-0.87, -1.21, -1.26, -0.63]])   # as printed
SEVEN_BY_SEVEN = np.array([[1, 6, 2, 8, 1, 2, 7], [1, 6, 2, 8, 1, 2, 5], [0, 5, 8, 1, 5, 7, 1],
                           [1, 7, 1, 3, 5, 8, 0], [5, 2, 4, 4, 5, 8, 4], [8, 2, 3, 7, 3, 8, 2],
                           [1, 2, 3, 6, 5, 9, 6]], dtype=np.float64)
FOUR_BY_SIX = np.array([[1, 2, 3, 4, 4, 5], [6, 0, 7, 8, 9, 0], [4, 1, 7, 2, 9, 4], [9, 4, 9, 1, 4, 2]],
                       dtype=np.float64)
KERNEL_0_TO_8 = np.arange(9, dtype=np.float64).reshape(3, 3)
W_1D = np.array([0.1, 0.2, 0.3, 0.4])
G_1D = np.array([1.0, 2, 3, 4, 5, 6])
SLIDE_1D = {3: 2, 4: 4, 5: 5}   # what APL 405 prints for s[3], s[4], s[5]
# APL 405, "What would happen in case of colored images?": the three channels and the kernel's three slices
RGB_INPUT = np.stack([[[-2, -1, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]],
                      [[-3, -2, -1, 0], [1, 2, 3, 4], [5, 6, 7, 8]],
                      [[-6, -2, 3, 0], [1, 2, 3, 4], [5, 4, 2, 8]]], axis=-1).astype(np.float64)
RGB_KERNEL = np.stack([[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
                       [[0, -4, 0], [3, 0, 5], [2, -1, 8]],
                       [[-1, 1, 2], [3, 2, 0], [6, 0, 1]]], axis=-1).astype(np.float64)
MAX_POOL_4X4 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=np.float64)
AVERAGE_POOL_4X4 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 4, 2, 3], [5, 6, 1, 2]], dtype=np.float64)
# Unit 2, "Evaluation Metrics": 20 e-mails, ids 1..20
TARGET = "spam spam ham spam ham spam ham spam spam spam ham spam ham ham ham ham ham spam ham ham".split()
PREDICTION = "ham ham ham spam ham spam ham spam spam spam ham ham ham ham ham ham spam spam ham spam".split()
SPAM_HAM = ("spam", "ham")   # class 0, class 1: the slide's order


@dataclass(eq=False)
class WorkedExample:
    """One worked example of the notes, computed.

    name: the file stem of its picture. title, source: what it is and where the notes show it.
    lines: what the tour prints. values: the numbers computed (arrays, ints, floats), by name.
    picture: writes the example's picture to a path (a .gif or .png) and returns its Animation or Figure;
    picture_file: that file's name; shows: what the picture shows. None / "" when there is no picture.
    """

    name: str
    title: str
    source: str
    lines: list
    values: dict
    picture: Callable | None = None
    picture_file: str | None = None
    shows: str = ""


def run_tour(say: Callable[[str], Any] = print,
             pictures: str | os.PathLike[str] | None = None) -> list[WorkedExample]:
    """Print every worked example; with `pictures` (an existing folder) also write each example's picture
    there and say which file shows it. Returns the examples."""
    if pictures is not None and not os.path.isdir(pictures):
        raise FileNotFoundError(f"run_tour: the pictures folder {os.fspath(pictures)!r} does not exist")
    examples = worked_examples()
    for number, example in enumerate(examples, 1):
        if number > 1:
            say("")
        say(f"{number}. {example.title} ({example.source})")
        for line in example.lines:
            say(f"   {line}")
        if pictures is not None and example.picture is not None:
            assert example.picture_file is not None  # every example with a picture names its file
            path = os.path.join(os.fspath(pictures), example.picture_file)
            example.picture(path)
            say(f"   picture: {path} ({example.shows})")
    return examples


def worked_examples() -> list[WorkedExample]:
    """Every worked example, in the order the lectures teach them (`WorkedExample`s)."""
    return [_flip_1d(), _two_by_two(), _edge_6x6(), _edge_band(), _sobel_patch(), _ones_7x7(), _rgb(), _output_sizes(),
            _stride_5x9(), _pooling("max_pool_4x4"), _pooling("average_pool_4x4"), _pooling("max_pool_7x7"),
            _pooling("max_pool_4x6"), _transposed(), _conv_as_matrix(), _dense_vs_conv(), _lenet5_table(),
            _mobilenet(), _backpropagation(), _spam_ham()]


# ---- convolution, one output at a time ---------------------------------------------------------------------
def _flip_1d():
    true = F.convolve(G_1D, W_1D).numpy()
    crossed = F.correlate(G_1D, W_1D).numpy()
    full = F.convolve(G_1D, W_1D, mode="full").numpy()
    flipped = W_1D[::-1]
    lines = [f"s[i] = sum_a w[i - a] g[a]: w = {_row(W_1D)} flipped to {_row(flipped)}, slid over g = {_row(G_1D)}"]
    for k, value in enumerate(true):
        i = k + len(W_1D) - 1
        sum_text = arithmetic_of_one_output(G_1D[None], flipped[None], 0, k)
        wrong = f"   (the slide prints {SLIDE_1D[i]})" if SLIDE_1D[i] != round(value, 9) else ""
        lines.append(f"s[{i}] = {sum_text}{wrong}")
    lines += [f"true convolution s[3] s[4] s[5]: {_row(true)}; without the flip (cross-correlation, what a conv "
              f"layer computes): {_row(crossed)}",
              f"the slide's 4 and 5 are cross-correlation values; all of s ('full'): {_row(full)}"]
    return WorkedExample("flip_1d", "1-D convolution: flip and filter", "APL 405, '1D Convolution'", lines,
                         {"convolve": true, "correlate": crossed, "full": full},
                         lambda path: animate_convolution(G_1D[None], W_1D[None], mode="convolve", path=path),
                         "flip_1d.gif", "the flipped kernel sliding over g, 3 outputs")


def _two_by_two():
    image = np.arange(9, dtype=np.float64).reshape(3, 3)
    kernel = np.array([[0, 1], [2, 3]], dtype=np.float64)
    out = _single(image, kernel)
    lines = [arithmetic_of_one_output(image, kernel, i, j) for i, j in np.ndindex(*out.shape)]
    lines += ["the 2x2 map:", *_matrix(out)]
    return WorkedExample("conv_2x2", "A 2x2 kernel on a 3x3 input", "APL 405, '2D Convolution'", lines,
                         {"map": out},
                         lambda path: animate_convolution(image, kernel, path=path),
                         "conv_2x2.gif", "the 2x2 window over the 3x3 input, 4 outputs")


def _edge_6x6():
    out = _single(SIX_BY_SIX, VERTICAL_EDGE)
    lines = ["the vertical-edge filter [[1, 0, -1]] x 3 rows over the 6x6 image (valid, stride 1) gives 4x4:",
             *_matrix(out),
             f"top-left: {arithmetic_of_one_output(SIX_BY_SIX, VERTICAL_EDGE, 0, 0)}"]
    return WorkedExample("edge_6x6", "Edge detection on the 6x6 image", "Unit 2, 'A simple exercise on "
                         "Convolution'", lines, {"map": out},
                         lambda path: animate_convolution(SIX_BY_SIX, VERTICAL_EDGE, path=path),
                         "edge_6x6.gif", "the 3x3 window over the 6x6 image, each sum written out, 16 outputs")


def _edge_band():
    bright_left = _single(BRIGHT_LEFT, VERTICAL_EDGE)
    dark_left = _single(BRIGHT_LEFT[:, ::-1], VERTICAL_EDGE)
    mirrored = _single(BRIGHT_LEFT[:, ::-1], VERTICAL_EDGE[:, ::-1])
    horizontal = _single(BRIGHT_LEFT.T, VERTICAL_EDGE.T)
    lines = ["bright | dark, rows [10 10 10 0 0 0]: the edge lights up as a band (the notes' OCR reads 1s for the "
             "10s):", *_matrix(bright_left),
             f"dark | bright: a band of {_row(np.unique(dark_left[dark_left != 0]))}; the mirrored filter "
             f"[[-1, 0, 1]] x 3 gives {_row(np.unique(mirrored[mirrored != 0]))} there (the notes say it is the "
             f"filter for a bright left; it is the one for a bright right)",
             f"the horizontal filter [[1, 1, 1], [0, 0, 0], [-1, -1, -1]] on bright top | dark bottom: columns of "
             f"{_row(np.unique(horizontal[horizontal != 0]))}"]
    return WorkedExample("edge_band", "A bright|dark edge", "handwritten notes, 'CNNs example: Edge Detection'",
                         lines, {"bright_left": bright_left, "dark_left": dark_left, "mirrored": mirrored,
                                 "horizontal": horizontal},
                         lambda path: _last_frame(animate_convolution(BRIGHT_LEFT, VERTICAL_EDGE), path),
                         "edge_band.png", "the bright|dark image, the filter and the band of 30s")


def _sobel_patch():
    edges = filters.apply(SOBEL_PATCH, SOBEL_SLIDE, mode="convolve", padding="valid")
    as_sobel_x = filters.apply(SOBEL_PATCH, filters.sobel("x"), padding="valid")
    rounded = np.round(edges, 2)
    differ = [tuple(int(i) for i in p) for p in np.argwhere(np.abs(rounded - SOBEL_SLIDE_MAP) > 0.005)]
    lines = ["I_o(i, j) = sum_{p,q} w_{p,q} I_in(i - p, j - q): true convolution, the kernel flipped, over the "
             "6x6 patch (valid):", *_matrix(edges, "{:.2f}"),
             f"top-left: {arithmetic_of_one_output(SOBEL_PATCH, SOBEL_SLIDE[::-1, ::-1], 0, 0)}",
             f"the slide prints {len(differ)} values 0.01-0.02 off (it seems to use the unrounded image): "
             + ", ".join(f"{SOBEL_SLIDE_MAP[p]:.2f} at {list(p)} (correct {edges[p]:.2f})" for p in differ),
             f"the flipped kernel is striate.filters.sobel('x'): correlating with it gives the same map "
             f"(largest difference {np.abs(as_sobel_x - edges).max():g})"]
    return WorkedExample("sobel_patch", "The Sobel filter on a 6x6 patch", "COSC2779, '2D Convolution in "
                         "Traditional Computer Vision'", lines,
                         {"map": edges, "slide_differs": differ, "sobel_x_map": as_sobel_x},
                         lambda path: _last_frame(animate_convolution(SOBEL_PATCH, SOBEL_SLIDE, mode="convolve"), path),
                         "sobel_patch.png", "the patch, the flipped Sobel kernel and the 4x4 map")


def _ones_7x7():
    ones = np.ones((3, 3))
    valid = _single(SEVEN_BY_SEVEN, ones)
    padded = _single(SEVEN_BY_SEVEN, ones, padding=1)
    strided = _single(SEVEN_BY_SEVEN, ones, strides=2)
    corner = np.pad(SEVEN_BY_SEVEN, 1)[:3, :3]
    lines = ["all-ones 3x3 filter, valid: the 7x7 input gives 5x5", *_matrix(valid),
             f"one ring of zeros (padding 1) keeps 7x7, corner {padded[0, 0]:g} = "
             f"{' + '.join(f'{v:g}' for v in corner[corner != 0])} (the rest is padding); row 1: "
             f"{_row(padded[1])} (the slide's padded image has a stray tenth column: one ring makes 9x9)",
             f"stride 2: {strided.shape[0]}x{strided.shape[1]}, first row {_row(strided[0])}"]
    return WorkedExample("ones_7x7", "The 7x7 image: valid, padded, strided", "COSC2779, '2D Convolution', "
                         "'Padding'", lines, {"valid": valid, "padded": padded, "strided": strided},
                         lambda path: _last_frame(animate_convolution(SEVEN_BY_SEVEN, ones, padding=1), path),
                         "ones_7x7_padded.png", "the padded 7x7 image and its 7x7 map, corner 14")


def _rgb():
    out = F.conv2d(RGB_INPUT[None], RGB_KERNEL[..., None]).numpy()[0, 0, :, 0]
    per_channel = F.conv2d(RGB_INPUT[None], RGB_KERNEL[:, :, None, :], groups=3).numpy()[0, 0]
    steps = [frame for frame in convolution_frames(RGB_INPUT, RGB_KERNEL) if frame.stage == "step"]
    lines = ["a 3x4x3 input and one 3x3x3 kernel: each channel's window times its slice, the three sums added"]
    for side, frame in zip(("left", "right"), steps):
        lines += [f"{side} window:", *frame.text.split("\n")]
    lines += [f"output: {_row(out)} (the slide prints 188 for the left window's first sum, and so 323; the sum "
              f"is {per_channel[0, 0]:g}, the total {out[0]:g})"]
    return WorkedExample("rgb", "Convolution over a colour image", "APL 405, 'What would happen in case of "
                         "colored images?'", lines, {"map": out, "per_channel": per_channel},
                         lambda path: animate_convolution(RGB_INPUT, RGB_KERNEL, path=path),
                         "rgb.gif", "each channel's window and sum, then the total, 2 outputs")


# ---- sizes and strides ---------------------------------------------------------------------------------------
def _output_sizes():
    first = F.conv2d(np.zeros((1, 600, 600, 1)), np.zeros((5, 5, 1, 8)), strides=2, padding=2)
    second = F.conv2d(first, np.zeros((3, 3, 8, 4)), strides=3, padding=1)
    simple = F.conv2d(np.zeros((1, 39, 39, 3)), np.zeros((3, 3, 3, 10)))
    simple = F.conv2d(F.conv2d(simple, np.zeros((5, 5, 10, 20)), strides=2), np.zeros((5, 5, 20, 40)), strides=2)
    mnist = F.max_pool2d(F.conv2d(F.conv2d(np.zeros((1, 28, 28, 1)), np.zeros((3, 3, 1, 32))),
                                  np.zeros((3, 3, 32, 64))), 2)
    bottleneck = F.conv2d(np.zeros((1, 28, 28, 192)), np.zeros((1, 1, 192, 16)))
    same = _single(SIX_BY_SIX, VERTICAL_EDGE, padding="same")
    strided = _single(FOUR_BY_SIX, KERNEL_0_TO_8, padding=1, strides=2)
    lines = ["output length: floor((n + 2p - k) / s) + 1",
             f"6x6, 3x3, p = (f - 1) / 2 = 1 ('same'): {output_formula(6, 2, 3, 1)} -> {_shape(same.shape)} (the "
             f"handwritten notes' n + 2p + f - 1 would give 10)",
             f"4x6 input, padded by 1, kernel 0..8, stride 2: rows {output_formula(4, 2, 3, 2)}, columns "
             f"{output_formula(6, 2, 3, 2)}; corner {strided[0, 0]:g}; map {_rows(strided)}  (APL 405, 'Stride')",
             f"AlexNet conv1: 227x227x3, 96 11x11 filters, stride 4: {output_formula(227, 0, 11, 4)}  "
             f"(APL 405; One Fourth Labs)",
             f"600x600x1 -> 8 5x5 filters, pad 2, stride 2 -> {_shape(first.shape[1:])} -> 4 3x3x8 filters, pad 1, "
             f"stride 3 -> {_shape(second.shape[1:])}  (Unit 2, 'Creating a series of convolutions')",
             f"39x39x3 -> 3x3 x10 -> 5x5 s2 x20 -> 5x5 s2 x40 = {_shape(simple.shape[1:])}, "
             f"{np.prod(simple.shape[1:]):,} features  (handwritten notes, 'Simple Convolutional Net example')",
             f"28x28x1 -> 3x3 x32 -> 3x3 x64 -> 2x2 max pool = {_shape(mnist.shape[1:])}, "
             f"{np.prod(mnist.shape[1:]):,} features  (Unit 2, 'Image Classifier from Keras')",
             f"1x1 convolution, 16 filters: 28x28x192 -> {_shape(bottleneck.shape[1:])}  (handwritten notes, "
             f"'1x1 convolutions')"]
    return WorkedExample("output_sizes", "Output sizes", "the notes' size exercises", lines,
                         {"same": same.shape, "four_by_six": strided, "series": (first.shape[1:], second.shape[1:]),
                          "simple": simple.shape[1:], "mnist": mnist.shape[1:], "bottleneck": bottleneck.shape[1:]})


def _stride_5x9():
    image = np.arange(45, dtype=np.float64).reshape(5, 9)
    kernel = np.ones((3, 3))
    centred = _single(image, kernel, strides=(2, 3), padding=1)
    valid = _single(image, kernel, strides=(2, 3))
    lines = ["a 3x3 filter centred on the visited pixels (one ring of zeros), 2 down and 3 across:",
             f"rows {output_formula(5, 2, 3, 2)}, columns {output_formula(9, 2, 3, 3)}: "
             f"{_shape(centred.shape)}, 1/3 of 9 across and about 1/2 of 5 down, as the slide says",
             f"without padding: rows {output_formula(5, 0, 3, 2)}, columns {output_formula(9, 0, 3, 3)}: "
             f"{_shape(valid.shape)}"]
    return WorkedExample("stride_5x9", "The 5x9 input with stride 3 across and 2 down", "Unit 2, 'Stride "
                         "(contd.)'", lines, {"centred": centred.shape, "valid": valid.shape},
                         lambda path: animate_arithmetic((5, 9), 3, strides=(2, 3), padding=1, path=path),
                         "stride_5x9.gif", "the padded 5x9 input, the 3x3 footprint stepping 2 down and 3 across, "
                         "9 outputs")


# ---- pooling -----------------------------------------------------------------------------------------------
POOLING = {   # name: (title, source, input, kind, note, the output a still picture shows or None for a GIF)
    "max_pool_4x4": ("Max pooling, 2x2 windows, stride 2", "Unit 2, 'Max pooling'", MAX_POOL_4X4, "max", "", None),
    "average_pool_4x4": ("Average pooling, 2x2 windows, stride 2", "Unit 2, 'Average pooling'", AVERAGE_POOL_4X4,
                         "average", "this slide's third row reads 1 4 2 3 (the max-pooling slide's 1 3 2 3)", None),
    "max_pool_7x7": ("Max pooling the 7x7 image", "COSC2779, '2D Pooling'", SEVEN_BY_SEVEN, "max",
                     "the slide fills in 6 8 2 / 7; the last row and column fall outside every window", (1, 0)),
    "max_pool_4x6": ("Max pooling the 4x6 input", "APL 405, 'Pooling'", FOUR_BY_SIX, "max", "", (1, 2)),
}


def _pooling(name):
    title, source, image, kind, note, still = POOLING[name]
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = pool(image[None, :, :, None], pool_size=2, strides=2).numpy()[0, :, :, 0]
    texts = [frame.text for frame in pooling_frames(image, 2, 2, kind=kind) if frame.stage == "step"]
    h, w = image.shape
    lines = [", ".join(texts[i : i + out.shape[1]]) for i in range(0, len(texts), out.shape[1])]
    lines += [*_matrix(out), f"rows {output_formula(h, 0, 2, 2)}, columns {output_formula(w, 0, 2, 2)}"
              + (" (the handwritten notes' floor((N - f + 1) / s) would give 1)" if name == "max_pool_4x4" else "")]
    lines += [note] if note else []
    if still is None:
        return WorkedExample(name, title, source, lines, {"map": out},
                             lambda path: animate_pooling(image, 2, 2, kind=kind, path=path),
                             f"{name}.gif", f"the 2x2 window over the {h}x{w} input, {out.size} outputs")
    return WorkedExample(name, title, source, lines, {"map": out},
                         lambda path: _frame(animate_pooling(image, 2, 2, kind=kind), still, path),
                         f"{name}.png", f"the {h}x{w} input, the window of output {still} and the outputs so far")


# ---- transposed convolution --------------------------------------------------------------------------------
def _transposed():
    ones = F.conv_transpose2d(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1))).numpy()[0, :, :, 0]
    image = np.arange(1, 10, dtype=np.float64).reshape(3, 3)[None, :, :, None]
    sizes = [F.conv_transpose2d(image, KERNEL_0_TO_8[:, :, None, None], strides=s).shape[1:3] for s in (1, 2, 3)]
    lines = ["a 3x3 input, a 3x3 filter of ones: each output counts the filter placements covering it:",
             *_matrix(ones),
             f"sizes, strides 1, 2, 3: {', '.join(_shape(s) for s in sizes)} (Keras: (n - 1) s + k; the slide "
             f"calls the 7x7 and 9x9 'dilated'; they are fractionally strided: s - 1 zeros between the inputs)"]
    return WorkedExample("transposed", "Transposed convolution", "Unit 2, 'Transposed convolution', 'Dilated "
                         "Convolution'", lines, {"ones": ones, "sizes": sizes},
                         lambda path: _frame(animate_arithmetic(3, 3, strides=2, transposed=True), (2, 2), path),
                         "transposed_stride2.png", "the 3x3 input spread by one zero and padded, the kernel's "
                         "footprint for output (2, 2) of 7x7")


# ---- a convolution as a feed-forward layer ---------------------------------------------------------------------
def _conv_as_matrix():
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)   # w1 w2 / w3 w4
    matrix = conv_matrix((4, 4, 1), kernel, strides=2)
    fed = {f"h1{j + 1}": connectivity((4, 4, 1), 2, strides=2, output_position=(0, j)).numbers for j in (0, 1)}
    stride_1 = connectivity((4, 4, 1), 2, output_position=(0, 1)).numbers
    per_row = np.diff(matrix.indptr)
    lines = [f"4x4 input, pixels 1..16 row by row, 2x2 kernel, stride 2: h11 is fed by pixels "
             f"{_list(fed['h11'])}, h12 by {_list(fed['h12'])} (with stride 1, h12 would be {_list(stride_1)})",
             f"as a matrix h = M x: M is {matrix.shape[0]}x{matrix.shape[1]} with {_row(per_row)} entries per row, "
             f"{matrix.nnz} of {matrix.shape[0] * matrix.shape[1]}; every row holds the same 4 weights (weight "
             f"sharing); a dense layer fills all {matrix.shape[0] * matrix.shape[1]}"]
    return WorkedExample("conv_matrix", "A convolution as a sparse, shared matrix", "APL 405 / One Fourth Labs, "
                         "'Full connected NN vs CNN'", lines,
                         {"fed": fed, "stride_1_h12": stride_1, "matrix": matrix},
                         lambda path: draw_conv_matrix(matrix, path),
                         "conv_matrix.png", "M row by row: which pixels feed h11..h22, with which weight")


def draw_conv_matrix(matrix: "scipy.sparse.sparray", path: str | os.PathLike[str] | None = None) -> "Figure":
    """The 4x16 matrix of a 2x2 kernel, stride 2, on a 4x4 image beside a dense layer's: axes[0] draws M
    (image: M.toarray()), its entries named w1..w4 by kernel value; axes[1] the dense layer (image: ones)."""
    dense = matrix.toarray()
    rows, columns = dense.shape
    fig = figure.new_figure(7.0, 4.2)
    names = [f"h{i + 1}{j + 1}" for i in range(2) for j in range(2)]
    for k, (array, title) in enumerate(((dense, "convolution: 4 pixels a row, the same 4 weights"),
                                        (np.ones_like(dense), "dense: every pixel, its own weight"))):
        ax = fig.add_subplot(2, 1, k + 1)
        ax.imshow(array, cmap="Blues", vmin=0, vmax=max(array.max(), 1) * 2, interpolation="nearest")
        for (i, j), value in np.ndenumerate(array):
            if value and k == 0:
                ax.text(j, i, f"w{value:g}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(columns), [str(c + 1) for c in range(columns)], fontsize=8)
        ax.set_yticks(range(rows), names, fontsize=8)
        ax.set_xticks(np.arange(-0.5, columns), minor=True)
        ax.set_yticks(np.arange(-0.5, rows), minor=True)
        ax.grid(which="minor", color="#888888", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("input pixel", fontsize=9)
    fig.suptitle("h = M x: the 2x2 kernel [[w1, w2], [w3, w4]], stride 2, on a 4x4 image", fontsize=11)
    return figure.save(fig, path)


def _dense_vs_conv():
    lenet = compare_dense((32, 32, 1), Conv2D(6, 5))
    one_map = compare_dense((32, 32, 1), Conv2D(1, 5))
    photo = plan([Flatten(), Dense(1000)], (200, 200, 3))
    lines = [f"LeNet's first layer, 32x32x1 -> 6 5x5 filters -> 28x28x6: a dense layer needs 32x32 x 28x28x6 = "
             f"{lenet.dense_weights:,} weights, the convolution 6 x 5x5x1 = {lenet.conv_weights:,} "
             f"({lenet.conv_params:,} with biases, against {lenet.dense_params:,})",
             f"APL 405's '1024 x 784 weights' is one 28x28 map: {one_map.dense_weights:,}, against "
             f"{one_map.conv_weights} for one 5x5 filter (the slide sets it beside the 150 of all six)",
             f"a 200x200x3 photo into 1,000 dense units: {photo.totals['macs']:,} weights = 12 x 10^7 "
             f"(APL 405, 'From fully-connected layers to Convolution layers')"]
    return WorkedExample("dense_vs_conv", "Parameters: dense against convolution", "One Fourth Labs, "
                         "'Convolution Layer 1'; APL 405, 'LeNet'", lines,
                         {"lenet": lenet, "one_map": one_map, "photo_weights": photo.totals["macs"]})


# ---- networks ----------------------------------------------------------------------------------------------
LENET_ROWS = [("Input", "input"), ("CONV1 (f=5, s=1)", "conv1"), ("POOL1", "pool1"), ("CONV2 (f=5, s=1)", "conv2"),
              ("POOL2", "pool2"), ("FC3", "fc1"), ("FC4", "fc2"), ("Softmax", "predictions")]
LENET_SLIDE = {("conv1", "shape"): "(8, 20, 6)", ("conv1", "size"): "4,707", ("fc1", "params"): "48,210",
               ("predictions", "size"): "16"}   # what the handwritten notes print where they are wrong


def _lenet5_table():
    colour = plan(lenet5((32, 32, 3)))
    grey = lenet5((32, 32, 1))
    table = []
    for label, name in LENET_ROWS:
        row = colour[name]
        shape = row.output_shape[1:]
        cells = {"shape": str(shape if len(shape) > 1 else (shape[0], 1)), "size": f"{np.prod(shape):,}",
                 "params": f"{row.params:,}"}
        wrong = [f"{LENET_SLIDE[name, key]} for {cells[key]}" for key in cells if (name, key) in LENET_SLIDE]
        table.append((label, *cells.values(), f"the notes print {', '.join(wrong)}" if wrong else ""))
    header = ("", "Activation shape", "Activation size", "# parameters", "")
    widths = [max(len(r[i]) for r in (header, *table)) for i in range(4)]
    lines = ["  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), *(c.rjust(w) for c, w in
                                                                       zip(r[2:4], widths[2:4])), r[4]]).rstrip()
             for r in (header, *table)]
    weights = {layer.name: sum(w.size for w in layer.weights if w.name.rsplit("/", 1)[-1] == "kernel")
               for layer in grey.layers}
    params = {layer.name: layer.count_params() for layer in grey.layers}
    lines += [f"total {colour.totals['params']:,} for the colour input; for APL 405's 32x32x1 digit: conv1 "
              f"{weights['conv1']} weights, conv2 {weights['conv2']:,}, FC1 {weights['fc1']:,} + 120 biases = "
              f"{params['fc1']:,}, FC2 {params['fc2']:,}, output {params['predictions']}; total "
              f"{sum(params.values()):,} ('60k', Unit 2)"]
    fields = {row.name: row.receptive_field for row in colour.rows}
    lines += ["receptive field of one output: " + ", ".join(f"{name} {_shape(fields[name])}" for name in
                                                             ("conv1", "pool1", "conv2", "pool2"))]
    return WorkedExample("lenet5", "LeNet-5, layer by layer", "handwritten notes, 'NEURAL NETWORK EXAMPLE - "
                         "LeNet-5'; APL 405, 'LeNet'", lines,
                         {"table": table, "total": colour.totals["params"], "grey_total": sum(params.values()),
                          "weights": weights, "receptive_field": fields},
                         lambda path: animate_receptive_field(grey, "pool2", path=path),
                         "lenet5_receptive_field.gif", "the input one output cell sees, layer by layer, 4 frames")


def _mobilenet():
    normal = plan([Conv2D(5, 3)], (6, 6, 3))
    separable = plan([DepthwiseConv2D(3), Conv2D(5, 1)], (6, 6, 3))
    depthwise, pointwise = (row.macs for row in separable.rows[1:])
    ratio = Fraction(separable.totals["macs"], normal.totals["macs"])
    lines = [f"normal: 6x6x3 * 5 filters 3x3x3 -> 4x4x5: {normal.totals['macs']:,} multiplies",
             f"depthwise 3x3 per channel -> 4x4x3: {depthwise} (the notes' '43^2'); pointwise 5 filters 1x1x3 -> "
             f"4x4x5: {pointwise} (the notes print 290); together {separable.totals['macs']:,} vs "
             f"{normal.totals['macs']:,}",
             f"ratio {separable.totals['macs']} / {normal.totals['macs']:,} = {ratio}, and 1/n_c' + 1/f^2 = 1/5 + 1/9 "
             f"= {depthwise_separable_ratio(5, 3)} (the notes write 1/n_c + 1/f^3)"]
    return WorkedExample("mobilenet", "MobileNet's depthwise-separable convolution", "handwritten notes, "
                         "'MOBILENET'", lines, {"normal": normal.totals["macs"], "depthwise": depthwise,
                                                "pointwise": pointwise, "ratio": ratio})


def _backpropagation():
    x = Tensor(SIX_BY_SIX[None, :, :, None])
    w = Tensor(VERTICAL_EDGE[:, :, None, None], requires_grad=True)
    F.conv2d(x, w).sum().backward()
    gradient = w.grad[:, :, 0, 0]
    lines = ["d sum(conv2d(x, w)) / dw: each weight collects the 16 input cells it multiplied:", *_matrix(gradient)]
    return WorkedExample("backpropagation", "Backpropagation through a convolution", "Unit 2, the 6x6 image",
                         lines, {"gradient": gradient})


def _spam_ham():
    y_true = np.array([SPAM_HAM.index(t) for t in TARGET])
    y_pred = np.array([SPAM_HAM.index(p) for p in PREDICTION])
    matrix = metrics.confusion_matrix(y_true, y_pred)
    accuracy, wrong = metrics.accuracy(y_true, y_pred), metrics.misclassification_rate(y_true, y_pred)
    lines = ["                 Prediction", "                 'spam'  'ham'",
             f"Target  'spam'  {matrix[0, 0]:>5}  {matrix[0, 1]:>5}", f"        'ham'   {matrix[1, 0]:>5}  "
             f"{matrix[1, 1]:>5}",
             f"classification accuracy (TP + TN) / total = {accuracy:g}; misclassification rate (FP + FN) / total "
             f"= {wrong:g} (the slide swaps the two headings)",
             *metrics.classification_report(y_true, y_pred, class_names=SPAM_HAM, digits=2).rstrip().split("\n")]
    return WorkedExample("spam_ham", "The spam/ham confusion matrix", "Unit 2, 'Evaluation Metrics'", lines,
                         {"matrix": matrix, "accuracy": accuracy, "misclassification_rate": wrong},
                         lambda path: plot_confusion_matrix(y_true, y_pred, class_names=SPAM_HAM, path=path),
                         "spam_ham_confusion.png", "the confusion matrix, rows target, columns prediction")


# ---- helpers -------------------------------------------------------------------------------------------------
def _single(image, kernel, **options):
    """conv2d of one (H, W) image with one (kh, kw) filter: (H_out, W_out)."""
    return F.conv2d(image[None, :, :, None], kernel[:, :, None, None], **options).numpy()[0, :, :, 0]


def _last_frame(animation, path):
    """Write the animation's last frame (everything computed) as a still picture."""
    return figure.save(animation.figure(len(animation.frames) - 1), path)


def _frame(animation, output_index, path):
    """Write the animation's frame of one output position as a still picture."""
    k = next(k for k, frame in enumerate(animation.frames) if frame.output_index == output_index)
    return figure.save(animation.figure(k), path)


def _row(values):
    return " ".join(f"{v:g}" for v in np.asarray(values).ravel())


def _rows(array):
    return " / ".join(_row(row) for row in array)


def _list(values):
    return ", ".join(str(v) for v in values)


def _shape(shape):
    return "x".join(str(n) for n in shape)


def _matrix(array, fmt="{:g}"):
    texts = [[fmt.format(v + 0.0) for v in row] for row in np.asarray(array)]
    width = max(len(t) for row in texts for t in row)
    return ["  " + " ".join(t.rjust(width) for t in row) for row in texts]
