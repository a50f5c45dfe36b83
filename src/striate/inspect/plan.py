"""`plan(model, input_shape)`: the arithmetic of a network, without running it.

Shapes are propagated layer by layer with `compute_output_shape` (see striate.inspect.shapes); no activation
is allocated and no weight is created (an unbuilt layer's parameters are counted from its arguments). Per
layer:

- output shape, and the padding on each side of every spatial axis: ((top, bottom), (left, right));
- parameters (the layer's weights; `trainable_params` apart);
- MACs, multiply-accumulates: the products summed by convolutions and dense layers, the figure papers call
  "mult-adds". Convolution: H_out * W_out * C_out * kh * kw * C_in / groups. Depthwise: H_out * W_out * C *
  kh * kw. Separable: depthwise + H_out * W_out * C * C_out. Dense: features_in * units. Transposed
  convolution: H_in * W_in * C_in * kh * kw * C_out (every input value is scattered through the kernel);
- FLOPs, floating-point operations of inference: 2 per MAC (a multiply and an add), 1 per output for a
  bias, 1 per element for an activation (3 for softmax: exp, sum, divide), 2 per element for batch
  normalization (its statistics folded into a scale and a shift), max pooling k - 1 comparisons and average
  pooling k additions-or-divisions per output for a window of k cells, local response normalization 2r + 5
  per element, Add n - 1 per element for n inputs; Concatenate, Flatten, Dropout and padding move data only;
- activation memory: the bytes of the layer's output for `batch_size` samples of `dtype`;
- the receptive field of one output on each spatial axis, in input pixels (Araujo et al. 2019, "Computing
  receptive fields of convolutional neural networks"; Dang Ha The Hien's "guide to receptive field
  arithmetic"). For a window layer with kernel k, dilation d (k_eff = d(k - 1) + 1), stride s and p_before
  cells of padding before the input:

      size_out  = size_in + (k_eff - 1) * jump_in
      jump_out  = jump_in * s
      start_out = start_in + ((k_eff - 1) / 2 - p_before) * jump_in

  `jump` is the distance in input pixels between neighbouring outputs, `start` the input coordinate of the
  centre of the first output's field (pixel i is centred at i; the input starts at size 1, jump 1, start 0).
  Araujo et al.'s "effective padding" is (size - 1) / 2 - start. A global pooling or a Flatten is a window
  over the whole map. A merge (Add, Concatenate) sees the union of its branches' fields: where the branches
  are centred alike (every network in striate.models) that is the largest of them, the max over branches.

    >>> p = plan([Conv2D(5, 3)], (6, 6, 3))      # the lectures' MobileNet example
    >>> p.totals["macs"], p.totals["params"]     # print(p): the table; p.records(): a list of dicts
    (2160, 140)
"""

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from striate.functional.arguments import padding_pairs
from striate.functional.output_size import effective_kernel_size
from striate.inspect.shapes import trace
from striate.layers import activations
from striate.layers.convolution import Conv, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from striate.layers.core import Activation, Dense, Flatten, InputLayer, ZeroPadding2D
from striate.layers.merge import Add
from striate.layers.normalization import BatchNormalization, LocalResponseNormalization
from striate.layers.pooling import (
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
    Pooling,
)

ACTIVATION_FLOPS = {"linear": 0, "softmax": 3}  # per element; any other activation counts 1
MAX_POOLING = (MaxPooling1D, MaxPooling2D, MaxPooling3D)


@dataclass
class LayerPlan:
    """One row of a plan. Receptive field values are tuples with one entry per spatial axis (None if unknown)."""

    name: str
    type: str
    output_shape: tuple
    padding: tuple | None
    params: int
    trainable_params: int
    macs: int
    flops: int
    activation_bytes: int
    receptive_field: tuple | None
    jump: tuple | None
    start: tuple | None


class Plan:
    """The rows of `plan()`, their totals, and three renderings: `table()`, `records()`, `markdown()`."""

    def __init__(self, name, input_shape, rows, batch_size, dtype):
        self.name, self.input_shape, self.rows = name, input_shape, rows
        self.batch_size, self.dtype = batch_size, dtype
        self.output_shape = rows[-1].output_shape
        self.totals = {
            "params": sum(r.params for r in rows), "trainable_params": sum(r.trainable_params for r in rows),
            "macs": sum(r.macs for r in rows), "flops": sum(r.flops for r in rows),
            "activation_bytes": sum(r.activation_bytes for r in rows),
        }

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"plan of {self.name}: no layer named {name!r}")

    def records(self):
        """One dict per row (the input first), keys as LayerPlan's fields."""
        return [asdict(row) for row in self.rows]

    def cells(self):
        header = ("Layer (type)", "Output shape", "Padding", "Params", "MACs", "FLOPs", "Activation bytes",
                  "RF size", "RF jump", "RF start")
        rows = [(f"{r.name} ({r.type})", str(r.output_shape), _padding_text(r.padding), f"{r.params:,}",
                 f"{r.macs:,}", f"{r.flops:,}", f"{r.activation_bytes:,}", _axes_text(r.receptive_field),
                 _axes_text(r.jump), _axes_text(r.start)) for r in self.rows]
        last = self.rows[-1]
        t = self.totals
        total = ("Total", str(self.output_shape), "", f"{t['params']:,}", f"{t['macs']:,}", f"{t['flops']:,}",
                 f"{t['activation_bytes']:,}", _axes_text(last.receptive_field), _axes_text(last.jump),
                 _axes_text(last.start))
        return header, rows, total

    def table(self):
        """The plan as a printed table, then the totals in words."""
        header, rows, total = self.cells()
        widths = [max(len(cell) for cell in column) for column in zip(header, *rows, total)]
        numeric = {3, 4, 5, 6, 7, 8, 9}
        line = "  ".join(f"{{:>{w}}}" if i in numeric else f"{{:<{w}}}" for i, w in enumerate(widths))
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        t = self.totals
        out = [f'Plan: "{self.name}", input {self.input_shape}, batch {self.batch_size}, {self.dtype}',
               line.format(*header), rule, *(line.format(*row) for row in rows), rule, line.format(*total), "",
               f"Parameters: {t['params']:,} ({t['trainable_params']:,} trainable)",
               f"Multiply-accumulates: {t['macs']:,} ({_engineering(t['macs'])} MACs)",
               f"FLOPs: {t['flops']:,} ({_engineering(t['flops'])})",
               f"Activation memory: {t['activation_bytes']:,} bytes ({_mebibytes(t['activation_bytes'])})"]
        return "\n".join(out)

    def markdown(self):
        """The plan as a Markdown table (totals in the last row)."""
        header, rows, total = self.cells()
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header)))
               + "|"]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        out.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in total) + " |")
        return "\n".join(out)

    def __str__(self):
        return self.table()

    def __repr__(self):
        return (f"<Plan {self.name}: {self.totals['params']:,} params, {self.totals['macs']:,} MACs, "
                f"output {self.output_shape}>")


def plan(model_or_layers, input_shape=None, batch_size=1, dtype="float32"):
    """The arithmetic of a network for inputs of `input_shape` (without the batch axis), computing nothing.

    Args:
        model_or_layers: a Sequential or functional Model, a list of layers (built or not) or one layer.
        input_shape: e.g. (224, 224, 3); None for the shape the model was built for. A list of shapes for a
            model with several inputs.
        batch_size: samples counted in activation memory, MACs and FLOPs.
        dtype: the activations' dtype, for their bytes.
    Returns a Plan. Raises striate.inspect.shapes.ShapeError when the layers do not fit the input.
    """
    if input_shape is None:
        built = getattr(model_or_layers, "input_shape", None)
        if built is None:
            raise ValueError("plan: give an input_shape, e.g. (224, 224, 3); this model or list of layers has none")
        shapes = built
    elif input_shape and isinstance(input_shape[0], tuple | list):
        shapes = [(None, *shape) for shape in input_shape]
    else:
        shapes = (None, *input_shape)
    itemsize = np.dtype(dtype).itemsize
    name = getattr(model_or_layers, "name", "layers")
    steps = trace(model_or_layers, shapes, name=name)
    rows, fields, counted = [], [], set()
    for step in steps:
        if step.layer is None:
            field = tuple((1, 1, 0.0) for _ in step.output_shape[1:-1])
        else:
            field = _receptive_field(step.layer, step.input_shape, [fields[i] for i in step.sources])
        fields.append(field)
        if isinstance(step.layer, InputLayer):
            continue
        rows.append(_row(step, field, batch_size, itemsize, counted))
    return Plan(name, shapes, rows, batch_size, np.dtype(dtype).name)


def depthwise_separable_ratio(filters, kernel_size):
    """The cost of a depthwise-separable convolution over a normal one with the same output, exactly:
    (H W C k^2 + H W C n_c) / (H W n_c C k^2) = 1 / n_c + 1 / k^2 (Howard et al. 2017, section 3.1)."""
    return Fraction(1, filters) + Fraction(1, kernel_size * kernel_size)


# ---- per-layer arithmetic ---------------------------------------------------------------------------------
def _row(step, field, batch_size, itemsize, counted):
    layer, received, output_shape = step.layer, step.input_shape, step.output_shape
    if layer is None:
        name, kind, params, trainable = "input", "Input", 0, 0
    else:
        name, kind = layer.name, type(layer).__name__
        params, trainable = (0, 0) if id(layer) in counted else parameter_count(layer, received)
        counted.add(id(layer))
    macs = 0 if layer is None else multiply_accumulates(layer, received, output_shape)
    flops = 0 if layer is None else floating_point_operations(layer, received, output_shape, macs)
    window = None if layer is None else _window(layer, received)
    known = field is not None and len(field) > 0
    return LayerPlan(
        name=name, type=kind, output_shape=output_shape, padding=None if window is None else window[3],
        params=params, trainable_params=trainable, macs=macs * batch_size, flops=flops * batch_size,
        activation_bytes=math.prod(output_shape[1:]) * batch_size * itemsize,
        receptive_field=tuple(f[0] for f in field) if known else None,
        jump=tuple(f[1] for f in field) if known else None,
        start=tuple(f[2] for f in field) if known else None,
    )


def parameter_count(layer, input_shape):
    """(all, trainable) parameters of `layer` for inputs of `input_shape`: its weights if built, else counted
    from its arguments (no weight is created)."""
    if layer.built:
        return layer.count_params(), int(sum(w.size for w in layer.trainable_weights))
    if isinstance(input_shape, list):
        return 0, 0
    channels = input_shape[-1]
    trainable = 0
    frozen = 0
    if isinstance(layer, Conv2DTranspose):
        trainable = math.prod(layer.kernel_size) * layer.filters * channels + layer.filters * layer.use_bias
    elif isinstance(layer, Conv):
        trainable = (math.prod(layer.kernel_size) * (channels // layer.groups) * layer.filters
                     + layer.filters * layer.use_bias)
    elif isinstance(layer, SeparableConv2D):
        depth = channels * layer.depth_multiplier
        trainable = math.prod(layer.kernel_size) * depth + depth * layer.filters + layer.filters * layer.use_bias
    elif isinstance(layer, DepthwiseConv2D):
        depth = channels * layer.depth_multiplier
        trainable = math.prod(layer.kernel_size) * depth + depth * layer.use_bias
    elif isinstance(layer, Dense):
        trainable = channels * layer.units + layer.units * layer.use_bias
    elif isinstance(layer, BatchNormalization):
        trainable, frozen = channels * (int(layer.scale) + int(layer.center)), 2 * channels
    if not layer.trainable:
        trainable, frozen = 0, trainable + frozen
    return trainable + frozen, trainable


def multiply_accumulates(layer, input_shape, output_shape):
    """Multiply-accumulates of one sample through `layer` (the formulas in this module's docstring)."""
    if isinstance(input_shape, list):
        return 0
    positions = math.prod(output_shape[1:-1])
    channels = input_shape[-1]
    if isinstance(layer, Conv2DTranspose):
        return math.prod(input_shape[1:-1]) * channels * math.prod(layer.kernel_size) * layer.filters
    if isinstance(layer, Conv):
        return positions * layer.filters * math.prod(layer.kernel_size) * (channels // layer.groups)
    if isinstance(layer, DepthwiseConv2D):
        depth = channels * layer.depth_multiplier
        depthwise = positions * depth * math.prod(layer.kernel_size)
        if isinstance(layer, SeparableConv2D):
            return depthwise + positions * depth * layer.filters
        return depthwise
    if isinstance(layer, Dense):
        return math.prod(input_shape[1:]) * layer.units
    if hasattr(layer, "_layers"):  # a model used as a layer
        return plan(layer, input_shape[1:]).totals["macs"]
    return 0


def floating_point_operations(layer, input_shape, output_shape, macs):
    """FLOPs of one sample through `layer` (the rules in this module's docstring)."""
    outputs = math.prod(output_shape[1:])
    flops = 2 * macs
    if getattr(layer, "use_bias", False):
        flops += outputs
    if isinstance(layer, Conv | DepthwiseConv2D | Dense | Activation):
        flops += outputs * ACTIVATION_FLOPS.get(activations.name_of(layer.activation), 1)
    elif isinstance(layer, Pooling):
        window = math.prod(layer.pool_size)
        flops += outputs * (window - 1 if isinstance(layer, MAX_POOLING) else window)
    elif isinstance(layer, GlobalMaxPooling2D | GlobalAveragePooling2D):
        cells = math.prod(input_shape[1:-1])
        flops += outputs * (cells - 1 if isinstance(layer, GlobalMaxPooling2D) else cells)
    elif isinstance(layer, BatchNormalization):
        flops += 2 * outputs
    elif isinstance(layer, LocalResponseNormalization):
        flops += outputs * (2 * layer.depth_radius + 5)
    elif isinstance(layer, Add):
        flops += outputs * (len(input_shape) - 1)
    elif hasattr(layer, "_layers"):
        flops = plan(layer, input_shape[1:]).totals["flops"]
    return flops


def _window(layer, input_shape):
    """(kernel_size, strides, dilation, ((before, after), ...)) of a layer that slides a window, else None."""
    if isinstance(input_shape, list) or len(input_shape) < 3:
        return None
    spatial = input_shape[1:-1]
    ones = (1,) * len(spatial)
    if isinstance(layer, Conv2DTranspose):
        return None
    if isinstance(layer, Conv | DepthwiseConv2D):
        kernel, strides, dilation, padding = layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding
    elif isinstance(layer, Pooling):
        kernel, strides, dilation, padding = layer.pool_size, layer.strides, ones, layer.padding
    elif isinstance(layer, GlobalAveragePooling2D | GlobalMaxPooling2D | Flatten):
        return tuple(spatial), tuple(spatial), ones, tuple((0, 0) for _ in spatial)
    elif isinstance(layer, ZeroPadding2D):
        return ones, ones, ones, tuple(layer.padding)
    else:
        return None
    return kernel, strides, dilation, padding_pairs(layer.name, padding, spatial, kernel, strides, dilation)


def _receptive_field(layer, input_shape, fields):
    """((size, jump, start), ...) per spatial axis after `layer`, from the fields of what reaches it."""
    if any(f is None for f in fields):
        return None
    if len(fields) > 1:
        return _union(fields)
    field = fields[0]
    window = _window(layer, input_shape)
    if window is None:
        changes_space = isinstance(layer, Conv2DTranspose) or hasattr(layer, "_layers")
        return None if changes_space else field
    result = []
    for (size, jump, start), k, s, d, (before, _) in zip(field, *window[:3], window[3]):
        span = effective_kernel_size(k, d) - 1
        result.append((size + span * jump, jump * s, start + (span / 2 - before) * jump))
    return tuple(result)


def _union(fields):
    """The field covering every branch's field: per axis, from the leftmost edge to the rightmost."""
    result = []
    for axis in zip(*fields):
        left = min(start - (size - 1) / 2 for size, _, start in axis)
        right = max(start + (size - 1) / 2 for size, _, start in axis)
        result.append((int(right - left + 1), max(jump for _, jump, _ in axis), (left + right) / 2))
    return tuple(result)


# ---- rendering -----------------------------------------------------------------------------------------------
def _padding_text(pads):
    if pads is None:
        return ""
    if all(p == pads[0][0] for pair in pads for p in pair):
        return str(pads[0][0])
    return " ".join(f"({before},{after})" for before, after in pads)


def _axes_text(values):
    if values is None:
        return ""
    texts = [str(int(v)) if float(v).is_integer() else f"{v:g}" for v in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


def _engineering(count):
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:.2f} {unit}"
    return str(count)


def _mebibytes(count):
    return f"{count / 2**20:.1f} MiB"
