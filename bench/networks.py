"""Ten network families, training step, batch-1 latency and batched inference: striate against PyTorch CPU.

Run it as

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/networks.py --threads 2

(these machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which halve OpenBLAS's speed; the library itself never
reads or changes environment variables). Options: --threads N (both libraries, default 2), --repeats R (rounds,
default 7; ResNet-18 takes --large-repeats, default 3), --networks a,b (names from NETWORKS).

The networks (striate functional models; PyTorch runs the same graph, `torch_mirror.mirror`, with striate's
weights copied in, and the outputs are checked to agree before anything is timed):

    ResNet-20        32x32x3, batch 64: 3 stages of 3 basic blocks (16, 32, 64 filters), batch norm, residual adds
    MobileNet stack  32x32x3, batch 64: conv 32, then 5 blocks of depthwise 3x3 + BN + relu, pointwise + BN + relu
    LeNet relu       28x28x1, batch 128: conv 6@5x5 padding 2, relu, max pool, conv 16@5x5, relu, max pool, 3 dense
    autoencoder      28x28x1, batch 128: two stride-2 convs (32, 64), two stride-2 Conv2DTranspose (32, 1), MSE
    text CNN         200 tokens, batch 64: embedding 64, three Conv1D 128 x3 (relu) with max pooling, dense
    DenseNet         32x32x3, batch 64: two dense blocks of four BN-relu-1x1-BN-relu-3x3 layers, concatenations
    U-Net            32x32x3, batch 32: two levels down and up, Conv2DTranspose, skip concatenations, MSE
    VGG              32x32x3, batch 64: three stages of two 3x3 convs + relu and max pooling, two dense
    MBConv           32x32x3, batch 64: EfficientNet-style 1x1 expansion, 5x5 depthwise, 1x1 projection, swish
    ResNet-18        224x224x3, batch 8: striate.models.resnet18; inference at batch 32 (not 256: the shared
                     machine's memory and time)

Rows: "train" is one `train_on_batch` (forward in training mode, the loss, backward, one Adam update; PyTorch the
same with torch.optim.Adam, eps 1e-7); "batch 1" and "batch 256" are `model.predict(x, batch_size=len(x),
verbose=0)` against PyTorch's eval mode under `torch.inference_mode()`. PyTorch runs in NCHW and in
channels_last, and the ratio is striate over the faster of the two (1-D networks: NCHW only).

Both libraries run in this one process at the same thread count (torch.set_num_threads(N),
striate.set_num_threads(N)). The machine may be shared, so each row's contenders run interleaved: round after round,
each once per round after a short rest and one untimed run (`machine.PAUSE`; the batch-1 rows, the shortest, take
SHORT_ROW_ROUNDS times the rounds); the table gives each contender's median over the rounds, the ratio of those
medians, and "per round" the lowest and highest ratio within one round (striate over that round's faster layout):
how far the row moves with the machine's load. The load average is printed at start and end.
"""

import argparse
import gc
import math
import statistics

import numpy as np
import torch
from machine import print_machine, print_summary, round_ms
from torch_mirror import mirror

import striate
from striate import layers as L
from striate.models import Input, Model, resnet18
from striate.models.resnet import conv_bn, residual_block


def resnet20():
    """He et al.'s CIFAR ResNet-20: conv 16, three stages of three basic blocks (projection shortcuts)."""
    inputs = Input((32, 32, 3))
    x = conv_bn(inputs, 16, 3, padding=1, name="stem")
    for stage, filters in enumerate((16, 32, 64)):
        for index in range(3):
            x = residual_block(x, filters, 2 if stage and not index else 1, name=f"stage{stage}_block{index}")
    x = L.GlobalAveragePooling2D()(x)
    return Model(inputs, L.Dense(10, activation="softmax")(x), name="resnet20")


def mobilenet_stack():
    """A MobileNet-style stack: conv 32, then depthwise 3x3 + BN + relu, pointwise 1x1 + BN + relu blocks."""
    inputs = Input((32, 32, 3))
    x = L.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = L.Activation("relu")(L.BatchNormalization()(x))
    for filters, strides in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1)):
        x = L.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x)
        x = L.Activation("relu")(L.BatchNormalization()(x))
        x = L.Conv2D(filters, 1, use_bias=False)(x)
        x = L.Activation("relu")(L.BatchNormalization()(x))
    x = L.GlobalAveragePooling2D()(x)
    return Model(inputs, L.Dense(10, activation="softmax")(x), name="mobilenet_stack")


def lenet_relu():
    inputs = Input((28, 28, 1))
    x = L.MaxPooling2D(2)(L.Conv2D(6, 5, padding=2, activation="relu")(inputs))
    x = L.MaxPooling2D(2)(L.Conv2D(16, 5, activation="relu")(x))
    x = L.Dense(84, activation="relu")(L.Dense(120, activation="relu")(L.Flatten()(x)))
    return Model(inputs, L.Dense(10, activation="softmax")(x), name="lenet_relu")


def autoencoder():
    inputs = Input((28, 28, 1))
    x = L.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = L.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = L.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    outputs = L.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(x)
    return Model(inputs, outputs, name="autoencoder")


VOCABULARY = 5000


def text_cnn():
    inputs = Input((200,))
    x = L.Embedding(VOCABULARY, 64)(inputs)
    x = L.MaxPooling1D(2)(L.Conv1D(128, 3, activation="relu")(x))
    x = L.MaxPooling1D(2)(L.Conv1D(128, 3, activation="relu")(x))
    x = L.Conv1D(128, 3, activation="relu")(x)
    return Model(inputs, L.Dense(10, activation="softmax")(L.Flatten()(x)), name="text_cnn")


def densenet():
    """A DenseNet-style network: two dense blocks of four bottleneck layers (BN, relu, 1x1 conv 48, BN, relu, 3x3 conv
    12), each layer's output concatenated to its input, a transition (BN, relu, 1x1 conv 36, 2x2 average pooling)
    between them."""
    inputs = Input((32, 32, 3))
    x = L.Conv2D(24, 3, padding="same", use_bias=False)(inputs)
    for block in range(2):
        for _ in range(4):
            y = L.Conv2D(48, 1, use_bias=False)(L.Activation("relu")(L.BatchNormalization()(x)))
            y = L.Conv2D(12, 3, padding="same", use_bias=False)(L.Activation("relu")(L.BatchNormalization()(y)))
            x = L.Concatenate()([x, y])
        if block == 0:
            x = L.Conv2D(36, 1, use_bias=False)(L.Activation("relu")(L.BatchNormalization()(x)))
            x = L.AveragePooling2D(2)(x)
    x = L.GlobalAveragePooling2D()(L.Activation("relu")(L.BatchNormalization()(x)))
    return Model(inputs, L.Dense(10, activation="softmax")(x), name="densenet")


def unet():
    """A small U-Net: two levels down (3x3 conv + relu, max pooling), a bottleneck, two levels up (2x2 stride-2
    Conv2DTranspose, concatenated with the skip connection, 3x3 conv + relu), a 1x1 sigmoid output."""
    inputs = Input((32, 32, 3))
    down1 = L.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    down2 = L.Conv2D(32, 3, padding="same", activation="relu")(L.MaxPooling2D(2)(down1))
    x = L.Conv2D(64, 3, padding="same", activation="relu")(L.MaxPooling2D(2)(down2))
    x = L.Concatenate()([L.Conv2DTranspose(32, 2, strides=2)(x), down2])
    x = L.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = L.Concatenate()([L.Conv2DTranspose(16, 2, strides=2)(x), down1])
    x = L.Conv2D(16, 3, padding="same", activation="relu")(x)
    return Model(inputs, L.Conv2D(3, 1, activation="sigmoid")(x), name="unet")


def vgg():
    """A VGG-style stack: three stages of two 3x3 convs + relu (32, 64, 128 filters) and max pooling, two dense."""
    inputs = Input((32, 32, 3))
    x = inputs
    for filters in (32, 64, 128):
        x = L.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = L.MaxPooling2D(2)(L.Conv2D(filters, 3, padding="same", activation="relu")(x))
    x = L.Dense(128, activation="relu")(L.Flatten()(x))
    return Model(inputs, L.Dense(10, activation="softmax")(x), name="vgg")


def mbconv():
    """EfficientNet-style inverted residual blocks without squeeze-and-excitation: 1x1 expansion x4 + BN + swish,
    5x5 depthwise + BN + swish, 1x1 projection + BN, a residual add where the shape allows."""
    inputs = Input((32, 32, 3))
    x = L.Activation("swish")(L.BatchNormalization()(L.Conv2D(16, 3, padding="same", use_bias=False)(inputs)))
    for channels, strides in ((16, 1), (24, 2), (24, 1), (40, 2), (40, 1)):
        y = L.Conv2D(4 * x.shape[-1], 1, use_bias=False)(x)
        y = L.Activation("swish")(L.BatchNormalization()(y))
        y = L.DepthwiseConv2D(5, strides=strides, padding="same", use_bias=False)(y)
        y = L.Activation("swish")(L.BatchNormalization()(y))
        y = L.BatchNormalization()(L.Conv2D(channels, 1, use_bias=False)(y))
        x = L.Add()([x, y]) if strides == 1 and channels == x.shape[-1] else y
    x = L.GlobalAveragePooling2D()(x)
    return Model(inputs, L.Dense(10, activation="softmax")(x), name="mbconv")


def images(shape):
    return lambda rng, n: rng.random((n, *shape), dtype=np.float32)


def tokens(rng, n):
    return rng.integers(1, VOCABULARY, (n, 200)).astype(np.float32)


# name: (build, inputs(rng, n), training batch, inference batch, loss, 2-D images)
NETWORKS = {
    "ResNet-20": (resnet20, images((32, 32, 3)), 64, 256, "classes", True),
    "MobileNet stack": (mobilenet_stack, images((32, 32, 3)), 64, 256, "classes", True),
    "LeNet relu": (lenet_relu, images((28, 28, 1)), 128, 256, "classes", True),
    "autoencoder": (autoencoder, images((28, 28, 1)), 128, 256, "mse", True),
    "text CNN": (text_cnn, tokens, 64, 256, "classes", False),
    "DenseNet": (densenet, images((32, 32, 3)), 64, 256, "classes", True),
    "U-Net": (unet, images((32, 32, 3)), 32, 256, "mse", True),
    "VGG": (vgg, images((32, 32, 3)), 64, 256, "classes", True),
    "MBConv": (mbconv, images((32, 32, 3)), 64, 256, "classes", True),
    "ResNet-18": (lambda: resnet18(input_shape=(224, 224, 3)), images((224, 224, 3)), 8, 32, "classes", True),
}
LARGE = {"ResNet-18"}
SHORT_ROW_ROUNDS = 3  # the batch-1 rows (under a millisecond for most networks: one busy moment spoils a whole
# run) take this many times the rounds


def to_torch(x, memory_format, is_image):
    if not is_image:
        return torch.from_numpy(x.astype(np.int64))
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(memory_format=memory_format)


def torch_target(y, loss):
    return torch.from_numpy(y.transpose(0, 3, 1, 2).copy()) if loss == "mse" else torch.from_numpy(y.astype(np.int64))


def striate_functions(model, loss, x_train, y_train, x_one, x_many):
    model.compile(striate.optimizers.Adam(), "mse" if loss == "mse" else "sparse_categorical_crossentropy")
    return {"train": lambda: model.train_on_batch(x_train, y_train),
            "batch 1": lambda: model.predict(x_one, batch_size=1, verbose=0),
            "batch N": lambda: model.predict(x_many, batch_size=len(x_many), verbose=0)}


def torch_functions(module, loss, x_train, y_train, x_one, x_many, memory_format, is_image):
    module = module.to(memory_format=memory_format) if is_image else module
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, eps=1e-7)
    images, target = to_torch(x_train, memory_format, is_image), torch_target(y_train, loss)
    one, many = to_torch(x_one, memory_format, is_image), to_torch(x_many, memory_format, is_image)

    def train():
        module.train()
        optimizer.zero_grad(set_to_none=True)
        output = module(images)
        if loss == "mse":
            value = torch.nn.functional.mse_loss(output, target)
        else:  # Keras' cross-entropy on probabilities: clip to [eps, 1 - eps], the mean negative log
            value = torch.nn.functional.nll_loss(output.clamp(1e-7, 1 - 1e-7).log(), target)
        value.backward()
        optimizer.step()
        return value.item()

    def infer(x):
        module.eval()
        with torch.inference_mode():
            return module(x)

    return {"train": train, "batch 1": lambda: infer(one), "batch N": lambda: infer(many)}


def check_same_outputs(name, model, module, x, is_image):
    """striate's predict and the torch mirror's eval output agree (the two run the same network)."""
    expected = model.predict(x, batch_size=len(x), verbose=0)
    module.eval()
    with torch.no_grad():
        got = module(to_torch(x, torch.contiguous_format, is_image)).numpy()
    if got.ndim == 4:
        got = got.transpose(0, 2, 3, 1)
    error = np.abs(got - expected).max()
    if not error <= 1e-4 + 1e-3 * np.abs(expected).max():
        raise AssertionError(f"{name}: striate and the torch mirror differ by {error:.3g} (outputs up to "
                             f"{np.abs(expected).max():.3g}); they do not run the same network")


def seeded_network(name):
    """(model, rng): network `name` of NETWORKS built with striate's and PyTorch's seeds at 0, and the generator
    its data is drawn from."""
    rng = np.random.default_rng(0)
    striate.set_random_seed(0)
    model = NETWORKS[name][0]()
    torch.manual_seed(0)
    return model, rng


def network_data(name, model, rng):
    """(x_train, y_train, x_one, x_many): a training batch, one image and an inference batch for network `name`."""
    _, make_inputs, batch, inference_batch, loss, _ = NETWORKS[name]
    x_train, x_one, x_many = make_inputs(rng, batch), make_inputs(rng, 1), make_inputs(rng, inference_batch)
    y_train = x_train if loss == "mse" else rng.integers(0, model.output_shape[-1], batch)
    return x_train, y_train, x_one, x_many


def bench_network(name, repeats):
    _, make_inputs, _, inference_batch, loss, is_image = NETWORKS[name]
    model, rng = seeded_network(name)
    modules = {"NCHW": mirror(model)}
    if is_image:
        modules["channels_last"] = mirror(model)
    check_same_outputs(name, model, modules["NCHW"], make_inputs(rng, 4), is_image)
    x_train, y_train, x_one, x_many = network_data(name, model, rng)
    contenders = {"striate": striate_functions(model, loss, x_train, y_train, x_one, x_many)}
    for layout, module in modules.items():
        memory_format = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        contenders[layout] = torch_functions(module, loss, x_train, y_train, x_one, x_many, memory_format, is_image)
    rows = {}
    for row in ("train", "batch 1", "batch N"):
        gc.collect()  # the previous networks' garbage, collected now rather than inside a timed run
        rounds = round_ms({who: functions[row] for who, functions in contenders.items()},
                          repeats * (SHORT_ROW_ROUNDS if row == "batch 1" else 1))
        times = {who: statistics.median(values) for who, values in rounds.items()}
        fastest_torch = min(times[layout] for layout in modules)
        label = f"batch {inference_batch}" if row == "batch N" else row
        rows[label] = times["striate"] / fastest_torch
        # the ratio within each round (striate over that round's faster layout): how far a row moves with the load
        per_round = sorted(striate / min(rounds[layout][index] for layout in modules)
                           for index, striate in enumerate(rounds["striate"]))
        print(f"{name:<16} {label:<10} {times['striate']:>10.2f} {times['NCHW']:>10.2f} "
              f"{times.get('channels_last', math.nan):>10.2f} {rows[label]:>6.2f} "
              f"{per_round[0]:>5.2f}-{per_round[-1]:.2f}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--large-repeats", type=int, default=3)
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated names from NETWORKS")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    striate.set_num_threads(options.threads)
    print_machine(options.threads, f"median of {options.repeats} interleaved rounds ({options.large_repeats} for "
                                   f"{', '.join(LARGE)}; batch-1 rows {SHORT_ROW_ROUNDS}x)")
    header = (f"{'network':<16} {'row':<10} {'striate ms':>10} {'NCHW ms':>10} {'CL ms':>10} {'ratio':>6} "
              f"{'per round':>11}")
    print(header)
    print("-" * len(header))
    table = {}
    for name in options.networks.split(","):
        repeats = options.large_repeats if name in LARGE else options.repeats
        table[name] = bench_network(name, repeats)
    print(f"\nratio striate / best PyTorch layout, {options.threads} thread(s):")
    print("| network | training step | batch-1 latency | batched inference |\n|---|---:|---:|---:|")
    for name, rows in table.items():
        cells = " | ".join(f"{ratio:.2f}" + ("" if label in ("train", "batch 1", "batch 256") else f" ({label})")
                           for label, ratio in rows.items())
        print(f"| {name} | {cells} |")
    print_summary([ratio for rows in table.values() for ratio in rows.values()], "rows", options.threads)


if __name__ == "__main__":
    main()
