"""The `onnx` package, imported only when a model is exported or imported (an optional dependency).

    pip install onnx            # or: pip install striate[onnx]

OPSET is the operator set striate writes (17: LayerNormalization's year; every operator striate uses has its
current form there: Softmax on one axis, Squeeze / Unsqueeze / Pad taking their axes and pads as inputs).
"""

import importlib

OPSET = 17


def require_onnx(caller):
    """The `onnx` module, or ModuleNotFoundError naming `caller` and how to install it."""
    try:
        return importlib.import_module("onnx")
    except ModuleNotFoundError:
        raise ModuleNotFoundError(f"{caller} needs the onnx package, which is not installed: pip install onnx "
                                  "(or pip install 'striate[onnx]')") from None
