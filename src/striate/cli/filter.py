"""`striate filter NAME IMAGE --out FILE.png`: filter a photograph with a classic kernel and write the result.

IMAGE is a file, or the name of one of scikit-image's sample photographs ("chelsea", "camera", ...). Colour
images are filtered channel by channel (a blur stays colour); `--grayscale` filters the luma instead.

What the PNG shows: a kernel whose weights sum to 1 (box-blur, gaussian, sharpen, emboss) keeps the image's
brightness, so its response is written as it is, clipped to [0, 1]. Any other kernel (the derivatives and edge
detectors sum to 0; a Gabor filter nearly so) gives signed values: the PNG shows their magnitude scaled by its
99th percentile, min(|response| / percentile_99(|response|), 1), so flat regions are black whatever the sign
and the strongest 1% of the responses are white (scaling by the maximum would leave all but a few pixels dark).
Nothing is written when anything fails.
"""

import os

import numpy as np

from striate import filters, images
from striate.cli import CommandError

UNIT_SUM_TOLERANCE = 1e-4
WHITE_PERCENTILE = 99


def add_arguments(parser):
    parser.add_argument("name", help=f"the filter: {', '.join(filters.names())}")
    parser.add_argument("image", help="an image file, or a scikit-image sample name such as chelsea or camera")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--grayscale", action="store_true", help="filter the image's luma instead of each channel")
    parser.add_argument("--padding-mode", default="reflect", choices=("reflect", "replicate", "circular", "constant"),
                        help="what the border is padded with (default: reflect, mirrored without the edge pixel)")


def run(arguments):
    if os.path.splitext(arguments.out)[1].lower() != ".png":
        raise CommandError(f"--out must name a .png file; received {arguments.out}")
    folder = os.path.dirname(os.path.abspath(arguments.out))
    if not os.path.isdir(folder):
        raise CommandError(f"the folder {folder} of --out {arguments.out} does not exist")
    try:
        kernel = filters.by_name(arguments.name)
    except ValueError as error:
        raise CommandError(str(error)) from None
    pixels = _read(arguments.image, "grayscale" if arguments.grayscale else "rgb")
    response = filters.apply(pixels, kernel, padding_mode=arguments.padding_mode)
    picture, shown = to_picture(response, kernel)
    images.write(arguments.out, picture)
    height, width = pixels.shape[:2]
    print(f"wrote {arguments.out}: {arguments.name} {kernel.shape[0]}x{kernel.shape[1]} of {arguments.image} "
          f"({width}x{height}), showing {shown}")
    return 0


def _read(image, color_mode):
    """The pixels of a file, or of a sample photograph when no such file exists."""
    if os.path.exists(image):
        return images.read(image, color_mode)
    if os.sep in image or os.path.splitext(image)[1]:
        raise CommandError(f"{image} does not exist")
    known = images.sample_names()
    if image not in known:
        raise CommandError(f"{image} is neither a file nor a sample photograph; samples: {', '.join(known)}")
    return images.sample(image, color_mode)


def to_picture(response, kernel):
    """(values in [0, 1] to write, what they are): the response clipped to [0, 1] when the kernel's weights sum
    to 1, else min(|response| / percentile_99(|response|), 1) (all zeros when that percentile is 0)."""
    if abs(float(np.sum(kernel)) - 1) < UNIT_SUM_TOLERANCE:
        return np.clip(response, 0, 1), "the response clipped to [0, 1]"
    magnitude = np.abs(response)
    white = float(np.percentile(magnitude, WHITE_PERCENTILE))
    scaled = np.minimum(magnitude / white, 1) if white > 0 else np.zeros_like(magnitude)
    return scaled, f"|response| / {white:.4g} (its {WHITE_PERCENTILE}th percentile), clipped to 1"
