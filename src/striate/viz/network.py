"""Pictures of a network's insides: the filters a convolution layer learned and the maps its layers compute.

`filter_images` and `feature_maps` compute the arrays; `plot_filters` and `plot_feature_maps` draw them.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from striate.core.types import Path
from striate.inspect.layer_outputs import LayerChoice, batch_of_one, choose_layers, layer_outputs, model_layers
from striate.layers.convolution import Conv2D
from striate.layers.core import Dropout, InputLayer
from striate.layers.layer import Layer
from striate.models.model import Model
from striate.viz.figure import image_grid, min_max_scale, new_figure, save

PANEL_INCHES = 0.75  # one filter or one channel


def filter_images(layer: Layer, input_channel: int | None = None) -> list[NDArray[np.float64]]:
    """One image per output channel of a Conv2D kernel (kh, kw, C_in, C_out), each min-max scaled on its own.

    - C_in = 3 and input_channel None: the filter as a colour patch (kh, kw, 3), scaled over all three channels
      together (so its colours keep their balance): (w - min w) / (max w - min w).
    - otherwise: the slice of input channel `input_channel` (default 0) as a greyscale (kh, kw) image, scaled
      over that slice. (For C_in = 32 one panel per output and input channel would be thousands of panels.)
    A constant filter gives 0.5 everywhere.
    """
    kernel = layer.get_weights()[0]
    channels = kernel.shape[2]
    if input_channel is None and channels == 3:
        return [min_max_scale(kernel[..., out]) for out in range(kernel.shape[3])]
    channel = 0 if input_channel is None else input_channel
    if not (isinstance(channel, int) and 0 <= channel < channels):
        raise ValueError(f"filter_images: layer {layer.name!r} has {channels} input channels (kernel "
                         f"{kernel.shape}); received input_channel={input_channel!r}")
    return [min_max_scale(kernel[:, :, channel, out]) for out in range(kernel.shape[3])]


def plot_filters(layer_or_model: Layer, path: Path | None = None, layer: str | None = None,
                 input_channel: int | None = None, columns: int = 8) -> Figure:
    """A grid of a Conv2D layer's filters, one panel per output channel (see `filter_images` for the scaling).

    Args:
        layer_or_model: a built Conv2D layer, or a model: its layer named `layer`, else its first Conv2D.
        path: where to write the figure (.png, .svg, .pdf); None writes nothing.
        input_channel: the input channel drawn when C_in != 3 (default 0), or one channel of an RGB filter.
        columns: panels per row.
    Returns the Figure; panel i is filter i, titled with its index.
    """
    conv = _conv_layer(layer_or_model, layer)
    images = filter_images(conv, input_channel)
    kh, kw, channels, count = conv.kernel.shape
    rows = -(-count // min(columns, count))
    figure = new_figure(PANEL_INCHES * min(columns, count) + 0.3, PANEL_INCHES * rows + 0.6)
    shown = "RGB" if images[0].ndim == 3 else f"input channel {input_channel or 0} of {channels}"
    image_grid(figure, images, titles=[str(i) for i in range(count)], columns=columns, vmin=0, vmax=1,
               suptitle=f"{conv.name}: {count} filters {kh}x{kw}, {shown}\neach scaled to its own min..max")
    return save(figure, path)


def feature_maps(model: Model, image: ArrayLike, layers: LayerChoice | Sequence[LayerChoice] | None = None,
                 max_channels: int = 64) -> dict[str, NDArray[Any]]:
    """{layer name: (H', W', C') maps for one image}, at most `max_channels` channels of each layer.

    layers None: every layer whose output is a (N, H, W, C) map, except InputLayer and Dropout (in inference
    they repeat their input); otherwise names, indices or Layer objects, each of which must output maps.
    """
    batch = batch_of_one("feature_maps", model, image)
    chosen = choose_layers("feature_maps", model, layers)
    if layers is None:
        chosen = [layer for layer in chosen if len(layer.output_shape) == 4
                  and not isinstance(layer, InputLayer | Dropout)]
    flat = [f"{layer.name} {layer.output_shape}" for layer in chosen if len(layer.output_shape) != 4]
    if flat or not chosen:
        raise ValueError(f"feature_maps: only layers with (N, H, W, C) outputs have maps; received layers={layers!r}"
                         f" ({', '.join(flat) or 'none with maps'})")
    return {name: maps[0, ..., :max_channels] for name, maps in layer_outputs(model, batch, chosen).items()}


def plot_feature_maps(model: Model, image: ArrayLike, layers: LayerChoice | Sequence[LayerChoice] | None = None,
                      path: Path | None = None, max_channels: int = 64, columns: int = 8) -> Figure:
    """The input image and every channel of each chosen layer for it, one block of panels per layer.

    Args:
        model: a Sequential or functional Model (see striate.inspect.layer_outputs).
        image: one input (H, W, C) or a batch of one.
        layers: see `feature_maps` (None: every layer with spatial maps).
        max_channels: the first channels drawn of each layer.
        columns: panels per row.
    Returns the Figure: a sub-figure for the input, then one per layer headed "name: H x W x C"; each panel is
    one channel (titled with its index), drawn in grey with one scale for the whole layer (its min..max), so a
    channel that stays near zero shows dark.
    """
    maps = feature_maps(model, image, layers, max_channels)
    channel_counts = {layer.name: layer.output_shape[-1] for layer in model_layers(model)}
    row_counts = [-(-block.shape[-1] // columns) for block in maps.values()]
    figure = new_figure(PANEL_INCHES * columns + 0.3, PANEL_INCHES * (sum(row_counts) + 2.5) + 0.5 * len(maps))
    blocks = figure.subfigures(len(maps) + 1, 1, height_ratios=[2.5] + [rows + 0.7 for rows in row_counts])
    assert isinstance(blocks, np.ndarray)  # two rows or more: an array of SubFigures
    image_grid(blocks[0], [input_image(batch_of_one("plot_feature_maps", model, image)[0])],
               suptitle=f"input {np.shape(image)[-3:]}")
    for block, (name, values) in zip(blocks[1:], maps.items()):
        height, width, shown = values.shape
        heading = f"{name}: {height} x {width} x {channel_counts[name]}"
        if shown < channel_counts[name]:
            heading += f" (first {shown} channels)"
        image_grid(block, [values[..., c] for c in range(shown)], titles=[str(c) for c in range(shown)],
                   columns=columns, vmin=values.min(), vmax=values.max(), suptitle=heading)
    return save(figure, path)


def input_image(image: NDArray[Any]) -> NDArray[Any]:
    """An input (H, W, C) as imshow draws it: C = 3 colour min-max scaled to [0, 1], else channel 0 (grey)."""
    if image.shape[-1] == 3:
        return min_max_scale(image)
    return image[..., 0]


def _conv_layer(layer_or_model: Layer, name: str | None) -> Conv2D:
    if isinstance(layer_or_model, Model):
        layers = layer_or_model.layers
        convs = [layer for layer in layers if isinstance(layer, Conv2D) and name in (None, layer.name)]
        if not convs:
            wanted = f"Conv2D layer named {name!r}" if name else "Conv2D layer"
            raise ValueError(f"plot_filters: model {layer_or_model.name!r} has no {wanted}; its layers are "
                             f"{[f'{layer.name} ({type(layer).__name__})' for layer in layers]}")
        layer_or_model = convs[0]
    if not isinstance(layer_or_model, Conv2D) or not layer_or_model.built:
        raise ValueError(f"plot_filters: needs a built Conv2D layer or a model with one; received {layer_or_model!r}")
    return layer_or_model
