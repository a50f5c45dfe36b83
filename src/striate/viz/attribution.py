"""Pictures of what a network looks at: saliency, occlusion and guided backpropagation for one image.

Each plot_* computes its map with striate.inspect.attribution and draws three panels: the input, the map (with
a colour bar), and the map over the input (alpha 0.5). class_index None explains the predicted class.
"""

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from striate.core.types import Path
from striate.inspect.attribution import guided_backprop, occlusion, saliency, saliency_map
from striate.inspect.layer_outputs import batch_of_one
from striate.viz.figure import new_figure, save
from striate.viz.network import input_image

if TYPE_CHECKING:
    from striate.models.model import Model

OVERLAY_ALPHA = 0.5


def plot_saliency(model: "Model", x: ArrayLike, class_index: int | None = None, path: Path | None = None) -> Figure:
    """Simonyan et al. 2014's saliency map: max over channels of |d score_c / d x| (H, W), in "inferno"."""
    image, class_index, output = _explained("plot_saliency", model, x, class_index)
    heat = saliency_map(saliency(model, image, class_index))
    return _draw(image, heat, class_index, output, f"saliency |d score / d x| of class {class_index}",
                 "inferno", 0, heat.max(), path)


def plot_guided_backprop(model: "Model", x: ArrayLike, class_index: int | None = None,
                         path: Path | None = None) -> Figure:
    """Guided backpropagation (Springenberg et al. 2015), reduced to (H, W) as the saliency is (max over channels
    of |g|), so the two pictures compare directly."""
    image, class_index, output = _explained("plot_guided_backprop", model, x, class_index)
    heat = saliency_map(guided_backprop(model, image, class_index))
    return _draw(image, heat, class_index, output, f"guided backpropagation of class {class_index}",
                 "inferno", 0, heat.max(), path)


def plot_occlusion(model: "Model", x: ArrayLike, class_index: int | None = None, patch: int = 4, stride: int = 2,
                   fill: float = 0.0, path: Path | None = None) -> Figure:
    """Zeiler & Fergus 2014's occlusion map: the drop of output c when a `patch` square of `fill` covers each
    pixel (averaged over the squares covering it). Drawn in "RdBu_r" around 0: red where covering lowers the
    class output, blue where it raises it. The default patch and stride suit 28x28 digits."""
    image, class_index, output = _explained("plot_occlusion", model, x, class_index)
    heat = occlusion(model, image, class_index, patch, stride, fill)
    limit = max(np.abs(heat).max(), np.finfo(np.float32).tiny)
    return _draw(image, heat, class_index, output,
                 f"occlusion: drop of output {class_index}, {patch}x{patch} patch of {fill:g}, stride {stride}",
                 "RdBu_r", -limit, limit, path)


def _explained(what: str, model: "Model", x: ArrayLike,
               class_index: int | None) -> tuple[NDArray[Any], int, NDArray[Any]]:
    """(image (H, W, C), the class to explain, the model's outputs for the image)."""
    batch = batch_of_one(what, model, x)
    output = model.predict(batch, verbose=0)[0]
    return batch[0], int(np.argmax(output)) if class_index is None else class_index, output


def _draw(image: NDArray[Any], heat: NDArray[Any], class_index: int, output: NDArray[Any], title: str, cmap: str,
          vmin: float, vmax: float, path: Path | None) -> Figure:
    figure = new_figure(8, 3.2)
    axes = figure.subplots(1, 3)
    predicted = int(np.argmax(output))
    shown = input_image(image)
    axes[0].imshow(shown, cmap="gray", interpolation="nearest")
    axes[0].set_title(f"input: predicted {predicted} (output {output[predicted]:.2f})", fontsize=9)
    drawn = axes[1].imshow(heat, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    axes[1].set_title(f"class {class_index} (output {output[class_index]:.2f})", fontsize=9)
    axes[2].imshow(shown, cmap="gray", interpolation="nearest")
    axes[2].imshow(heat, cmap=cmap, vmin=vmin, vmax=vmax, alpha=OVERLAY_ALPHA, interpolation="nearest")
    axes[2].set_title("map over the input", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    figure.colorbar(drawn, ax=list(axes), shrink=0.8)
    figure.suptitle(title)
    return save(figure, path)
