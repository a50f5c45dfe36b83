"""striate.distributed in one process, without mpiexec: the shard arithmetic, the gradient buckets, an image
folder read in parts, and fit(distributed=True), which must be plain fit when the world is one process (also
when mpi4py cannot be imported)."""

import sys
import warnings

import numpy as np
import pytest
from PIL import Image

import striate
from striate import Tensor, distributed
from striate import layers as L
from striate.data.image_folder import image_dataset_from_directory
from striate.distributed import world
from striate.distributed.buckets import GradientBuckets


@pytest.mark.parametrize(("total", "size", "expected"), [
    (10, 3, [(0, 4), (4, 7), (7, 10)]),
    (12, 4, [(0, 3), (3, 6), (6, 9), (9, 12)]),
    (2, 3, [(0, 1), (1, 2), (2, 2)]),            # a batch smaller than the job: rank 2 gets nothing
    (0, 2, [(0, 0), (0, 0)]),
])
def test_shards_are_contiguous_and_the_first_total_mod_size_ranks_take_one_more(total, size, expected):
    assert [distributed.shard_bounds(total, rank, size) for rank in range(size)] == expected


def test_shard_bounds_refuses_a_rank_outside_the_job():
    with pytest.raises(ValueError, match=r"shard_bounds: rank must be in \[0, size\); received rank=3, size=3"):
        distributed.shard_bounds(10, 3, 3)


def test_buckets_split_by_size_and_dtype_and_divide_by_the_samples():
    parameters = [Tensor(np.zeros((3, 4), np.float32)), Tensor(np.zeros(5, np.float32)),
                  Tensor(np.zeros(2, np.float64)), Tensor(np.zeros((2, 2), np.float64))]
    gradients = [np.arange(12, dtype=np.float32).reshape(3, 4), None, np.array([3.0, -6.0]), np.full((2, 2), 9.0)]
    for parameter, gradient in zip(parameters, gradients):
        parameter.grad = gradient
    buckets = GradientBuckets(parameters, bucket_bytes=60)  # 1 count + 12 float32 fill 52 bytes: 5 more go on
    assert [(bucket.size, bucket.dtype) for bucket in buckets.buckets] == [
        (13, np.float32), (5, np.float32), (6, np.float64)]
    assert buckets.average(parameters, 3) == 3    # one process: the sum over ranks is its own
    expected = [np.arange(12).reshape(3, 4) / 3, np.zeros(5), np.array([1.0, -2.0]), np.full((2, 2), 3.0)]
    for parameter, values in zip(parameters, expected):
        np.testing.assert_allclose(parameter.grad, values, rtol=1e-7)
        assert parameter.grad.dtype == parameter.data.dtype and parameter.grad.shape == parameter.data.shape


@pytest.fixture
def seven_images(tmp_path):
    """7 PNGs of 2x2 pixels, image i all of value 10 i, labels 0 ... 6 in file order; 02.png is damaged."""
    for index in range(7):
        Image.fromarray(np.full((2, 2), 10 * index, np.uint8)).save(tmp_path / f"{index:02d}.png")
    (tmp_path / "02.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return tmp_path


def parts_of_a_pass(folder, count, index, shuffle):
    dataset = image_dataset_from_directory(folder, labels=list(range(7)), batch_size=4, image_size=(2, 2),
                                           color_mode="grayscale", shuffle=shuffle, seed=5, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(images[..., 0, 0, 0].tolist(), labels.tolist())
                for images, labels in dataset.shard_batches(count, index)]


def test_an_image_folder_gives_each_rank_its_part_of_every_batch_and_drops_unreadable_files(seven_images):
    # batches of files [0 1 2 3] and [4 5 6], each cut in 3 parts; file 2 cannot be read
    parts = [parts_of_a_pass(seven_images, 3, rank, shuffle=False) for rank in range(3)]
    assert [[labels for _, labels in rank] for rank in parts] == [[[0, 1], [4]], [[], [5]], [[3], [6]]]
    assert parts[0][0][0] == [0.0, 10.0] and parts[2][1][0] == [60.0]


def test_shuffled_parts_put_together_are_the_batches_of_the_whole_dataset(seven_images):
    Image.fromarray(np.full((2, 2), 20, np.uint8)).save(seven_images / "02.png")  # readable again
    whole = image_dataset_from_directory(seven_images, labels=list(range(7)), batch_size=4, image_size=(2, 2),
                                         color_mode="grayscale", seed=5, verbose=False)
    expected = [labels.tolist() for _, labels in whole]
    parts = [parts_of_a_pass(seven_images, 2, rank, shuffle=True) for rank in range(2)]
    assert expected != [[0, 1, 2, 3], [4, 5, 6]]  # shuffled
    assert [parts[0][batch][1] + parts[1][batch][1] for batch in range(2)] == expected


def small_run(distributed_option):
    striate.set_random_seed(0)
    model = striate.Sequential([L.Conv2D(3, 3, activation="relu", input_shape=(5, 5, 1)), L.Flatten(),
                                L.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 5, 5, 1)).astype(np.float32), rng.integers(0, 2, 48)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x[:8], y[:8]),
                        distributed=distributed_option)
    return [w.data.copy() for w in model.weights], history.history


@pytest.mark.parametrize("mpi", ["mpi4py", "no mpi4py"])
def test_in_one_process_distributed_fit_is_plain_fit_bit_for_bit(mpi, monkeypatch):
    # batches of 16 samples: the loss times 16, then the gradient over 16, are exact in binary floating point
    monkeypatch.setattr(world, "_world", None)
    if mpi == "no mpi4py":
        monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py raises ImportError
    expected_weights, expected_history = small_run(False)
    weights, history = small_run(distributed.DataParallel(check_weights_every=1))
    assert world.init() == (0, 1) and distributed.is_main()
    for actual, expected in zip(weights, expected_weights, strict=True):
        np.testing.assert_array_equal(actual, expected)
    assert history.keys() == expected_history.keys()
    for key, values in expected_history.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-12, err_msg=key)


def test_synchronized_batch_normalization_keeps_its_setting_in_the_config():
    layer = L.BatchNormalization(synchronized=True)
    assert layer.get_config()["synchronized"] is True
    assert L.BatchNormalization(**{k: v for k, v in layer.get_config().items() if k != "trainable"}).synchronized
    assert L.BatchNormalization().get_config()["synchronized"] is False


def test_fit_refuses_an_unknown_distributed_option():
    model = striate.Sequential([L.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"fit: distributed must be True, False or a striate.distributed."
                                         r"DataParallel; received 'yes'"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), distributed="yes", verbose=0)

