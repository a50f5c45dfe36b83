"""plot_filters and plot_feature_maps draw the kernels and the layer outputs themselves, panel by panel."""

import numpy as np
import pytest
from PIL import Image

import striate
from striate import layers as L
from striate.viz.network import plot_feature_maps, plot_filters


def scaled(array):
    """(a - min) / (max - min), written out independently of striate.viz.figure."""
    array = np.asarray(array, dtype=np.float64)
    return (array - array.min()) / (array.max() - array.min())


def conv(filters, channels, kernel_size=3, name=None):
    layer = L.Conv2D(filters, kernel_size, name=name)
    layer.ensure_built((None, 8, 8, channels))
    return layer


def small_cnn():
    striate.set_random_seed(0)
    return striate.Sequential([
        L.Conv2D(3, 3, activation="relu", input_shape=(9, 9, 1), name="conv1"),
        L.Dropout(0.5, name="drop"),
        L.Conv2D(5, 3, padding="same", name="conv2"),
        L.MaxPooling2D(2, name="pool"),
        L.Flatten(name="flat"),
        L.Dense(4, name="dense"),
    ])


def panel(figure, index):
    return figure.axes[index].images[0].get_array()


# ---- filters ----------------------------------------------------------------------------------------------
def test_greyscale_filters_are_each_kernel_min_max_scaled_one_panel_per_output_channel():
    striate.set_random_seed(0)
    layer = conv(6, 1)
    figure = plot_filters(layer)
    kernel = layer.get_weights()[0]
    assert len(figure.axes) == 6
    for out in range(6):
        np.testing.assert_allclose(panel(figure, out), scaled(kernel[:, :, 0, out]))
        assert figure.axes[out].get_title() == str(out)


def test_rgb_filters_are_colour_patches_scaled_over_the_whole_filter():
    striate.set_random_seed(1)
    layer = conv(4, 3, kernel_size=5)
    figure = plot_filters(layer)
    kernel = layer.get_weights()[0]
    for out in range(4):
        assert panel(figure, out).shape == (5, 5, 3)
        np.testing.assert_allclose(panel(figure, out), scaled(kernel[..., out]))


def test_other_input_counts_draw_one_input_channel():
    striate.set_random_seed(2)
    layer = conv(5, 4)
    kernel = layer.get_weights()[0]
    np.testing.assert_allclose(panel(plot_filters(layer), 3), scaled(kernel[:, :, 0, 3]))
    np.testing.assert_allclose(panel(plot_filters(layer, input_channel=2), 3), scaled(kernel[:, :, 2, 3]))
    with pytest.raises(ValueError, match="has 4 input channels .* received input_channel=4"):
        plot_filters(layer, input_channel=4)


def test_a_model_gives_its_first_conv_layer_or_the_one_named():
    model = small_cnn()
    assert len(plot_filters(model).axes) == 3
    second = plot_filters(model, layer="conv2")
    assert len(second.axes) == 5
    np.testing.assert_allclose(panel(second, 4), scaled(model.layers[2].get_weights()[0][..., 4]))  # C_in = 3: RGB
    with pytest.raises(ValueError, match="has no Conv2D layer named 'dense'; its layers are"):
        plot_filters(model, layer="dense")


def test_filters_png_has_the_figure_size_and_more_filters_make_it_taller(tmp_path):
    striate.set_random_seed(0)
    small, large = plot_filters(conv(8, 1), path=tmp_path / "filters.png"), plot_filters(conv(32, 1))
    width, height = small.get_size_inches() * small.dpi
    assert Image.open(tmp_path / "filters.png").size == (int(width), int(height))
    assert large.get_size_inches()[1] > small.get_size_inches()[1]


# ---- feature maps -----------------------------------------------------------------------------------------
def test_each_panel_is_one_channel_of_the_layer_output_and_the_input_comes_first():
    model = small_cnn()
    image = np.random.default_rng(0).random((9, 9, 1)).astype(np.float32)
    figure = plot_feature_maps(model, image)
    conv1 = model.layers[0](image[None]).numpy()[0]
    conv2 = model.layers[2](conv1[None]).numpy()[0]
    pool = conv2[:6, :6].reshape(3, 2, 3, 2, 5).max(axis=(1, 3))  # 2x2 windows of rows/columns 0..5
    assert len(figure.axes) == 1 + 3 + 5 + 5
    np.testing.assert_array_equal(panel(figure, 0), image[..., 0])
    for offset, expected in [(1, conv1), (4, conv2), (9, pool)]:
        for channel in range(expected.shape[-1]):
            np.testing.assert_allclose(panel(figure, offset + channel), expected[..., channel], rtol=1e-5, atol=1e-6)
    headings = [block.texts[0].get_text() for block in figure.subfigs]
    assert headings == ["input (9, 9, 1)", "conv1: 7 x 7 x 3", "conv2: 7 x 7 x 5", "pool: 3 x 3 x 5"]


def test_chosen_layers_and_max_channels():
    model = small_cnn()
    image = np.random.default_rng(1).random((1, 9, 9, 1)).astype(np.float32)
    figure = plot_feature_maps(model, image, layers=["conv2"], max_channels=2)
    assert len(figure.axes) == 1 + 2
    assert figure.subfigs[1].texts[0].get_text() == "conv2: 7 x 7 x 5 (first 2 channels)"


def test_a_layer_without_maps_is_refused():
    with pytest.raises(ValueError, match=r"only layers with \(N, H, W, C\) outputs .*dense \(None, 4\)"):
        plot_feature_maps(small_cnn(), np.zeros((9, 9, 1), dtype=np.float32), layers=["conv1", "dense"])


def test_mnist_cnn_shows_32_and_64_channels():
    striate.set_random_seed(0)
    model = striate.models.mnist_cnn()
    image = np.zeros((28, 28, 1), dtype=np.float32)
    image[6:22, 12:16] = 1.0
    figure = plot_feature_maps(model, image, layers=["conv1", "conv2"])
    assert [len(block.axes) for block in figure.subfigs] == [1, 32, 64]
    assert [block.texts[0].get_text() for block in figure.subfigs[1:]] == ["conv1: 26 x 26 x 32", "conv2: 24 x 24 x 64"]


def test_feature_maps_png_has_the_figure_size(tmp_path):
    figure = plot_feature_maps(small_cnn(), np.ones((9, 9, 1), dtype=np.float32), path=tmp_path / "maps.png")
    width, height = figure.get_size_inches() * figure.dpi
    assert Image.open(tmp_path / "maps.png").size == (int(width), int(height))
