"""`summary()`: the table the lectures draw for LeNet-5: per layer its output shape, activation size and
parameters, then total / trainable / non-trainable counts."""

import math


def summary_rows(model):
    """One dict per layer: name, type, output_shape, activation_size, params."""
    rows = []
    for layer in model.layers:
        shape = layer.output_shape
        rows.append({
            "name": layer.name, "type": type(layer).__name__, "output_shape": shape,
            "activation_size": math.prod(shape[1:]) if shape is not None else None,
            "params": layer.count_params(),
        })
    return rows


def summary_table(model):
    rows = summary_rows(model)
    header = ("Layer (type)", "Output shape", "Activation size", "Params")
    cells = [(f"{r['name']} ({r['type']})", str(r["output_shape"]), f"{r['activation_size']:,}",
              f"{r['params']:,}") for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    out = [f'Model: "{model.name}"', line.format(*header), "-" * (sum(widths) + 6)]
    out += [line.format(*c) for c in cells]
    out += ["-" * (sum(widths) + 6), f"Total params: {trainable + non_trainable:,}",
            f"Trainable params: {trainable:,}", f"Non-trainable params: {non_trainable:,}"]
    return "\n".join(out)
