"""What every ONNX emitter shares: the Value it passes on, the Refused it raises, and the renumbering of
striate's axes for a tensor the graph holds channels-first.

striate's tensor (N, *spatial, C) is held either as it is or channels-first (N, C, *spatial); `graph_axis`
gives the graph's axis of a striate axis, `graph_constant` lays a constant that broadcasts against striate's
tensor (NumPy's rule, from the right) out for the graph's tensor.
"""

from dataclasses import dataclass

import numpy as np


class Refused(Exception):
    """This layer, with these settings, has no ONNX form; the message says why."""


@dataclass(frozen=True)
class Value:
    """A tensor of the ONNX graph: its name, striate's shape of it (channels-last, batch None) and whether the
    graph holds it channels-first (N, C, *spatial)."""

    name: str
    shape: tuple
    channels_first: bool


def graph_axis(value, axis):
    """The graph's axis holding striate's `axis` of `value`: channels-first moves the last axis to 1 and the
    spatial axes one on."""
    rank = len(value.shape)
    axis %= rank
    if not value.channels_first or axis == 0:
        return axis
    return 1 if axis == rank - 1 else axis + 1


def graph_constant(value, array):
    """`array`, which broadcasts against striate's shape of `value`, as a constant of the same rank that
    broadcasts against the graph's tensor: (C,) becomes (1, 1, 1, C), or (1, C, 1, 1) channels-first."""
    array = np.asarray(array, np.float32)
    rank = len(value.shape)
    if array.ndim > rank:
        raise Refused(f"a constant of shape {array.shape} for a tensor of rank {rank}")
    array = array.reshape((1,) * (rank - array.ndim) + array.shape)
    if value.channels_first:
        array = array.transpose(0, rank - 1, *range(1, rank - 1))
    return array


def scalar(builder, name, number):
    """A float32 scalar initializer; returns its name."""
    return builder.constant(name, np.float32(number))
