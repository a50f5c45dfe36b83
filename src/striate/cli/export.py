"""`striate export DIR --format onnx --out model.onnx`: a trained model written for another runtime.

The ONNX file (opset 17) takes the model's input channels-last, (N, H, W, C), as striate does; ONNX Runtime
runs it: `onnxruntime.InferenceSession("model.onnx").run(None, {"input": x})`. Needs the onnx package.
"""

import os

import striate
from striate.cli import CommandError

FORMATS = ("onnx",)


def add_arguments(parser):
    parser.add_argument("directory", help="a folder written by `striate train`")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="the file format (default: onnx)")
    parser.add_argument("--out", default=None, help="the file to write (default: DIR/model.onnx)")


def run(arguments):
    model_path = os.path.join(arguments.directory, "model.safetensors")
    if not os.path.exists(model_path):
        raise CommandError(f"{model_path} does not exist (train with `striate train MODEL --out DIR` first)")
    out = arguments.out or os.path.join(arguments.directory, f"model.{arguments.format}")
    model = striate.load_model(model_path)
    model.export(out, format=arguments.format)
    print(f"wrote {out} ({arguments.format}, input named 'input', channels-last as striate's; "
          f"{os.path.getsize(out):,} bytes)")
    return 0
