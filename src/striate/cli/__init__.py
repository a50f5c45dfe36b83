"""The `striate` command line: one module per command in this package, registered in COMMANDS.

Each command module provides `add_arguments(parser)` and `run(arguments) -> int`. Errors a user can cause
(an unknown model, a missing or corrupt file, a wrong image size: CommandError, ValueError such as
striate.FileFormatError, OSError) print their message, one line naming the file or argument, with exit
status 2 and no traceback (a ShapeError adds the chain of shapes that failed). Any other
exception is a bug: it is printed with its traceback and a request to report it, exit status 1.
"""

import argparse
import importlib
import sys
import traceback

# command name -> (module in striate.cli, one-line help)
COMMANDS = {
    "tour": ("tour", "compute the lectures' worked examples and print them"),
    "summary": ("summary", "print a network's layers, output shapes and parameters"),
    "plan": ("plan", "print a network's arithmetic: shapes, padding, parameters, MACs, FLOPs, memory, receptive field"),
    "train": ("train", "train a model on MNIST or a folder of images, checkpoint every epoch, report test accuracy"),
    "evaluate": ("evaluate", "accuracy, confusion matrix and per-class report of a trained model"),
    "predict": ("predict", "the digit a trained model sees in an image"),
    "filter": ("filter", "filter an image with a classic kernel (sobel-x, gaussian, gabor, ...) and write a PNG"),
    "show": ("show", "draw a trained model: filters, feature maps, saliency, occlusion, history, predictions"),
    "explore": ("explore", "a local web page that shows a trained model at work: draw, predict, maps, arithmetic"),
    "export": ("export", "write a trained model as ONNX (opset 17, channels-last input) for ONNX Runtime"),
    "example": ("example", "train one of the examples (speech, text, trees, ...) and print its held-out accuracy"),
}


class CommandError(Exception):
    """A user error: printed as `striate: <message>` with exit status 2."""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="striate", description="Convolutional networks in plain NumPy.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(f"striate.cli.{module_name}")
        module.add_arguments(subparsers.add_parser(name, help=help_text, description=help_text))
        modules[name] = module
    arguments = parser.parse_args(argv)
    try:
        return modules[arguments.command].run(arguments)
    except (CommandError, ValueError, OSError, ModuleNotFoundError) as error:
        # a user's error (a bad argument, a missing or malformed file, a full disk): its message, no traceback
        print(f"striate {arguments.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"striate {arguments.command}: interrupted", file=sys.stderr)
        return 130
    except Exception:
        # anything else is a bug in striate: show where it happened, and ask for it
        traceback.print_exc()
        print(f"striate {arguments.command}: this is a bug in striate, not a mistake of yours. Please report it "
              "with the command you ran and the traceback above.", file=sys.stderr)
        return 1
