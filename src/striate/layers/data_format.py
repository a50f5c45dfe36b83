"""Keras' `data_format` argument: striate is channels-last only, so "channels_last" (or None, Keras' default
from its config) is accepted and "channels_first" is refused before anything is built."""


def check_data_format(layer, data_format):
    """"channels_last" for None or "channels_last"; a ValueError naming `layer` for anything else."""
    if data_format is None or data_format == "channels_last":
        return "channels_last"
    if data_format == "channels_first":
        raise ValueError(f"{layer}: striate is channels-last only, (N, ..., C); transpose the input to channels "
                         f"last (e.g. x.transpose(0, 2, 3, 1) for NCHW) and drop data_format; received "
                         f"data_format='channels_first'")
    raise ValueError(f"{layer}: data_format must be 'channels_last' (or None); received {data_format!r}")
