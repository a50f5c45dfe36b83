"""`striate explore`: a local web page that shows a trained network at work.

Draw, upload or pick an input; see the class probabilities, every layer's feature maps with its shape,
parameters and multiplies (`striate.plan`), the filters, a saliency or occlusion overlay, and, for a clicked
cell of a feature map, the input region it sees and the arithmetic of its value (window, kernel, products,
sum, bias, activation). A "convolution arithmetic" tab shows output sizes and Dumoulin & Visin's pictures.

    explorer = Explorer.from_path("runs/mnist-cnn")     # a run folder or a .safetensors model file
    app = create_app(explorer)                           # a Starlette app; `striate explore` serves it

`Explorer` computes (JSON-ready dicts), `create_app` serves; `cell_arithmetic` writes out one value of a
convolution or pooling layer. The JSON API is documented in docs/explorer.md.
"""

from striate.explore.app import create_app
from striate.explore.cell import CellArithmetic, cell_arithmetic
from striate.explore.explorer import Explorer

__all__ = ["CellArithmetic", "Explorer", "cell_arithmetic", "create_app"]
