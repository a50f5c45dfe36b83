"""Pictures of what a network computes, drawn with matplotlib (Agg, never a window).

Each picture has a function that computes the array it shows (in striate.inspect or here) and a `plot_*`
function that draws it; every `plot_*` returns the `matplotlib.figure.Figure` and writes it when given `path=`.

    from striate import viz
    viz.plot_filters(model)                              # the first convolution layer's kernels
    viz.plot_feature_maps(model, x_test[0])              # every channel of each layer for one digit
    viz.plot_saliency(model, x_test[0])                  # d score / d pixel for the predicted class
"""

from striate.inspect.attribution import guided_backprop, occlusion, saliency
from striate.viz.animation import (
    Animation,
    animate_arithmetic,
    animate_convolution,
    animate_pooling,
    animate_receptive_field,
)
from striate.viz.attribution import plot_guided_backprop, plot_occlusion, plot_saliency
from striate.viz.network import feature_maps, filter_images, plot_feature_maps, plot_filters
from striate.viz.text import cell_activations, most_correlated_cells, plot_cell_activations
from striate.viz.training import history_curves, plot_confusion_matrix, plot_history, plot_predictions

__all__ = [
    "Animation", "animate_arithmetic", "animate_convolution", "animate_pooling", "animate_receptive_field",
    "feature_maps", "filter_images", "plot_feature_maps", "plot_filters", "plot_guided_backprop", "plot_occlusion",
    "plot_saliency", "history_curves", "plot_confusion_matrix", "plot_history", "plot_predictions",
    "cell_activations", "most_correlated_cells", "plot_cell_activations", "guided_backprop", "occlusion", "saliency",
]
