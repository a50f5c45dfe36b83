"""`plan(model, input_shape)`: the arithmetic of a network, without running it.

Shapes are propagated layer by layer with `compute_output_shape` (see striate.inspect.shapes); no activation
is allocated and no weight is created. Each layer answers for its own arithmetic (methods of
striate.layers.Layer, written next to each layer's compute_output_shape; a model used as a layer answers with
its own plan); this module puts the answers in a table. Per layer:

- output shape, and the padding on each side of every spatial axis: ((top, bottom), (left, right))
  (`layer.sliding_window`);
- parameters (`layer.parameter_count`: the layer's weights; an unbuilt layer's are counted from its arguments
  by `layer.weight_shapes`; `trainable_params` apart);
- MACs, multiply-accumulates (`layer.multiply_accumulates`): the products summed by convolutions and dense
  layers, the figure papers call "mult-adds". Convolution: H_out * W_out * C_out * kh * kw * C_in / groups.
  Depthwise: H_out * W_out * C * kh * kw. Separable: depthwise + H_out * W_out * C * C_out. Dense:
  features_in * units. Transposed convolution: H_in * W_in * C_in * kh * kw * C_out / groups (every input
  value is scattered through the kernel). Dot: K per output. Recurrent: T * gates * units * (features +
  units). (C counts C_in * depth_multiplier.)
- FLOPs, floating-point operations of inference (`layer.floating_point_operations`): 2 per MAC (a multiply
  and an add), 1 per output for a bias, 1 per element for an activation (3 for softmax: exp, sum, divide),
  2 per element for batch normalization (its statistics folded into a scale and a shift), 5 per element for
  layer and group normalization plus 1 each for gamma and beta, max pooling k - 1 comparisons and average
  pooling k additions-or-divisions per output for a window of k cells, local response normalization 2r + 5
  per element, Add, Multiply, Subtract, Maximum, Minimum n - 1 per output for n inputs (Average n),
  Rescaling and Normalization 2 per element, bilinear resizing 7 per output, a recurrent layer a bias and an
  activation per gate value and step (Dot with normalize=True 3 per input element); Concatenate, Flatten,
  reshaping, cropping, padding, nearest upsampling, and the layers that act only in training (dropout, noise,
  augmentation) move data only;
- activation memory: the bytes of the layer's output for `batch_size` samples of `dtype`;
- the receptive field of one output on each spatial axis, in input pixels (Araujo et al. 2019, "Computing
  receptive fields of convolutional neural networks"; Dang Ha The Hien's "guide to receptive field
  arithmetic"), by `layer.receptive_field`. For a window layer with kernel k, dilation d (k_eff = d(k - 1) +
  1), stride s and p_before cells of padding before the input:

      size_out  = size_in + (k_eff - 1) * jump_in
      jump_out  = jump_in * s
      start_out = start_in + ((k_eff - 1) / 2 - p_before) * jump_in

  `jump` is the distance in input pixels between neighbouring outputs, `start` the input coordinate of the
  centre of the first output's field (pixel i is centred at i; the input starts at size 1, jump 1, start 0).
  Araujo et al.'s "effective padding" is (size - 1) / 2 - start. A global pooling or a Flatten is a window
  over the whole map; padding is a 1-cell window; cropping `before` cells moves the start by before * jump_in.
  A layer acting at each position keeps the field (normalization statistics shared by the whole map are not
  counted). A merge (Add, Concatenate) sees the union of its branches' fields: where the branches are centred
  alike (every network in striate.models) that is the largest of them, the max over branches. A model used as
  a layer composes its own output's field with the one before it. The field ends (None) at layers whose
  neighbouring outputs do not step through the input by one jump: transposed convolutions, upsampling and
  resizing; and at recurrent layers, Lambda, and layers that reshape space.

    >>> p = plan([Conv2D(5, 3)], (6, 6, 3))      # the lectures' MobileNet example
    >>> p.totals["macs"], p.totals["params"]     # print(p): the table; p.records(): a list of dicts
    (2160, 140)
"""

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from striate.inspect.shapes import trace
from striate.layers.core import InputLayer


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
            reaching = [fields[i] for i in step.sources]
            field = _receptive_field(step.layer, step.input_shape, step.output_shape, reaching)
        fields.append(field)
        if isinstance(step.layer, InputLayer):
            continue
        rows.append(_row(step, field, batch_size, itemsize, counted))
    return Plan(name, shapes, rows, batch_size, np.dtype(dtype).name)


def depthwise_separable_ratio(filters, kernel_size):
    """The cost of a depthwise-separable convolution over a normal one with the same output, exactly:
    (H W C k^2 + H W C n_c) / (H W n_c C k^2) = 1 / n_c + 1 / k^2 (Howard et al. 2017, section 3.1)."""
    return Fraction(1, filters) + Fraction(1, kernel_size * kernel_size)


# ---- each row from its layer's own arithmetic -------------------------------------------------------------------
def _row(step, field, batch_size, itemsize, counted):
    layer, received, output_shape = step.layer, step.input_shape, step.output_shape
    if layer is None:
        name, kind, params, trainable, macs, flops, window = "input", "Input", 0, 0, 0, 0, None
    else:
        name, kind = layer.name, type(layer).__name__
        params, trainable = (0, 0) if id(layer) in counted else layer.parameter_count(received)
        counted.add(id(layer))
        macs = layer.multiply_accumulates(received, output_shape)
        flops = layer.floating_point_operations(received, output_shape)
        window = None if isinstance(received, list) else layer.sliding_window(received)
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
    """(all, trainable) parameters of `layer` for inputs of `input_shape`: `layer.parameter_count`."""
    return layer.parameter_count(input_shape)


def _receptive_field(layer, input_shape, output_shape, fields):
    """((size, jump, start), ...) per spatial axis after `layer`, from the fields of what reaches it: the union of
    several branches' fields, then the layer's own rule (Layer.receptive_field); None once a field has ended."""
    if any(f is None for f in fields):
        return None
    field = _union(fields) if len(fields) > 1 else fields[0]
    return layer.receptive_field(field, input_shape, output_shape)


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
