"""Showing what happens inside a convolution, as the lectures draw it."""

from striate.inspect.one_output import arithmetic_of_one_output

__all__ = ["arithmetic_of_one_output"]
