"""What a zoo network ends with when include_top=False, as keras.applications' `pooling` argument:

    None    the last feature map itself, (N, h, w, C)
    "avg"   its global average, (N, C)
    "max"   its global maximum, (N, C)
"""

from striate import layers as L

POOLINGS = (None, "avg", "max")


def feature_pooling(pooling, network):
    """The pooling layer for include_top=False (None when pooling is None); `network` names the caller in errors."""
    if pooling not in POOLINGS:
        raise ValueError(f"{network}: pooling must be None, 'avg' or 'max'; received {pooling!r}")
    if pooling == "avg":
        return L.GlobalAveragePooling2D(name="avg_pool")
    if pooling == "max":
        return L.GlobalMaxPooling2D(name="max_pool")
    return None
