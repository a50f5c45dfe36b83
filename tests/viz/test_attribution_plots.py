"""plot_saliency, plot_guided_backprop and plot_occlusion: input, map and overlay panels of the computed maps."""

import numpy as np
import pytest
from PIL import Image

import striate
from striate import layers as L
from striate.inspect.attribution import occlusion
from striate.viz.attribution import plot_guided_backprop, plot_occlusion, plot_saliency


@pytest.fixture(scope="module")
def linear():
    """Flatten -> Dense(3, softmax) on 6x5x2 images: d logit_c / d x is kernel column c, for both gradient maps."""
    striate.set_random_seed(0)
    model = striate.Sequential([L.Flatten(input_shape=(6, 5, 2)), L.Dense(3, activation="softmax")])
    image = np.random.default_rng(0).random((6, 5, 2)).astype(np.float32)
    return model, image


def column_map(model, class_index):
    """max over channels of |kernel column|, reshaped to the image: the saliency map of a linear model."""
    kernel = model.layers[1].get_weights()[0]
    return np.abs(kernel[:, class_index].reshape(6, 5, 2)).max(axis=-1)


def logits(model, image):
    kernel, bias = model.layers[1].get_weights()
    return image.reshape(-1) @ kernel + bias


@pytest.mark.parametrize("plot", [plot_saliency, plot_guided_backprop])
def test_gradient_map_panels_show_the_input_the_map_and_the_map_over_the_input(linear, plot):
    model, image = linear
    figure = plot(model, image, class_index=2)
    image_axes = [ax for ax in figure.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(image_axes) == 3
    np.testing.assert_array_equal(image_axes[0].images[0].get_array(), image[..., 0])
    np.testing.assert_allclose(image_axes[1].images[0].get_array(), column_map(model, 2), rtol=1e-6)
    under, over = image_axes[2].images
    np.testing.assert_array_equal(under.get_array(), image[..., 0])
    np.testing.assert_allclose(over.get_array(), column_map(model, 2), rtol=1e-6)
    assert over.get_alpha() == 0.5
    assert "class 2" in image_axes[1].get_title()


def test_no_class_explains_the_predicted_one(linear):
    model, image = linear
    predicted = int(np.argmax(logits(model, image)))
    figure = plot_saliency(model, image)
    np.testing.assert_allclose(figure.axes[1].images[0].get_array(), column_map(model, predicted), rtol=1e-6)
    assert figure.axes[0].get_title().startswith(f"input: predicted {predicted}")


def test_occlusion_map_is_drawn_around_zero(linear):
    model, image = linear
    figure = plot_occlusion(model, image, class_index=1, patch=2, stride=1)
    drawn = figure.axes[1].images[0]
    np.testing.assert_array_equal(drawn.get_array(), occlusion(model, image, 1, patch=2, stride=1))
    low, high = drawn.get_clim()
    assert low == -high and high == np.abs(drawn.get_array()).max()


def test_png_has_the_figure_size(linear, tmp_path):
    model, image = linear
    figure = plot_guided_backprop(model, image[None], path=tmp_path / "guided.png")
    width, height = figure.get_size_inches() * figure.dpi
    assert Image.open(tmp_path / "guided.png").size == (int(width), int(height))


def test_a_wrong_class_is_refused(linear):
    model, image = linear
    with pytest.raises(ValueError, match="class_index must be an int from 0 to 2"):
        plot_saliency(model, image, class_index=3)
