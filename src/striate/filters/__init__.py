"""striate.filters: the classic image kernels (Sobel, Gaussian, Gabor, ...), `apply` to filter one image, and
`FilterBank`, a frozen Conv2D holding a bank of them.

    import striate
    from striate import filters, images

    photo = images.sample("chelsea")                       # (300, 451, 3) in [0, 1]
    edges = filters.apply(photo, filters.sobel("x"))       # (300, 451, 3): each channel filtered
    layer = filters.FilterBank(filters.gabor_bank(4, 2))   # (kh, kw, 1, 8), not trainable

Kernels are float32 in Keras' layout (kh, kw, C_in, C_out), cross-correlation kernels as a Conv2D holds them.
"""

from striate.filters.apply import apply
from striate.filters.kernels import (
    box_blur,
    by_name,
    edge,
    emboss,
    gabor,
    gabor_bank,
    gaussian,
    laplacian,
    names,
    prewitt,
    scharr,
    sharpen,
    sobel,
    tile,
)
from striate.layers.filter_bank import FilterBank

__all__ = [
    "FilterBank", "apply", "box_blur", "by_name", "edge", "emboss", "gabor", "gabor_bank", "gaussian", "laplacian",
    "names", "prewitt", "scharr", "sharpen", "sobel", "tile",
]
