"""Type aliases of the public API's annotations (checked by mypy, never at run time).

An array argument is anything NumPy turns into an array (`numpy.typing.ArrayLike`); a `Tensor` is one too,
through its `__array__`. Sizes given "as an int or one per spatial axis" are `IntOrTuple`.
"""

import os
from collections.abc import Sequence

IntOrTuple = int | Sequence[int]
"""An int for every spatial axis, or one int per axis."""

Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]
"""'valid', 'same', 'full', an int, one int per spatial axis, or one (before, after) pair per axis."""

Shape = tuple[int, ...]

Path = str | os.PathLike[str]
"""A file name: a str or a pathlib.Path."""
