"""Models out of striate, under the names users look for: `striate.export.to_torch_state_dict(model)` (arrays
under torchvision's names and layouts), `save_torch_state_dict(model, path)` (the same as safetensors) and
`export_onnx(model, path)` (`model.export(path, format="onnx")`). The work is done in striate.interchange."""

from striate.interchange import export_onnx, save_torch_state_dict, to_torch_state_dict

__all__ = ["export_onnx", "save_torch_state_dict", "to_torch_state_dict"]
