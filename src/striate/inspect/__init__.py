"""Showing what happens inside a convolution, as the lectures draw it."""

from striate.inspect.conv_matrix import Connectivity, DenseComparison, compare_dense, connectivity, conv_matrix
from striate.inspect.one_output import arithmetic_of_one_output

__all__ = [
    "Connectivity", "DenseComparison", "arithmetic_of_one_output", "compare_dense", "connectivity", "conv_matrix",
]
