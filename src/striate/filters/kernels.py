"""The classic image kernels, as float32 arrays in Keras' kernel layout (kh, kw, C_in, C_out) = (kh, kw, 1, 1).

Every kernel is a cross-correlation kernel, as a Conv2D layer holds it: out[i, j] = sum_{a, b} x[i + a - r_h,
j + b - r_w] * k[a, b] (r = the kernel's half-width). Rows are y (down), columns are x (right).

`axis` of a derivative kernel is the axis it differentiates along, as scipy.ndimage.sobel's `axis`:
    axis=0 or "y": along the rows (down the image), so it responds to horizontal edges;
    axis=1 or "x": along the columns (across the image), so it responds to vertical edges.
Signs follow scipy.ndimage: the response is positive where the image grows along the axis (darker above /
left, brighter below / right). sobel("x") = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], unnormalised as scipy's.

`by_name` is the registry the `striate filter` command uses ("sobel-x", "gaussian", ...).
"""

import math
import numbers
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Kernel = NDArray[np.float32]
Axis = Literal[0, 1, -2, -1, "y", "x"]

# skimage's gabor_kernel half-width: n_stds standard deviations of the envelope
GABOR_STDS = 3
# the envelope width for a bandwidth of one octave: sigma = 0.56 wavelength (skimage's _sigma_prefactor(1))
GABOR_SIGMA_PER_WAVELENGTH = math.sqrt(math.log(2) / 2) / math.pi * 3


def as_layer_kernel(kernel: ArrayLike) -> Kernel:
    """A 2-D kernel (kh, kw) as float32 (kh, kw, 1, 1)."""
    kernel = np.asarray(kernel, dtype=np.float32)
    return kernel.reshape(*kernel.shape, 1, 1)


def tile(kernel: ArrayLike, channels: int) -> Kernel:
    """A kernel (kh, kw, 1, C_out) repeated for `channels` input channels: (kh, kw, channels, C_out)."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(f"tile: expects a kernel (kh, kw, 1, C_out); received shape {kernel.shape}")
    return np.repeat(kernel, channels, axis=2)


def derivative_axis(function: str, axis: Axis) -> int:
    """0 for 0 / "y" (down the rows), 1 for 1 / "x" (across the columns); raises for anything else."""
    axes: dict[int | str, int] = {0: 0, 1: 1, "y": 0, "x": 1, -2: 0, -1: 1}
    if isinstance(axis, bool) or axis not in axes:
        raise ValueError(f"{function}: axis must be 0 or 'y' (along the rows), 1 or 'x' (along the columns); "
                         f"received {axis!r}")
    return axes[axis]


def _derivative(function: str, axis: Axis, smoothing: list[int]) -> Kernel:
    """outer(smoothing, [-1, 0, 1]) for axis x, its transpose for axis y: a central difference along `axis`,
    smoothed across it (scipy.ndimage.sobel / prewitt's construction)."""
    along_x = np.outer(smoothing, [-1, 0, 1])
    return as_layer_kernel(along_x if derivative_axis(function, axis) == 1 else along_x.T)


def sobel(axis: Axis) -> Kernel:
    """Sobel derivative along `axis`: smoothing [1, 2, 1] across it. sobel("x") = [[-1, 0, 1], [-2, 0, 2],
    [-1, 0, 1]]; equals scipy.ndimage.sobel(image, axis) as a correlation."""
    return _derivative("sobel", axis, [1, 2, 1])


def scharr(axis: Axis) -> Kernel:
    """Scharr derivative along `axis`: smoothing [3, 10, 3] across it (Scharr 2000; unnormalised, as OpenCV's
    Scharr). scharr("x") = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]."""
    return _derivative("scharr", axis, [3, 10, 3])


def prewitt(axis: Axis) -> Kernel:
    """Prewitt derivative along `axis`: smoothing [1, 1, 1] across it. prewitt("x") = [[-1, 0, 1]] * 3 rows;
    equals scipy.ndimage.prewitt(image, axis)."""
    return _derivative("prewitt", axis, [1, 1, 1])


def laplacian() -> Kernel:
    """The 4-neighbour Laplacian [[0, 1, 0], [1, -4, 1], [0, 1, 0]] (d2/dy2 + d2/dx2), as scipy.ndimage.laplace."""
    return as_layer_kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]])


def box_blur(size: int = 3) -> Kernel:
    """The mean of a size x size window: every weight 1 / size^2."""
    size = _odd_size("box_blur", size)
    return as_layer_kernel(np.full((size, size), 1.0 / (size * size)))


def gaussian(sigma: float, size: int | None = None) -> Kernel:
    """A 2-D Gaussian blur exp(-(y^2 + x^2) / (2 sigma^2)), normalised to sum 1.

    size None cuts it as scipy.ndimage.gaussian_filter(truncate=4.0) does: radius = int(4 sigma + 0.5), size =
    2 radius + 1. The kernel is the outer product of the 1-D kernels scipy uses along each axis, so filtering
    with it equals gaussian_filter (up to float rounding).
    """
    if not (isinstance(sigma, numbers.Real) and not isinstance(sigma, bool) and sigma > 0):
        raise ValueError(f"gaussian: sigma must be a positive number of pixels; received {sigma!r}")
    radius = int(4.0 * sigma + 0.5) if size is None else _odd_size("gaussian", size) // 2
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    line = np.exp(-0.5 * offsets ** 2 / sigma ** 2)
    line /= line.sum()
    return as_layer_kernel(np.outer(line, line))


def sharpen() -> Kernel:
    """The lectures' sharpen kernel [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]: the image minus its Laplacian."""
    return as_layer_kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def emboss() -> Kernel:
    """Emboss [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]: a diagonal derivative (top-left dark, bottom-right light) plus
    the image; the weights sum to 1, so flat regions keep their value."""
    return as_layer_kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])


def edge(orientation: Literal["vertical", "horizontal"]) -> Kernel:
    """The lectures' edge detectors: "vertical" = [[1, 0, -1], [1, 0, -1], [1, 0, -1]] (bright left of dark gives
    a positive response), "horizontal" its transpose (bright above dark)."""
    vertical = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    if orientation == "vertical":
        return as_layer_kernel(vertical)
    if orientation == "horizontal":
        return as_layer_kernel(vertical.T)
    raise ValueError(f"edge: orientation must be 'vertical' or 'horizontal'; received {orientation!r}")


def gabor(theta: float, sigma: float, wavelength: float, gamma: float = 0.5, phase: float = 0.0,
          size: int | None = None) -> Kernel:
    """The real part of a Gabor filter, scikit-image's gabor_kernel formula in OpenCV's parameters:

        x' =  x cos(theta) + y sin(theta),   y' = -x sin(theta) + y cos(theta)
        sigma_x = sigma,  sigma_y = sigma / gamma
        g(y, x) = exp(-(x'^2 / sigma_x^2 + y'^2 / sigma_y^2) / 2) / (2 pi sigma_x sigma_y)
                  * cos(2 pi x' / wavelength + phase)

    (skimage.filters.gabor_kernel(frequency=1 / wavelength, theta, sigma_x=sigma, sigma_y=sigma / gamma,
    offset=phase).real). x runs along the columns, y down the rows. The wave travels along direction theta
    (theta = 0: stripes are vertical, so the filter answers vertical structures); gamma < 1 stretches the
    envelope along the stripes.

    size None: skimage's extent of 3 standard deviations, x in [-x0, x0] and y in [-y0, y0] with
    x0 = ceil(max(|3 sigma_x cos theta|, |3 sigma_y sin theta|, 1)), y0 = ceil(max(|3 sigma_y cos theta|,
    |3 sigma_x sin theta|, 1)), a (2 y0 + 1, 2 x0 + 1) kernel; an odd int gives a size x size kernel.
    """
    for argument, value in (("sigma", sigma), ("wavelength", wavelength), ("gamma", gamma)):
        if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0):
            raise ValueError(f"gabor: {argument} must be a positive number; received {value!r}")
    for argument, value in (("theta", theta), ("phase", phase)):
        if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)):
            raise ValueError(f"gabor: {argument} must be an angle in radians; received {value!r}")
    sigma_x, sigma_y = float(sigma), float(sigma) / gamma
    cos, sin = math.cos(theta), math.sin(theta)
    if size is None:
        x0 = math.ceil(max(abs(GABOR_STDS * sigma_x * cos), abs(GABOR_STDS * sigma_y * sin), 1))
        y0 = math.ceil(max(abs(GABOR_STDS * sigma_y * cos), abs(GABOR_STDS * sigma_x * sin), 1))
    else:
        x0 = y0 = _odd_size("gabor", size) // 2
    y, x = np.meshgrid(np.arange(-y0, y0 + 1.0), np.arange(-x0, x0 + 1.0), indexing="ij")
    rotated_x = x * cos + y * sin
    rotated_y = -x * sin + y * cos
    envelope = np.exp(-0.5 * (rotated_x ** 2 / sigma_x ** 2 + rotated_y ** 2 / sigma_y ** 2))
    envelope /= 2 * np.pi * sigma_x * sigma_y
    return as_layer_kernel(envelope * np.cos(2 * np.pi * rotated_x / wavelength + phase))


def gabor_bank(orientations: int = 4, scales: int = 2, wavelength: float = 4.0, gamma: float = 0.5) -> Kernel:
    """`orientations` x `scales` Gabor filters as one bank (kh, kw, 1, orientations * scales).

    Filter s * orientations + o has theta = pi o / orientations and wavelength `wavelength` * 2^s, with
    sigma = 0.56 wavelength (a bandwidth of one octave, skimage's default). All share the size of the largest
    filter's 3-standard-deviation extent (a square, so every orientation fits).
    """
    for argument, value in (("orientations", orientations), ("scales", scales)):
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise ValueError(f"gabor_bank: {argument} must be a positive int; received {value!r}")
    largest = wavelength * 2 ** (scales - 1)
    size = 2 * math.ceil(GABOR_STDS * GABOR_SIGMA_PER_WAVELENGTH * largest / gamma) + 1
    filters = [gabor(math.pi * o / orientations, GABOR_SIGMA_PER_WAVELENGTH * wavelength * 2 ** s,
                     wavelength * 2 ** s, gamma=gamma, size=size)
               for s in range(scales) for o in range(orientations)]
    return np.concatenate(filters, axis=3)


def _odd_size(function: str, size: int) -> int:
    if not (isinstance(size, int) and not isinstance(size, bool) and size >= 1 and size % 2 == 1):
        raise ValueError(f"{function}: size must be an odd positive int (the kernel has a centre cell); "
                         f"received {size!r}")
    return size


# name -> (the kernel, one line for the listing); parameters chosen to show well on a 300 x 451 photograph
REGISTRY: dict[str, tuple[Callable[[], Kernel], str]] = {
    "sobel-x": (lambda: sobel("x"), "Sobel derivative across the columns: vertical edges"),
    "sobel-y": (lambda: sobel("y"), "Sobel derivative down the rows: horizontal edges"),
    "scharr-x": (lambda: scharr("x"), "Scharr derivative across the columns"),
    "scharr-y": (lambda: scharr("y"), "Scharr derivative down the rows"),
    "prewitt-x": (lambda: prewitt("x"), "Prewitt derivative across the columns"),
    "prewitt-y": (lambda: prewitt("y"), "Prewitt derivative down the rows"),
    "laplacian": (laplacian, "4-neighbour Laplacian"),
    "box-blur": (lambda: box_blur(5), "5x5 mean"),
    "gaussian": (lambda: gaussian(2.0), "Gaussian blur, sigma 2 pixels (17x17)"),
    "sharpen": (sharpen, "the lectures' sharpen kernel"),
    "emboss": (emboss, "emboss (diagonal relief)"),
    "edge-vertical": (lambda: edge("vertical"), "the lectures' vertical edge detector"),
    "edge-horizontal": (lambda: edge("horizontal"), "the lectures' horizontal edge detector"),
    "gabor": (lambda: gabor(0.0, 2.5, 4.0), "Gabor, theta 0 (vertical stripes), sigma 2.5, wavelength 4"),
}


def names() -> list[str]:
    """The names `by_name` knows, in the registry's order."""
    return list(REGISTRY)


def by_name(name: str) -> Kernel:
    """The kernel (kh, kw, 1, 1) registered as `name` ("sobel-x", "gaussian", ...)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown filter {name!r}; known filters: {', '.join(REGISTRY)}")
    return REGISTRY[name][0]()
