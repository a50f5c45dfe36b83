"""Showing what happens inside a network, as the lectures draw it: the arithmetic of one output, a convolution as
a matrix, each layer's output, and which pixels a class score depends on."""

from striate.inspect.attribution import guided_backprop, occlusion, saliency, saliency_map
from striate.inspect.conv_matrix import Connectivity, DenseComparison, compare_dense, connectivity, conv_matrix
from striate.inspect.frames import arithmetic_frames, convolution_frames, pooling_frames, receptive_field_frames
from striate.inspect.layer_outputs import layer_outputs, model_layers, run_layers
from striate.inspect.one_output import arithmetic_of_one_output

__all__ = [
    "Connectivity", "DenseComparison", "arithmetic_of_one_output", "compare_dense", "connectivity", "conv_matrix",
    "arithmetic_frames", "convolution_frames", "pooling_frames", "receptive_field_frames",
    "guided_backprop", "layer_outputs", "model_layers", "occlusion", "run_layers", "saliency", "saliency_map",
]
