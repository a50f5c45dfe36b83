"""A layer as a config entry and back, as Keras nests layers: {"class_name": ..., "config": ...}.

Only the public layer classes of striate.layers (its `__all__`, the base Layer excepted) are ever built from an
entry, so a config (from a file, or inside a wrapper's config) can name no other code.
"""

from striate.layers.layer import Layer


def layer_entry(layer):
    """{"class_name": the layer's class name, "config": layer.get_config()}."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def layer_from_entry(entry, what):
    """A new layer from a `layer_entry` dict; a ValueError naming `what` (the caller) when the class is not one of
    striate.layers' public layer classes."""
    from striate import layers  # the package that imports this module

    name = entry.get("class_name") if isinstance(entry, dict) else None
    cls = getattr(layers, name, None) if isinstance(name, str) and name in layers.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, Layer)) or cls is Layer:
        raise ValueError(f"{what}: unknown layer class {str(name)[:80]!r}; a layer entry names one of striate.layers' "
                         f"classes, as {{'class_name': 'Conv2D', 'config': {{...}}}}")
    if not isinstance(entry.get("config"), dict):
        raise ValueError(f"{what}: the entry of layer class {name!r} has no config dict; received {str(entry)[:120]}")
    return cls(**entry["config"])
