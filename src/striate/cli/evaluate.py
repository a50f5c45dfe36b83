"""`striate evaluate DIR`: accuracy, misclassification rate, confusion matrix and per-class report of a trained
model on its data set's test images (for a run trained on a folder, on its --test-data folder)."""

import json
import os

import striate
from striate.cli import CommandError
from striate.cli.report import print_report
from striate.cli.train import load_dataset, load_test_folder


def add_arguments(parser):
    parser.add_argument("directory", help="a folder written by `striate train`")


def run(arguments):
    model_path = os.path.join(arguments.directory, "model.safetensors")
    record_path = os.path.join(arguments.directory, "run.json")
    for path in (model_path, record_path):
        if not os.path.exists(path):
            raise CommandError(f"{path} does not exist (train with `striate train MODEL --out DIR` first)")
    try:
        with open(record_path) as file:
            record = json.load(file)
    except json.JSONDecodeError as error:
        raise CommandError(f"{record_path} is not valid JSON: {error}") from None
    model = striate.load_model(model_path)
    if record.get("dataset") == "folder":
        if not record.get("test_data"):
            raise CommandError(f"{arguments.directory} was trained on the folder {record.get('data')} without "
                               "--test-data: it has no test images to evaluate on")
        print(f"{record.get('model', '?')} trained {model.epochs_trained} epochs on {record.get('data')}")
        test = load_test_folder(record["test_data"], record["class_names"], record["image_size"], record["color_mode"])
        print_report(model, test, class_names=record["class_names"])
        return 0
    _, (x_test, y_test) = load_dataset(record.get("dataset", "mnist"))
    print(f"{record.get('model', '?')} trained {model.epochs_trained} epochs on {record.get('dataset', 'mnist')}")
    print_report(model, x_test, y_test)
    return 0
