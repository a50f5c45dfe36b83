"""striate: convolutional neural networks in plain NumPy, every operation in the open.

    import striate
    import striate.functional as F
    x = striate.Tensor(image, requires_grad=True)     # (N, H, W, C), channels-last
    y = F.conv2d(x, kernel, padding="same")            # kernel (kh, kw, C_in, C_out)
"""

from striate.core import Tensor, no_grad

__version__ = "0.1.0"
__all__ = ["Tensor", "no_grad"]
