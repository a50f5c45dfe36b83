"""The explorer's "convolution arithmetic" tab: output sizes with the formula filled in, and Dumoulin & Visin's
pictures (`striate.inspect.frames.arithmetic_frames`, drawn by `striate.viz.animation.draw_arithmetic_frame`).

Per axis, with input length i, kernel k, stride s, dilation d (k_eff = d(k - 1) + 1) and padding p_before +
p_after (`striate.functional.conv_output_length`, `conv_transpose_output_length`):

    convolution:            o = floor((i + p_before + p_after - k_eff) / s) + 1
    transposed convolution: o = (i - 1) s + k_eff - p_before - p_after    (Keras' rule; "same": o = i s)

The settings come as strings (a URL's query): input, kernel, stride, dilation as "5" or "5x7" (rows x
columns); padding "valid", "same", "full" or an int; transposed "true" / "false".
"""

import io

from striate.explore.inputs import InputError
from striate.functional.arguments import padding_pairs
from striate.functional.output_size import conv_output_length, conv_transpose_output_length

LIMITS = {"input": 32, "kernel": 11, "stride": 8, "dilation": 5, "padding": 10}  # the largest value accepted
DEFAULTS = {"input": "5", "kernel": "3", "stride": "1", "dilation": "1", "padding": "valid", "transposed": "false"}
GENERAL = {False: "o = floor((i + p_before + p_after - d(k - 1) - 1) / s) + 1",
           True: "o = (i - 1) s + d(k - 1) + 1 - p_before - p_after"}


def parse_settings(query):
    """{"input", "kernel", "stride", "dilation": (rows, columns), "padding": word or int, "transposed": bool}
    from a mapping of strings (missing keys take DEFAULTS). Raises InputError naming the bad setting."""
    unknown = sorted(set(query) - set(DEFAULTS) - {"step"})
    if unknown:
        raise InputError(f"unknown arithmetic settings {unknown}; known: {', '.join(DEFAULTS)}")
    values = {**DEFAULTS, **query}
    settings = {name: _pair(name, values[name]) for name in ("input", "kernel", "stride", "dilation")}
    padding = values["padding"].strip().lower()
    if padding.isdigit() and int(padding) <= LIMITS["padding"]:
        settings["padding"] = int(padding)
    elif padding in ("valid", "same", "full"):
        settings["padding"] = padding
    else:
        raise InputError(f"padding must be valid, same, full or an int from 0 to {LIMITS['padding']}; received "
                         f"{values['padding']!r}")
    transposed = values["transposed"].strip().lower()
    if transposed not in ("true", "false", "1", "0"):
        raise InputError(f"transposed must be true or false; received {values['transposed']!r}")
    settings["transposed"] = transposed in ("true", "1")
    return settings


def arithmetic(settings):
    """The output size, the formulas and every step's kernel footprint for `settings` (GET /api/arithmetic).

    output_size comes from conv_output_length / conv_transpose_output_length; formula is the formula with the
    numbers filled in; grid_shape, grid_padding and input_cells describe the grid the kernel slides over (for a
    transposed convolution: the input with s - 1 zeros between cells, padded; drawn as a stride-1
    convolution); steps[n] is output position n in row-major order: its output_index, footprint (the grid
    cells under the kernel) and reads (the input cells among them).
    """
    frames = _frames(settings)
    geometry = frames[0].geometry
    steps = [{"output_index": list(frame.output_index), "footprint": frame.footprint.reshape(-1, 2).tolist(),
              "reads": frame.reads.tolist()} for frame in frames[1:-1]]
    return {"settings": {**settings, **{k: list(settings[k]) for k in ("input", "kernel", "stride", "dilation")}},
            "output_size": _output_size(settings), "formula": geometry.formula,
            "general_formula": GENERAL[settings["transposed"]], "caption": geometry.caption,
            "grid_shape": list(geometry.grid_shape), "grid_padding": [list(p) for p in geometry.padding],
            "input_cells": geometry.input_cells.tolist(), "steps": steps, "pictures": len(frames)}


def arithmetic_picture(settings, step):
    """PNG bytes of picture `step` of the settings' animation: 0 the intro, 1 ... the output positions in
    row-major order, the last the outro (GET /api/arithmetic.png)."""
    from striate.viz.animation import draw_arithmetic_frame

    frames = _frames(settings)
    if not (isinstance(step, int) and 0 <= step < len(frames)):
        raise InputError(f"step must be an int from 0 to {len(frames) - 1} for these settings; received {step!r}")
    buffer = io.BytesIO()
    draw_arithmetic_frame(frames[step]).savefig(buffer, format="png")
    return buffer.getvalue()


def _frames(settings):
    from striate.inspect.frames import arithmetic_frames

    try:
        return arithmetic_frames(settings["input"], settings["kernel"], settings["stride"], settings["padding"],
                                 settings["dilation"], settings["transposed"])
    except ValueError as error:
        raise InputError(str(error)) from None


def _output_size(settings):
    pads = settings["padding"]
    if not settings["transposed"]:
        pads = padding_pairs("arithmetic", pads, settings["input"], settings["kernel"], settings["stride"],
                             settings["dilation"])
        return [conv_output_length(n, k, s, p, d, op="arithmetic")
                for n, k, s, p, d in zip(settings["input"], settings["kernel"], settings["stride"], pads,
                                         settings["dilation"])]
    return [conv_transpose_output_length(n, k, s, pads, None, d, op="arithmetic")
            for n, k, s, d in zip(settings["input"], settings["kernel"], settings["stride"], settings["dilation"])]


def _pair(name, text):
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) in (1, 2) and all(part.isdigit() and 1 <= int(part) <= LIMITS[name] for part in parts):
        numbers = [int(part) for part in parts]
        return (numbers[0], numbers[-1])
    raise InputError(f"{name} must be an int from 1 to {LIMITS[name]}, or rows x columns such as 5x7; received "
                     f"{text!r}")
