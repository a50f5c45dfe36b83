"""Models in and out of striate: ONNX (`export_onnx`, `load_onnx`) and PyTorch state dicts
(`to_torch_state_dict`, `save_torch_state_dict`). The `onnx` package is needed by the ONNX functions only, and
imported when one is called."""

from striate.interchange.onnx_export import export_onnx
from striate.interchange.onnx_import import load_onnx
from striate.interchange.torch_state_dict import save_torch_state_dict, to_torch_state_dict

__all__ = ["export_onnx", "load_onnx", "save_torch_state_dict", "to_torch_state_dict"]
