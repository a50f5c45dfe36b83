"""ONNX emitters of the layers that move, cut, pad, repeat or resize values (see onnx_layers for the contract):

    striate                                  ONNX
    Reshape, Permute                         Reshape [-1, *target], Transpose [0, *dims] (taken channels-last,
                                             so the values keep striate's order)
    RepeatVector                             Unsqueeze + Expand (N, 1, F) -> (N, n, F)
    ZeroPadding1D/2D/3D                      Pad on the spatial axes, in either layout
    Cropping1D/2D/3D, CenterCrop             Slice on the spatial axes, in either layout
    UpSampling1D/2D/3D "nearest"             Resize nearest, "asymmetric" (source i // s), integer scales
    Resizing, UpSampling2D "bilinear"        Resize on (N, C, H, W) to sizes (N, C, height, width), "half_pixel":
                                             source s = (i + 1/2) in / out - 1/2 (clamped), as
                                             striate.functional.resizing; "nearest" rounds s half up, which
                                             is striate's floor((i + 1/2) in / out)
"""

import numpy as np

from striate.interchange.onnx_values import Refused, Value, graph_axis, scalar
from striate.layers.preprocessing import crop_or_pad_to_aspect


def reshape(builder, layer, inputs, shape):
    x = builder.channels_last(inputs[0])
    target = builder.constant(f"{layer.name}/shape", [-1, *shape[1:]])
    return Value(builder.node("Reshape", [x.name, target], layer.name), shape, False)


def permute(builder, layer, inputs, shape):
    x = builder.channels_last(inputs[0])
    return Value(builder.node("Transpose", [x.name], layer.name, perm=[0, *layer.dims]), shape, False)


def repeat_vector(builder, layer, inputs, shape):
    x = inputs[0]  # (N, F): one layout
    column = builder.node("Unsqueeze", [x.name, builder.constant(f"{layer.name}/axis", [1])], f"{layer.name}/column")
    repeats = builder.constant(f"{layer.name}/shape", [1, layer.n, 1])
    return Value(builder.node("Expand", [column, repeats], layer.name), shape, False)


def zero_padding(builder, layer, inputs, shape):
    """ZeroPadding1D/2D/3D: layer.padding holds one (before, after) pair per spatial axis."""
    x = inputs[0]
    rank = len(x.shape)
    pads = [0] * (2 * rank)
    for axis, (before, after) in enumerate(layer.padding, start=1):
        pads[graph_axis(x, axis)], pads[graph_axis(x, axis) + rank] = int(before), int(after)
    output = builder.node("Pad", [x.name, builder.constant(f"{layer.name}/pads", pads)], layer.name)
    return Value(output, shape, x.channels_first)


def cropping(builder, layer, inputs, shape):
    x = inputs[0]
    spatial = x.shape[1:-1]
    starts = [before for before, _ in layer.cropping]
    ends = [n - after for n, (_, after) in zip(spatial, layer.cropping)]
    return _window(builder, layer.name, x, starts, ends, shape)


def center_crop(builder, layer, inputs, shape):
    """The central window (top = (H - height) // 2); an image smaller than the window on a side is cropped to
    the aspect ratio and resized bilinearly, as striate.layers.preprocessing.center_crop."""
    x = inputs[0]
    height, width = x.shape[1:3]
    if height >= layer.height and width >= layer.width:
        top, left = (height - layer.height) // 2, (width - layer.width) // 2
        return _window(builder, layer.name, x, [top, left], [top + layer.height, left + layer.width], shape)
    cropped = _to_aspect(builder, f"{layer.name}/aspect", x, layer.height, layer.width, "crop")
    return _resize(builder, layer.name, cropped, shape, "bilinear")


def upsampling(builder, layer, inputs, shape):
    """UpSampling1D/2D/3D: each cell repeated (Resize "nearest" at integer scales reads source i // s), or
    UpSampling2D's "bilinear", which is striate's resize."""
    x = builder.channels_first(inputs[0])
    if layer.interpolation == "bilinear":
        return _resize(builder, layer.name, x, shape, "bilinear")
    scales = builder.constant(f"{layer.name}/scales", np.array([1, 1, *layer.size], np.float32))
    output = builder.node("Resize", [x.name, "", scales], layer.name, mode="nearest",
                          coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return Value(output, shape, True)


def resizing(builder, layer, inputs, shape):
    """Resizing: cropped (crop_to_aspect_ratio) or padded with fill_value (pad_to_aspect_ratio) first, then
    resized."""
    x = inputs[0]
    if layer.crop_to_aspect_ratio or layer.pad_to_aspect_ratio:
        mode = "crop" if layer.crop_to_aspect_ratio else "pad"
        x = _to_aspect(builder, f"{layer.name}/aspect", x, layer.height, layer.width, mode, layer.fill_value)
    return _resize(builder, layer.name, x, shape, layer.interpolation)


def aspect_window(height_width, height, width, mode):
    """(top, left, rows, columns): where the image lies in what crop_or_pad_to_aspect makes of it ("crop":
    the window it keeps; "pad": where the image sits in the padded result, whose size is rows x columns),
    found by applying it to the cells numbered from 1, so its arithmetic is written once."""
    in_height, in_width = height_width
    numbers = np.arange(1, in_height * in_width + 1, dtype=np.float32).reshape(1, in_height, in_width, 1)
    result = crop_or_pad_to_aspect(numbers, height, width, mode)  # "pad" gives a Tensor
    cells = np.asarray(result.numpy() if hasattr(result, "numpy") else result)[0, :, :, 0]
    if mode == "crop":
        top, left = divmod(int(cells[0, 0]) - 1, in_width)
        return top, left, *cells.shape
    rows, columns = np.nonzero(cells)
    return int(rows[0]), int(columns[0]), *cells.shape


def _to_aspect(builder, name, x, height, width, mode, fill_value=0.0):
    in_height, in_width = x.shape[1:3]
    top, left, rows, columns = aspect_window((in_height, in_width), height, width, mode)
    if mode == "crop":
        shape = (x.shape[0], rows, columns, x.shape[-1])
        return _window(builder, name, x, [top, left], [top + rows, left + columns], shape)
    rank = len(x.shape)
    pads = [0] * (2 * rank)
    for axis, before, after in ((1, top, rows - in_height - top), (2, left, columns - in_width - left)):
        pads[graph_axis(x, axis)], pads[graph_axis(x, axis) + rank] = before, after
    output = builder.node("Pad", [x.name, builder.constant(f"{name}/pads", pads), scalar(builder, f"{name}/fill",
                                                                                          fill_value)], name)
    return Value(output, (x.shape[0], rows, columns, x.shape[-1]), x.channels_first)


def _window(builder, name, x, starts, ends, shape):
    """Slice of striate's spatial axes 1, 2, ... from `starts` to `ends`, in x's layout."""
    axes = [graph_axis(x, axis) for axis in range(1, len(starts) + 1)]
    inputs = [x.name, *(builder.constant(f"{name}/{what}", numbers) for what, numbers in
                        (("starts", starts), ("ends", ends), ("axes", axes)))]
    return Value(builder.node("Slice", inputs, name), shape, x.channels_first)


def _resize(builder, name, x, shape, interpolation):
    """Images resized to shape's (height, width): Resize of the channels-first map to sizes (N, C, height,
    width), N and C taken from the input's Shape (the batch is free)."""
    if len(x.shape) != 4:
        raise Refused(f"resizing needs images (N, H, W, C); received shape {x.shape}")
    x = builder.channels_first(x)
    batch_and_channels = builder.node("Shape", [x.name], f"{name}/batch_and_channels", start=0, end=2)
    spatial = builder.constant(f"{name}/spatial_size", list(shape[1:3]))
    sizes = builder.node("Concat", [batch_and_channels, spatial], f"{name}/sizes", axis=0)
    if interpolation == "bilinear":
        attributes = {"mode": "linear"}
    else:
        attributes = {"mode": "nearest", "nearest_mode": "round_prefer_ceil"}
    output = builder.node("Resize", [x.name, "", "", sizes], name, coordinate_transformation_mode="half_pixel",
                          **attributes)
    return Value(output, shape, True)

