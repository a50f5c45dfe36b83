"""striate example transfer: the crops come from where they should (held-out pixels never trained on), the photos
are shrunk by box means, freezing keeps exactly the frozen weights (batch-norm statistics included), and the
reduced run goes through the command line."""

import importlib

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import striate
from striate import images
from striate.cli import main

transfer = importlib.import_module("striate.examples.transfer")


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_crops_lie_within_their_columns_so_held_out_pixels_are_never_trained_on():
    # a photo whose red channel is its column index: a crop's red values are the columns it covers
    columns = np.broadcast_to(np.arange(200, dtype=np.float32), (60, 200))
    photo = np.stack([columns, np.zeros_like(columns), np.zeros_like(columns)], axis=-1)
    rng = np.random.default_rng(0)
    x_train, y_train = transfer.crops([photo, photo], 50, transfer.TRAIN_COLUMNS, rng, size=16)
    x_held, y_held = transfer.crops([photo, photo], 50, transfer.HELD_OUT_COLUMNS, rng, size=16)
    assert x_train.shape == (100, 16, 16, 3) and y_train.tolist() == [0] * 50 + [1] * 50
    assert x_train[..., 0].min() >= 0 and x_train[..., 0].max() <= 0.7 * 200 - 1
    assert x_held[..., 0].min() >= 0.75 * 200 and x_held[..., 0].max() <= 199
    with pytest.raises(ValueError, match="hold no 16-pixel crop"):
        transfer.crops([photo[:, :20]], 1, (0.75, 1.0), rng, size=16)


def test_photos_are_shrunk_by_whole_box_means():
    photo = transfer.load_photo("astronaut")  # 512x512 -> factor 4 -> 128x128
    original = np.round(images.sample("astronaut", color_mode="rgb") * 255)
    boxes = original.reshape(128, 4, 128, 4, 3).mean(axis=(1, 3)) / 255
    assert photo.shape == (128, 128, 3)
    np.testing.assert_allclose(photo, boxes, atol=0.5 / 255 + 1e-6)


def weights_by_name(model):
    return {w.name: w.data.copy() for w in model.weights}


def changed(before, model):
    return {w.name for w in model.weights if not np.array_equal(before[w.name], w.data)}


def test_a_frozen_base_keeps_every_weight_and_statistic_and_then_only_the_last_blocks_kernels_train():
    striate.set_random_seed(0)
    base = transfer.small_resnet((16, 16, 3))
    model = transfer.with_head(base, 3, "target")
    rng = np.random.default_rng(1)
    data = (rng.random((8, 16, 16, 3), dtype=np.float32), np.arange(8) % 3)
    base.trainable = False
    before = weights_by_name(model)
    transfer.fit(model, 1e-2, data, 2, verbose=0)
    assert changed(before, model) == {"target_head/kernel", "target_head/bias"}

    transfer.unfreeze_last_block(base)
    before = weights_by_name(model)
    transfer.fit(model, 1e-2, data, 2, verbose=0)
    block3_kernels = {w.name for w in base.weights if w.name.startswith("block3_") and w.name.endswith("conv/kernel")}
    assert block3_kernels == {"block3_1_conv/kernel", "block3_2_conv/kernel", "block3_0_conv/kernel"}
    assert changed(before, model) == block3_kernels | {"target_head/kernel", "target_head/bias"}


def test_the_reduced_run_reports_held_out_accuracies_through_the_command_line(capsys):
    assert main(["example", "transfer", "--quick"]) == 0
    printed = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line)
    assert printed["pretraining_crops"] == "40" and printed["training_crops"] == "16"
    assert printed["held_out_crops"] == "16" and printed["chance"] == "0.2500"
    for key in ("held_out_accuracy_frozen_base_new_head", "held_out_accuracy_last_block_fine_tuned",
                "held_out_accuracy_from_scratch"):
        assert 0 <= float(printed[key]) <= 1
