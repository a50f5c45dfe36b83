"""The lectures' demonstrations (striate example waldo / translation / depth / faces / learn_sobel): each measured
claim on a reduced run, the helpers against references written out here or scipy.ndimage, and each picture by
the arrays its panels draw. BLAS on one thread, as in test_examples_smoke.py."""

import importlib

import numpy as np
import pytest
import scipy.ndimage
from PIL import Image
from threadpoolctl import threadpool_limits

from striate.cli import main

waldo = importlib.import_module("striate.examples.waldo")
translation = importlib.import_module("striate.examples.translation")
depth = importlib.import_module("striate.examples.depth")
faces = importlib.import_module("striate.examples.faces")
learn_sobel = importlib.import_module("striate.examples.learn_sobel")

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def png_size(path):
    with Image.open(path) as image:
        return image.size


# ---- waldo ------------------------------------------------------------------------------------------------
def pearson_map(image, template):
    """The correlation coefficient of the template with every window, as a loop over windows."""
    h, w = template.shape
    out = np.zeros((image.shape[0] - h + 1, image.shape[1] - w + 1))
    t = template.ravel() - template.mean()
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            window = image[i : i + h, j : j + w].ravel()
            window = window - window.mean()
            out[i, j] = t @ window / (np.linalg.norm(t) * np.linalg.norm(window))
    return out


def test_normalized_cross_correlation_is_the_correlation_coefficient_of_each_window():
    rng = np.random.default_rng(1)
    image, template = rng.random((13, 17)), rng.random((4, 5))
    np.testing.assert_allclose(waldo.normalized_cross_correlation(image, template), pearson_map(image, template),
                               atol=1e-10)


def test_a_flat_window_scores_zero_and_an_affine_copy_scores_one():
    rng = np.random.default_rng(2)
    image, template = np.full((10, 10), 0.3), rng.random((3, 3))
    image[5:8, 2:5] = 0.5 * template + 0.2
    scores = waldo.normalized_cross_correlation(image, template)
    assert scores[0, 0] == 0.0
    assert scores[5, 2] == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("planted_at", [(40, 60), (300, 330), (470, 480)])
def test_the_best_match_is_where_the_patch_was_planted(tmp_path, planted_at):
    results = waldo.run(out=tmp_path, planted_at=planted_at)
    assert results["found_at"] == planted_at
    assert results["best_score"] > results["runner_up_score"] + 0.05
    assert results["plain_correlation_found_at"] != planted_at   # the unnormalised score finds bright regions
    assert png_size(tmp_path / "waldo.png") == (1500, 460)


def test_the_waldo_picture_draws_the_photo_the_template_and_both_maps():
    rng = np.random.default_rng(3)
    photo, template = rng.random((40, 50)), rng.random((6, 6))
    scores, plain = rng.random((35, 45)), rng.random((35, 45))
    fig = waldo.plot(photo, template, scores, plain, (3, 4))
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 4
    for drawn, array in zip(images, (photo, template, scores, plain)):
        np.testing.assert_array_equal(drawn, array)
    assert "planted at (3, 4)" in fig.axes[0].get_title()
    assert len(fig.axes[0].patches) == 3   # planted, found, plain-correlation boxes


# ---- translation ------------------------------------------------------------------------------------------
def test_shift_moves_digits_and_fills_with_zeros():
    images = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6) + 1
    for rows, columns in ((0, 2), (0, -3), (1, 0), (-2, 1)):
        expected = np.roll(images, (rows, columns), axis=(1, 2))
        if rows > 0:
            expected[:, :rows] = 0
        if rows < 0:
            expected[:, rows:] = 0
        if columns > 0:
            expected[:, :, :columns] = 0
        if columns < 0:
            expected[:, :, columns:] = 0
        np.testing.assert_array_equal(translation.shift(images, rows, columns), expected)


def test_cnns_are_less_sensitive_to_shifts_than_a_dense_net(tmp_path):
    results = translation.run(epochs=1, quick=True, verbose=0, out=tmp_path)
    assert results["dense_shift_0"] > 0.6                               # all three learned something
    assert results["cnn_shift_4"] > results["dense_shift_4"]
    assert results["cnn_global_pool_shift_4"] > results["dense_shift_4"] + 0.2
    assert (tmp_path / "translation.png").is_file()


def test_the_translation_picture_draws_each_curve_and_the_shifted_digit():
    curves = {"dense": np.linspace(0.9, 0.1, 7), "cnn": np.linspace(0.95, 0.5, 7)}
    digit = np.zeros((28, 28), np.float32)
    digit[10:18, 12:15] = 1
    fig = translation.plot(translation.SHIFTS, curves, digit)
    lines = fig.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), curves["dense"])
    np.testing.assert_array_equal(lines[1].get_ydata(), curves["cnn"])
    assert len(fig.axes) == 1 + 7
    for s, ax in zip(translation.SHIFTS, fig.axes[1:]):
        np.testing.assert_array_equal(ax.images[0].get_array(), np.roll(digit, s, axis=1))  # nothing reaches the edge
        assert ax.get_title() == f"shift {s}"


# ---- depth ------------------------------------------------------------------------------------------------
def test_plain_and_residual_networks_have_the_same_parameters():
    # stem: 3*3*1*16 + 2*16; a block: 2 * (3*3*16*16 + 2*16); classifier: 16*10 + 10
    expected = 176 + 3 * 4672 + 170
    for shortcut in (True, False):
        model = depth.network(3, shortcut)
        assert sum(w.size for w in model.trainable_weights) == expected
    assert depth.weight_layers(3) == 8


def test_at_the_largest_depth_the_residual_net_trains_to_a_lower_loss(tmp_path):
    results = depth.run(quick=True, out=tmp_path)
    deepest = depth.weight_layers(8)
    assert results[f"residual_{deepest}_layers_train_loss"] < results[f"plain_{deepest}_layers_train_loss"] - 0.3
    assert (tmp_path / "depth.png").is_file()


def test_the_depth_picture_draws_loss_and_accuracy_against_weight_layers():
    losses = {"plain": [0.5, 0.9], "residual": [0.4, 0.2]}
    accuracy = {"plain": [0.8, 0.6], "residual": [0.85, 0.9]}
    curves = {("plain", 2): [2, 1], ("residual", 2): [2, 0.8], ("plain", 6): [2, 1.5], ("residual", 6): [2, 0.5]}
    fig = depth.plot((2, 6), losses, accuracy, curves)
    assert len(fig.axes) == 3
    for ax, values in ((fig.axes[0], losses), (fig.axes[1], accuracy)):
        for line, kind in zip(ax.get_lines(), ("plain", "residual")):
            np.testing.assert_array_equal(line.get_xdata(), [6, 14])
            np.testing.assert_array_equal(line.get_ydata(), values[kind])
    assert len(fig.axes[2].get_lines()) == 4


# ---- faces ------------------------------------------------------------------------------------------------
def test_the_face_images_load_with_the_first_hundred_labelled_faces():
    pixels, labels = faces.load_faces()
    assert pixels.shape == (200, 25, 25) and 0 <= pixels.min() and pixels.max() <= 1
    np.testing.assert_array_equal(labels, [1] * 100 + [0] * 100)


def test_the_split_holds_out_25_of_each_class_and_nothing_twice():
    labels = np.array([1] * 100 + [0] * 100)
    train, held_out = faces.stratified_split(labels, 25, np.random.default_rng(0))
    assert len(train) == 150 and len(held_out) == 50
    assert labels[held_out].sum() == 25
    assert sorted(np.concatenate([train, held_out])) == list(range(200))


def test_a_small_cnn_tells_faces_from_other_things_on_held_out_images(tmp_path):
    results = faces.run(quick=True, out=tmp_path)
    assert results["held_out_images"] == 50
    assert results["held_out_accuracy"] >= 0.8    # chance: 0.5
    assert (tmp_path / "faces.png").is_file()


def test_the_faces_picture_titles_each_prediction_and_marks_errors_red():
    rng = np.random.default_rng(4)
    pictures = rng.random((12, 25, 25))
    labels = np.array([1] * 6 + [0] * 6)
    probability = np.where(labels == 1, 0.9, 0.1)
    probability[[2, 8]] = [0.2, 0.7]                     # a missed face, a false face
    fig = faces.plot(pictures, labels, probability)
    assert len(fig.axes) == 12
    np.testing.assert_array_equal(fig.axes[5].images[0].get_array(), pictures[5])
    red = [i for i, ax in enumerate(fig.axes) if ax.title.get_color() == "red"]
    assert red == [2, 8]
    assert fig.axes[2].get_title() == "non-face 0.20" and fig.axes[8].get_title() == "face 0.70"


# ---- learn_sobel ------------------------------------------------------------------------------------------
def test_training_targets_are_scipys_sobel_of_each_crop():
    photo = np.random.default_rng(5).random((40, 50)).astype(np.float32)
    x, y = learn_sobel.training_pairs(photo, 4, 10, np.random.default_rng(0))
    assert x.shape == (4, 10, 10, 1) and y.shape == (4, 8, 8, 1)
    for crop, target in zip(x[..., 0], y[..., 0]):
        np.testing.assert_allclose(target, scipy.ndimage.sobel(crop.astype(np.float64), axis=1)[1:-1, 1:-1],
                                   atol=1e-5)


def test_a_single_conv_trained_on_sobel_outputs_learns_the_sobel_kernel(tmp_path):
    results = learn_sobel.run(quick=True, out=tmp_path)
    assert np.abs(results["learned_kernel"] - SOBEL_X).max() < 0.05
    assert results["held_out_relative_error"] < 0.05
    assert (tmp_path / "learn_sobel.png").is_file()


def test_the_learn_sobel_picture_shows_both_kernels_and_both_filtered_photos():
    learned = SOBEL_X + 0.01
    photo = np.random.default_rng(6).random((20, 24))
    fig = learn_sobel.plot(learned, SOBEL_X, photo)
    assert len(fig.axes) == 4
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), learned)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), SOBEL_X)
    for ax, kernel in zip(fig.axes[2:], (learned, SOBEL_X)):
        expected = scipy.ndimage.correlate(photo, kernel)[1:-1, 1:-1]
        np.testing.assert_allclose(ax.images[0].get_array(), expected, atol=1e-5)
    assert [t.get_text() for t in fig.axes[1].texts][:3] == ["-1.000", "0.000", "1.000"]


# ---- the command line -------------------------------------------------------------------------------------
def test_the_cli_runs_a_demonstration_into_out_and_refuses_options_it_does_not_take(tmp_path, capsys):
    assert main(["example", "waldo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "found: True" in printed and (tmp_path / "waldo.png").is_file()
    assert main(["example", "waldo", "--epochs", "3"]) == 2
    assert "takes no --epochs" in capsys.readouterr().err
    assert main(["example", "animal_mnist", "--out", str(tmp_path)]) == 2
    assert "takes no --out" in capsys.readouterr().err
