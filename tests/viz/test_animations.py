"""The animations' pictures and GIFs: what each panel draws, the window's outline, the frame count and size."""

import os

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle
from PIL import Image

import striate
import striate.functional as F
from striate import layers as L
from striate.viz import animation
from striate.viz.animation import (
    animate_arithmetic,
    animate_convolution,
    animate_pooling,
    animate_receptive_field,
    figure_to_rgb,
)

IMAGE_6X6 = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                      [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=float)
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
RGB = np.stack([[[-2, -1, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]],
                [[-3, -2, -1, 0], [1, 2, 3, 4], [5, 6, 7, 8]],
                [[-6, -2, 3, 0], [1, 2, 3, 4], [5, 4, 2, 8]]], axis=-1).astype(float)
RGB_KERNEL = np.stack([[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
                       [[0, -4, 0], [3, 0, 5], [2, -1, 8]],
                       [[-1, 1, 2], [3, 2, 0], [6, 0, 1]]], axis=-1).astype(float)
POOL_INPUT = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)


def gif_frames(path):
    """Every frame of a GIF as RGB arrays, decoded by Pillow."""
    with Image.open(path) as gif:
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(np.asarray(gif.convert("RGB")))
        return frames


def outlines(ax, color=animation.WINDOW):
    """(top, left, height, width) of every unfilled rectangle of `color` on `ax`, in cell coordinates."""
    found = []
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and not patch.get_fill() and patch.get_edgecolor() == to_rgba(color):
            x, y = patch.get_xy()
            found.append((y + 0.5, x + 0.5, patch.get_height(), patch.get_width()))
    return found


def test_convolution_gif_has_one_frame_per_output_plus_intro_and_outro(tmp_path):
    path = tmp_path / "rgb.gif"
    result = animate_convolution(RGB, RGB_KERNEL, path=path)
    assert result.path == os.fspath(path)
    decoded = gif_frames(path)
    assert len(decoded) == 2 + 2 == len(result.frames)
    size = figure_to_rgb(result.figure(1)).shape
    assert all(frame.shape == size for frame in decoded)
    assert os.listdir(tmp_path) == ["rgb.gif"]         # the temporary file was renamed, nothing left behind


def test_convolution_frame_panels_draw_the_input_kernel_output_and_the_sum():
    result = animate_convolution(RGB, RGB_KERNEL)
    assert result.path is None
    fig = result.figure(2)                    # the second output: window over columns 1..3
    for c in range(3):
        np.testing.assert_array_equal(fig.axes[2 * c].images[0].get_array(), RGB[..., c])
        np.testing.assert_array_equal(fig.axes[2 * c + 1].images[0].get_array(), RGB_KERNEL[..., c])
        assert (0, 1, 3, 3) in outlines(fig.axes[2 * c])
    output = np.ma.filled(fig.axes[6].images[0].get_array().astype(float), np.nan)
    np.testing.assert_array_equal(output, [[321, 370]])
    assert fig.axes[7].texts[0].get_text().endswith("222 + 99 + 49 = 370")
    assert fig.get_suptitle() == "output (0, 1) = 370"


@pytest.mark.parametrize("strides, padding, dilation", [(2, "same", 1), (1, "valid", 2), (2, 1, 1)])
def test_the_outlined_window_sits_where_conv2d_reads(strides, padding, dilation):
    result = animate_convolution(IMAGE_6X6, VERTICAL_EDGE, strides=strides, padding=padding, dilation_rate=dilation)
    expected = F.conv2d(IMAGE_6X6[None, ..., None], VERTICAL_EDGE[..., None, None], strides=strides,
                        padding=padding, dilation_rate=dilation).numpy()[0, ..., 0]
    assert len(result.frames) == expected.size + 2
    span = 2 * dilation + 1
    for k in (1, expected.size):               # the first and the last output
        i, j = np.unravel_index(k - 1, expected.shape)
        fig = result.figure(k)
        np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), result.frames[k].padded[..., 0])
        assert (i * strides, j * strides, span, span) in outlines(fig.axes[0])
        assert (i, j, 1, 1) in outlines(fig.axes[2])
        written = float(fig.axes[3].texts[0].get_text().rsplit("=", 1)[1])
        assert written == expected[i, j]


def test_true_convolution_draws_the_flipped_kernel():
    fig = animate_convolution(IMAGE_6X6, VERTICAL_EDGE, mode="convolve").figure(1)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), VERTICAL_EDGE[::-1, ::-1])
    assert fig.axes[1].get_title() == "kernel (flipped)"


def test_arithmetic_gif_draws_the_footprint_and_the_formula(tmp_path):
    path = tmp_path / "arithmetic.gif"
    assert len(gif_frames(animate_arithmetic(3, 2, path=path).path)) == 2 * 2 + 2
    result = animate_arithmetic(3, 2, strides=1, padding=1)
    assert len(result.frames) == 4 * 4 + 2
    fig = result.figure(5)                      # output (1, 0): padded rows 1..2, columns 0..1
    codes = fig.axes[0].images[0].get_array()
    assert codes.shape == (5, 5)
    assert sorted(zip(*np.nonzero(codes >= 2))) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert (codes == 3).sum() == 2 and (codes == 1).sum() == 9 - 2     # two input cells under the kernel
    done = fig.axes[1].images[0].get_array()
    assert (done == 1).sum() == 4 and done[1, 0] == 2
    assert fig.get_suptitle() == "o = floor((3 + 2 - 2) / 1) + 1 = 4"


def test_transposed_arithmetic_draws_zeros_between_the_input_cells():
    fig = animate_arithmetic(2, 3, strides=2, transposed=True).figure(0)
    codes = fig.axes[0].images[0].get_array()
    assert codes.shape == (7, 7)                # 2 cells, 1 zero between, padding 2 each side
    assert sorted(zip(*np.nonzero(codes == 1))) == [(2, 2), (2, 4), (4, 2), (4, 4)]
    assert fig.axes[1].images[0].get_array().shape == (5, 5)   # Keras: 2 * 2 + max(3 - 2, 0)


def test_pooling_gif_highlights_the_maximum(tmp_path):
    path = tmp_path / "pool.gif"
    result = animate_pooling(POOL_INPUT, 2, path=path)
    assert len(gif_frames(path)) == 4 + 2
    fig = result.figure(1)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), POOL_INPUT)
    filled = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_fill()]
    assert [tuple(p.get_xy()) for p in filled] == [(0.5, 0.5)]    # the 9 at (1, 1)
    assert (0, 0, 2, 2) in outlines(fig.axes[0])
    assert fig.axes[2].texts[0].get_text() == "max(1, 3, 2, 9) = 9"


def test_receptive_field_gif_has_one_frame_per_layer_and_marks_the_field(tmp_path):
    model = striate.Sequential([L.Conv2D(1, 3, name="conv1", input_shape=(10, 10, 1)), L.Conv2D(1, 3, name="conv2"),
                                L.MaxPooling2D(2, name="pool")])
    path = tmp_path / "field.gif"
    result = animate_receptive_field(model, "pool", position=(0, 0), path=path)
    assert len(gif_frames(path)) == 3
    for frame, side in zip(result.frames, (3, 5, 6)):
        fig = result.figure(result.frames.index(frame))
        codes = fig.axes[0].images[0].get_array()
        assert (codes == 3).sum() == side * side
        marked = fig.axes[1].images[0].get_array()
        assert marked.sum() == 1 and marked[frame.cell] == 1


def test_writing_refuses_a_path_without_gif_and_too_many_frames(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"animate_pooling: .*must end in \.gif; received '.*pool.png'"):
        animate_pooling(POOL_INPUT, 2, path=tmp_path / "pool.png")
    monkeypatch.setattr(animation, "MAX_FRAMES", 5)
    with pytest.raises(ValueError, match="animate_pooling: 6 frames is more than the 5"):
        animate_pooling(POOL_INPUT, 2, path=tmp_path / "pool.gif")
    assert os.listdir(tmp_path) == []
