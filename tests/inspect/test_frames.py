"""The animations' frames as data: each frame's window, written sum and value, against striate.functional,
scipy.signal, hand-worked lecture examples and a one-hot probe of which input cells an output reads."""

import numpy as np
import pytest
import scipy.signal

import striate
import striate.functional as F
from striate import layers as L
from striate.inspect.frames import arithmetic_frames, convolution_frames, pooling_frames, receptive_field_frames
from striate.inspect.plan import plan

# seed 000, "A simple exercise on Convolution" (the 6x6 image and the vertical-edge kernel)
IMAGE_6X6 = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                      [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=float)
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
# seed 004, "What would happen in case of colored images?": 3x4x3 input, one 3x3x3 filter
RGB = np.stack([[[-2, -1, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]],
                [[-3, -2, -1, 0], [1, 2, 3, 4], [5, 6, 7, 8]],
                [[-6, -2, 3, 0], [1, 2, 3, 4], [5, 4, 2, 8]]], axis=-1).astype(float)
RGB_KERNEL = np.stack([[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
                       [[0, -4, 0], [3, 0, 5], [2, -1, 8]],
                       [[-1, 1, 2], [3, 2, 0], [6, 0, 1]]], axis=-1).astype(float)
# seed 000, "Max pooling" / "Average pooling" (the average slide's third row reads 1 4 2 3)
POOL_MAX_INPUT = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)
POOL_AVERAGE_INPUT = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 4, 2, 3], [5, 6, 1, 2]], dtype=float)

GEOMETRIES = [  # (input shape, kernel shape, strides, padding, dilation_rate)
    ((6, 6), (3, 3), 1, "valid", 1),
    ((7, 6), (3, 3), 2, "same", 1),
    ((6, 7), (2, 2), 2, "same", 1),          # even kernel: the odd padding cell goes after
    ((7, 7), (3, 3), 1, "same", 2),          # dilation
    ((8, 7), (3, 2), (2, 1), ((1, 2), (0, 1)), (1, 2)),
    ((5, 5, 2), (3, 3, 2), 2, "full", 1),
]


def steps(frames):
    return [frame for frame in frames if frame.stage == "step"]


def written_value(text):
    """The number after the last '=' of a frame's text."""
    return float(text.rsplit("=", 1)[1])


def conv2d_map(x, kernel, **options):
    x = x if x.ndim == 3 else x[..., None]
    kernel = kernel if kernel.ndim == 3 else kernel[..., None]
    return F.conv2d(x[None], kernel[..., None], **options).numpy()[0, :, :, 0]


def cells_read(output_index, input_shape, probe):
    """{input cell: weight} read by output `output_index`, found by feeding a one-hot input through `probe`
    (a function of an (N, H, W) batch giving (N, H_out, W_out)) with kernel weights all different."""
    count = input_shape[0] * input_shape[1]
    one_hot = np.eye(count).reshape(count, *input_shape)
    responses = probe(one_hot)[(slice(None), *output_index)]
    return {divmod(q, input_shape[1]): responses[q] for q in np.flatnonzero(responses)}


# ---- convolution ---------------------------------------------------------------------------------------------
def test_vertical_edge_frames_write_the_lectures_sum_and_fill_the_slide_map():
    frames = convolution_frames(IMAGE_6X6, VERTICAL_EDGE)
    assert [f.stage for f in frames] == ["intro"] + ["step"] * 16 + ["outro"]
    assert frames[1].text == "3*1 + 0*0 + 1*-1 + 1*1 + 5*0 + 8*-1 + 2*1 + 7*0 + 2*-1 = -5"
    assert frames[1].value == -5 and frames[2].value == -4 and frames[16].value == -16
    slide = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    np.testing.assert_array_equal(frames[-1].output, slide)
    assert np.isnan(frames[0].output).all()
    assert np.isnan(frames[2].output).sum() == 14  # two values computed after two steps


def test_rgb_frames_write_each_channel_sum_and_their_total():
    frames = steps(convolution_frames(RGB, RGB_KERNEL))
    assert len(frames) == 2
    np.testing.assert_array_equal(frames[0].channel_sums, [186, 86, 49])
    np.testing.assert_array_equal(frames[1].channel_sums, [222, 99, 49])
    lines = frames[0].text.split("\n")
    assert lines[-1] == "186 + 86 + 49 = 321"
    assert lines[0] == "channel 0: -2*0 + -1*1 + 0*2 + 2*3 + 3*4 + 4*5 + 6*6 + 7*7 + 8*8 = 186"
    assert [written_value(line) for line in lines[:3]] == [186, 86, 49]
    assert [f.value for f in frames] == [321, 370]


@pytest.mark.parametrize("shape, kernel_shape, strides, padding, dilation", GEOMETRIES)
def test_each_step_reads_the_cells_conv2d_reads_and_writes_its_value(shape, kernel_shape, strides, padding, dilation):
    rng = np.random.default_rng(0)
    x = rng.integers(-4, 6, size=shape).astype(float)
    kernel = rng.integers(-3, 4, size=kernel_shape).astype(float)
    options = {"strides": strides, "padding": padding, "dilation_rate": dilation}
    expected = conv2d_map(x, kernel, **options)
    frames = convolution_frames(x, kernel, **options)
    assert len(frames) == expected.size + 2 and frames[0].stage == "intro" and frames[-1].stage == "outro"
    np.testing.assert_allclose(frames[-1].output, expected, rtol=1e-12)

    (top, _), (left, _) = frames[0].padding
    distinct = np.arange(1.0, 1 + np.prod(kernel_shape[:2])).reshape(kernel_shape[:2])
    probe = lambda batch: F.conv2d(batch[..., None], distinct[..., None, None], **options).numpy()[..., 0]  # noqa: E731
    for k, frame in enumerate(steps(frames)):
        assert frame.output_index == np.unravel_index(k, expected.shape)
        assert frame.value == pytest.approx(expected[frame.output_index], abs=1e-9)
        assert written_value(frame.text) == pytest.approx(frame.value, abs=1e-9)
        assert frame.channel_sums.sum() == pytest.approx(frame.value, abs=1e-9)
        window = {(r - top, c - left): distinct[a, b] for (a, b), (r, c) in
                  zip(np.ndindex(*kernel_shape[:2]), frame.window.reshape(-1, 2))}
        inside = {cell: w for cell, w in window.items() if 0 <= cell[0] < shape[0] and 0 <= cell[1] < shape[1]}
        assert inside == cells_read(frame.output_index, shape[:2], probe)


@pytest.mark.parametrize("mode_padding", ["valid", "full"])
def test_values_equal_scipy_correlate2d_and_convolve2d(mode_padding):
    rng = np.random.default_rng(1)
    x, kernel = rng.normal(size=(6, 5)), rng.normal(size=(3, 2))
    correlated = convolution_frames(x, kernel, padding=mode_padding)[-1].output
    np.testing.assert_allclose(correlated, scipy.signal.correlate2d(x, kernel, mode=mode_padding), rtol=1e-10)
    convolved = convolution_frames(x, kernel, padding=mode_padding, mode="convolve")
    np.testing.assert_allclose(convolved[-1].output, scipy.signal.convolve2d(x, kernel, mode=mode_padding),
                               rtol=1e-10)
    np.testing.assert_array_equal(convolved[0].kernel[..., 0], kernel[::-1, ::-1])


def test_true_convolution_same_padding_equals_scipy_convolve2d_same_for_an_odd_kernel():
    frames = convolution_frames(IMAGE_6X6, np.arange(9.0).reshape(3, 3), padding="same", mode="convolve")
    expected = scipy.signal.convolve2d(IMAGE_6X6, np.arange(9.0).reshape(3, 3), mode="same")
    np.testing.assert_array_equal(frames[-1].output, expected)


def test_convolution_frames_refuse_mismatched_channels_and_unknown_mode():
    with pytest.raises(ValueError, match=r"convolution_frames: .*received x \(3, 4, 3\) and kernel \(3, 3, 2\)"):
        convolution_frames(RGB, RGB_KERNEL[..., :2])
    with pytest.raises(ValueError, match="convolution_frames: mode must be"):
        convolution_frames(IMAGE_6X6, VERTICAL_EDGE, mode="flip")
    with pytest.raises(ValueError, match="convolution_frames: a 3x3 kernel does not fit a 2x2 input"):
        convolution_frames(np.ones((2, 2)), VERTICAL_EDGE)


# ---- convolution arithmetic ----------------------------------------------------------------------------------
def test_arithmetic_title_fills_in_the_output_size_formula():
    frames = arithmetic_frames(5, 3, strides=2, padding=1)
    geometry = frames[0].geometry
    assert geometry.formula == "o = floor((5 + 2 - 3) / 2) + 1 = 3"
    assert geometry.output_size == (3, 3) and geometry.grid_shape == (7, 7)
    assert len(frames) == 9 + 2
    # output (0, 1) reads padded rows 0..2, columns 2..4: input rows 0..1 (row -1 is padding), columns 1..3
    np.testing.assert_array_equal(frames[2].footprint[0, :, 1], [2, 3, 4])
    assert [tuple(cell) for cell in frames[2].reads] == [(r, c) for r in (0, 1) for c in (1, 2, 3)]


@pytest.mark.parametrize("size, kernel_size, strides, padding, dilation", [
    (5, 3, 1, "valid", 1), (6, 3, 2, "same", 1), (6, 4, 2, "same", 1), (7, 3, 1, "valid", 2),
    ((7, 5), (3, 2), (2, 1), "full", (2, 1)),
])
def test_arithmetic_footprints_read_what_conv2d_reads(size, kernel_size, strides, padding, dilation):
    size2, kernel2 = np.broadcast_to(size, 2), np.broadcast_to(kernel_size, 2)
    frames = arithmetic_frames(size, kernel_size, strides, padding, dilation)
    options = {"strides": strides, "padding": padding, "dilation_rate": dilation}
    ones = np.ones((*kernel2, 1, 1))
    probe = lambda batch: F.conv2d(batch[..., None], ones, **options).numpy()[..., 0]  # noqa: E731
    assert frames[0].geometry.output_size == probe(np.zeros((1, *size2))).shape[1:]
    for frame in steps(frames):
        assert {tuple(cell) for cell in frame.reads} == set(cells_read(frame.output_index, tuple(size2), probe))


@pytest.mark.parametrize("size, kernel_size, strides, padding, dilation", [
    (3, 3, 1, "valid", 1), (3, 3, 2, "valid", 1), (3, 4, 2, "same", 1), (4, 3, 2, "same", 1),
    (3, 2, 3, "valid", 1), (3, 3, 2, 1, 1), (3, 3, 1, "valid", 2), ((2, 3), (3, 2), (2, 1), "same", 1),
])
def test_transposed_arithmetic_is_the_stride_1_convolution_over_the_stretched_input(size, kernel_size, strides,
                                                                                     padding, dilation):
    # Dumoulin & Visin: zeros between the input cells, padding, then the flipped kernel at stride 1 gives
    # exactly conv_transpose2d (the adjoint of conv2d, tested against torch elsewhere).
    rng = np.random.default_rng(2)
    frames = arithmetic_frames(size, kernel_size, strides, padding, dilation, transposed=True)
    geometry = frames[0].geometry
    x = rng.integers(1, 5, size=geometry.input_size).astype(float)
    kernel = rng.integers(-3, 4, size=geometry.kernel_size).astype(float)
    expected = F.conv_transpose2d(x[None, ..., None], kernel[..., None, None], strides=strides, padding=padding,
                                  dilation_rate=dilation).numpy()[0, ..., 0]
    assert geometry.output_size == expected.shape
    grid = np.zeros(geometry.grid_shape)
    grid[geometry.input_cells[..., 0], geometry.input_cells[..., 1]] = x
    flipped = kernel[::-1, ::-1]
    for frame in steps(frames):
        total = np.sum(grid[frame.footprint[..., 0], frame.footprint[..., 1]] * flipped)
        assert total == expected[frame.output_index]


def test_transposed_title_and_the_lectures_3x3_to_5x5():
    geometry = arithmetic_frames(3, 3, transposed=True)[0].geometry
    assert geometry.formula == "o = (3 - 1)*1 + 3 - 0 = 5"
    assert geometry.grid_shape == (7, 7) and geometry.padding == ((2, 2), (2, 2))


# ---- pooling -------------------------------------------------------------------------------------------------
def test_lecture_max_pooling_frames_choose_the_maximum():
    frames = pooling_frames(POOL_MAX_INPUT, 2)
    assert len(frames) == 4 + 2
    assert [f.text for f in steps(frames)] == ["max(1, 3, 2, 9) = 9", "max(2, 1, 1, 1) = 2",
                                               "max(1, 3, 5, 6) = 6", "max(2, 3, 1, 2) = 3"]
    assert [f.chosen for f in steps(frames)] == [(1, 1), (0, 2), (3, 1), (2, 3)]
    np.testing.assert_array_equal(frames[-1].output, [[9, 2], [6, 3]])


def test_lecture_average_pooling_frames_write_the_average():
    frames = steps(pooling_frames(POOL_AVERAGE_INPUT, 2, kind="average"))
    assert frames[0].text == "(1 + 3 + 2 + 9) / 4 = 3.75"
    assert [written_value(f.text) for f in frames] == [3.75, 1.25, 4, 2]
    assert all(f.chosen is None for f in frames)


@pytest.mark.parametrize("kind, function", [("max", F.max_pool2d), ("average", F.avg_pool2d)])
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "same"), (3, 2, "same"), ((2, 3), 1, "valid")])
def test_pooling_frames_equal_striate_pooling(kind, function, pool_size, strides, padding):
    x = np.random.default_rng(3).integers(0, 9, size=(7, 6)).astype(float)
    frames = pooling_frames(x, pool_size, strides, padding, kind)
    expected = function(x[None, ..., None], pool_size, strides, padding).numpy()[0, ..., 0]
    assert len(frames) == expected.size + 2
    np.testing.assert_allclose(frames[-1].output, expected, rtol=1e-6)
    for frame in steps(frames):
        assert written_value(frame.text) == pytest.approx(frame.value, rel=1e-5)
        real = frame.values[~np.isnan(frame.values)]
        if kind == "max":
            first = [tuple(cell) for cell, v in zip(frame.window.reshape(-1, 2), frame.values.ravel())
                     if v == real.max()][0]
            assert frame.chosen == first and frame.padded[first] == frame.value


def test_pooling_frames_refuse_a_volume():
    with pytest.raises(ValueError, match=r"pooling_frames: expects one \(H, W\) map; received shape \(4, 4, 2\)"):
        pooling_frames(np.ones((4, 4, 2)), 2)


# ---- receptive field -----------------------------------------------------------------------------------------
def two_convs_and_a_pool(**pool_options):
    return striate.Sequential([L.Conv2D(1, 3, name="conv1", input_shape=(10, 10, 1)),
                               L.Conv2D(1, 3, name="conv2"), L.MaxPooling2D(2, name="pool", **pool_options)])


def test_two_3x3_convs_see_5x5_and_a_2x2_stride_2_pool_6x6():
    frames = receptive_field_frames(two_convs_and_a_pool(), "pool", position=(0, 0))
    assert [f.name for f in frames] == ["conv1", "conv2", "pool"]
    assert [f.size for f in frames] == [(3, 3), (5, 5), (6, 6)]     # 1 + 2, + 2, + (2 - 1) * 1
    assert frames[-1].region == (0, 0, 5, 5)
    assert frames[-1].earlier == [frames[0].region, frames[1].region]


def nested(inner, outer):
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


@pytest.mark.parametrize("layers, input_shape, position, unread", [
    ([L.Conv2D(1, 3, padding="same", name="a"), L.Conv2D(1, 3, strides=2, padding="same", name="b"),
      L.Conv2D(1, 2, dilation_rate=2, name="c")], (12, 12, 1), None, set()),
    # conv a (5x5, stride 2, valid) never reads column 15 of 16: the field spans it, nothing reads it
    ([L.Conv2D(1, 5, strides=2, name="a"), L.MaxPooling2D(3, strides=2, padding="same", name="b"),
      L.Conv2D(1, 3, padding="same", name="c")], (16, 16, 1), (0, 2), {(r, 15) for r in range(16)}),
])
def test_receptive_field_frames_follow_plan_and_the_cells_a_probe_reaches(layers, input_shape, position, unread):
    model = striate.Sequential([L.InputLayer(input_shape), *layers])
    for layer in model.layers:
        if isinstance(layer, L.Conv2D):
            layer.set_weights([np.ones_like(w) if w.ndim == 4 else np.zeros_like(w) for w in layer.get_weights()])
    frames = receptive_field_frames(model, "c", position)
    rows = {row.name: row for row in plan(model).rows}
    for frame in frames:
        assert frame.size == rows[frame.name].receptive_field and frame.jump == rows[frame.name].jump
    for inner, outer in zip(frames, frames[1:]):
        assert nested(inner.region, outer.region)

    def probe(batch):      # the positive network up to layer c: an output cell responds to the pixels it sees
        x = striate.Tensor(batch[..., None])
        for layer in model.layers:
            x = layer(x)
        return np.asarray(x)[..., 0]

    top, left, bottom, right = frames[-1].region
    seen = {(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)
            if 0 <= r < input_shape[0] and 0 <= c < input_shape[1]}
    assert seen - unread == set(cells_read(frames[-1].cell, input_shape[:2], probe))


def test_receptive_field_frames_refuse_an_unknown_layer():
    with pytest.raises(ValueError, match=r"receptive_field_frames: no layer named 'pool9'.*'conv1'"):
        receptive_field_frames(two_convs_and_a_pool(), "pool9")
