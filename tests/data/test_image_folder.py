"""image_dataset_from_directory against a folder the test writes: PNG, JPEG, BMP and GIF files of mixed sizes, an
RGBA and a palette image, one damaged file, a nested folder, files and folders that are not images. Pixels are
checked against Pillow's decoding resized by PyTorch; the split and the labels against the file names."""

import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image

import striate
from striate import layers as L
from striate.data.image_folder import image_dataset_from_directory

RED, BLUE = (220, 30, 40), (20, 40, 230)


def write(path, array, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode).save(path)


def solid(colour, height, width, noise=0, seed=0):
    image = np.broadcast_to(np.array(colour, np.float64), (height, width, 3))
    image = image + np.random.default_rng(seed).integers(-noise, noise + 1, (height, width, 3))
    return np.clip(image, 0, 255)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """red/ and blue/, 8 readable images each in five formats and mixed sizes, plus the odd files."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for name, colour in (("red", RED), ("blue", BLUE)):
        for i in range(6):
            height, width = rng.integers(9, 31, 2)
            extension = ("png", "jpg", "jpeg", "bmp", "gif", "PNG")[i]
            write(root / name / f"{i}.{extension}", solid(colour, height, width, noise=5, seed=i))
        write(root / name / "nested" / "deeper" / "6.png", solid(colour, 12, 12))
    rgba = np.concatenate([solid(RED, 10, 14), np.full((10, 14, 1), 40)], axis=-1)  # nearly transparent red
    write(root / "red" / "rgba.png", rgba, "RGBA")
    palette = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8).repeat(5, 0).repeat(5, 1), "P")
    palette.putpalette([*BLUE, *BLUE] + [0] * 762)
    palette.save(root / "blue" / "palette.png")
    (root / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "red" / "notes.txt").write_text("not an image")
    write(root / ".thumbnails" / "x.png", solid(RED, 4, 4))
    write(root / "loose.png", solid(RED, 4, 4))  # directly in the folder: no class, not used
    return root


def expected_files(root):
    red = [f"{i}.{e}" for i, e in enumerate(("png", "jpg", "jpeg", "bmp", "gif", "PNG"))]
    blue = list(red)
    red = sorted(red + ["broken.png", "rgba.png"]) + ["nested/deeper/6.png"]
    blue = sorted(blue + ["palette.png"]) + ["nested/deeper/6.png"]
    return [str(root / "blue" / f) for f in blue] + [str(root / "red" / f) for f in red]


def passes(dataset):
    """Every element of one pass, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(dataset)


def by_path(dataset):
    """{path: element} over one pass of an unshuffled, unbatched dataset (the unreadable files left out)."""
    elements = passes(dataset)
    return dict(zip([p for p in dataset.file_paths if p not in dataset.skipped], elements))


def test_classes_are_the_sorted_subfolders_and_image_files_are_found_recursively(folder, capsys):
    dataset = image_dataset_from_directory(folder, shuffle=False, image_size=(8, 8))
    assert dataset.class_names == ["blue", "red"]
    assert dataset.file_paths == expected_files(folder)
    assert capsys.readouterr().out == "Found 17 files belonging to 2 classes.\n"
    labels = np.concatenate([y for _, y in passes(dataset)])
    assert labels.dtype == np.int32 and labels.tolist() == [0] * 8 + [1] * 8  # the damaged red file is skipped


def test_pixels_are_pillows_decoding_resized_as_pytorch_in_0_255(folder):
    dataset = image_dataset_from_directory(folder, shuffle=False, image_size=(7, 5), batch_size=None, verbose=False)
    for path, (image, _) in by_path(dataset).items():
        with Image.open(path) as opened:
            decoded = np.asarray(opened.convert("RGB"), dtype=np.float32)
        nchw = torch.from_numpy(decoded.transpose(2, 0, 1)[None].copy())
        expected = F.interpolate(nchw, size=(7, 5), mode="bilinear", align_corners=False)[0].numpy().transpose(1, 2, 0)
        assert image.dtype == np.float32 and image.shape == (7, 5, 3)
        np.testing.assert_allclose(image, expected, atol=1e-3, err_msg=path)


def test_alpha_is_dropped_and_a_palette_becomes_its_colours(folder):
    dataset = image_dataset_from_directory(folder, shuffle=False, image_size=(4, 4), batch_size=None, verbose=False)
    images = by_path(dataset)
    np.testing.assert_allclose(images[str(folder / "red" / "rgba.png")][0], np.broadcast_to(RED, (4, 4, 3)),
                               atol=1e-3)
    np.testing.assert_allclose(images[str(folder / "blue" / "palette.png")][0], np.broadcast_to(BLUE, (4, 4, 3)),
                               atol=1e-3)


def test_grayscale_is_the_luma_and_rgba_keeps_the_alpha(folder):
    options = {"shuffle": False, "image_size": (4, 4), "batch_size": None, "verbose": False}
    grey = by_path(image_dataset_from_directory(folder, color_mode="grayscale", **options))
    luma = (RED[0] * 299 + RED[1] * 587 + RED[2] * 114) / 1000  # ITU-R 601-2, Pillow's "L"
    np.testing.assert_allclose(grey[str(folder / "red" / "nested" / "deeper" / "6.png")][0], np.full((4, 4, 1), luma),
                               atol=1)
    elements = by_path(image_dataset_from_directory(folder, color_mode="rgba", **options))
    np.testing.assert_allclose(elements[str(folder / "red" / "rgba.png")][0][..., 3], 40, atol=1e-3)
    np.testing.assert_allclose(elements[str(folder / "red" / "0.png")][0][..., 3], 255)


def test_a_damaged_file_is_skipped_with_a_warning_naming_it_and_batches_stay_full(folder):
    dataset = image_dataset_from_directory(folder, batch_size=4, image_size=(6, 6), seed=1, verbose=False)
    with pytest.warns(UserWarning, match=r"skipped .*red/broken\.png, which cannot be read \(1 file\(s\) skipped"):
        sizes = [len(x) for x, _ in dataset]
    assert sizes == [4, 4, 4, 4] and list(dataset.skipped) == [str(folder / "red" / "broken.png")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second pass leaves the file out without warning again
        assert [len(x) for x, _ in dataset] == [4, 4, 4, 4]
    assert len(dataset) == 4


def test_each_batch_is_read_from_disk_when_it_is_needed(folder, monkeypatch):
    import striate.images

    opened = []
    real_read = striate.images.read
    monkeypatch.setattr(striate.images, "read", lambda path, **kw: opened.append(path) or real_read(path, **kw))
    dataset = image_dataset_from_directory(folder, batch_size=3, image_size=(6, 6), seed=0, verbose=False)
    assert opened == []
    batches = iter(dataset)
    next(batches)
    assert 3 <= len(opened) <= 4  # one batch (and the damaged file, if it came first)


def test_the_split_cuts_one_seeded_shuffle_into_disjoint_training_and_validation_files(folder, capsys):
    options = {"validation_split": 0.25, "seed": 3, "image_size": (4, 4)}
    training, validation = image_dataset_from_directory(folder, subset="both", **options)
    assert capsys.readouterr().out.splitlines() == ["Found 17 files belonging to 2 classes.",
                                                    "Using 13 files for training.", "Using 4 files for validation."]
    assert len(validation.file_paths) == int(0.25 * 17)
    assert sorted(training.file_paths + validation.file_paths) == sorted(expected_files(folder))
    assert image_dataset_from_directory(folder, subset="training", **options).file_paths == training.file_paths
    assert image_dataset_from_directory(folder, subset="validation", **options).file_paths == validation.file_paths
    other = image_dataset_from_directory(folder, subset="validation", **{**options, "seed": 4})
    assert other.file_paths != validation.file_paths
    labels = np.concatenate([y for _, y in passes(training)] + [y for _, y in passes(validation)])
    files = [p for p in training.file_paths + validation.file_paths if "broken" not in p]
    assert sorted(labels.tolist()) == sorted(int("/red/" in p) for p in files)


def test_training_batches_come_in_a_new_order_each_pass_and_validation_in_a_fixed_one(folder):
    training, validation = image_dataset_from_directory(folder, subset="both", validation_split=0.3, seed=0,
                                                        batch_size=32, image_size=(4, 4), verbose=False)
    first, second = passes(training)[0], passes(training)[0]
    assert not np.array_equal(first[0], second[0])
    assert sorted(first[0].sum(axis=(1, 2, 3))) == pytest.approx(sorted(second[0].sum(axis=(1, 2, 3))))
    np.testing.assert_array_equal(passes(validation)[0][0], passes(validation)[0][0])


@pytest.mark.parametrize("label_mode, expected", [
    ("categorical", [[1, 0], [0, 1]]), ("binary", [[0], [1]]), (None, None)])
def test_label_modes(folder, label_mode, expected):
    dataset = image_dataset_from_directory(folder, label_mode=label_mode, shuffle=False, image_size=(4, 4),
                                           verbose=False)
    element = passes(dataset)[0]
    if label_mode is None:
        assert isinstance(element, np.ndarray) and element.shape == (16, 4, 4, 3)
        return
    images, labels = element
    assert labels.dtype == np.float32
    np.testing.assert_array_equal(labels[[0, -1]], expected)


def test_class_names_choose_and_order_the_subfolders(folder):
    dataset = image_dataset_from_directory(folder, class_names=["red"], shuffle=False, image_size=(4, 4),
                                           verbose=False)
    assert dataset.class_names == ["red"] and all("/red/" in p for p in dataset.file_paths)


def test_explicit_labels_follow_the_sorted_files(tmp_path):
    for name in ("b.png", "a.png", "c.png"):
        write(tmp_path / name, solid(RED, 4, 4))
    dataset = image_dataset_from_directory(tmp_path, labels=[2, 0, 1], shuffle=False, image_size=(2, 2),
                                           verbose=False)
    assert [os.path.basename(p) for p in dataset.file_paths] == ["a.png", "b.png", "c.png"]
    assert passes(dataset)[0][1].tolist() == [2, 0, 1]


@pytest.mark.parametrize("arguments, message", [
    ({"validation_split": 0.2, "subset": "training"}, "give a seed"),
    ({"validation_split": 0.2}, "validation_split and subset go together"),
    ({"subset": "both", "validation_split": 0.2, "seed": 0, "label_mode": "sparse"}, "label_mode must be one of"),
    ({"color_mode": "cmyk"}, "color_mode must be one of"),
    ({"class_names": ["red", "green"]}, "class_names must name subfolders"),
    ({"image_size": (0, 4)}, "image_size must be"),
    ({"batch_size": 0}, "batch_size must be a positive integer or None; received 0"),
    ({"labels": [0, 1]}, "labels must give one label per image file"),
])
def test_bad_arguments_are_refused_before_any_image_is_read(folder, arguments, message):
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(folder, verbose=False, **arguments)


def test_a_folder_without_images_is_refused(tmp_path):
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="no images found in"):
        image_dataset_from_directory(tmp_path, verbose=False)
    with pytest.raises(FileNotFoundError, match="does not exist or is not a folder"):
        image_dataset_from_directory(tmp_path / "missing", verbose=False)


def test_fit_and_evaluate_take_a_dataset_as_keras(folder):
    training, validation = image_dataset_from_directory(folder, subset="both", validation_split=0.25, seed=0,
                                                        batch_size=4, image_size=(8, 8), verbose=False)
    training, validation = (d.map(lambda x, y: (x / 255, y)) for d in (training, validation))
    striate.set_random_seed(0)
    model = striate.Sequential([L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 3)), L.GlobalAveragePooling2D(),
                                L.Dense(2, activation="softmax")])
    model.compile(striate.optim.Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(training, validation_data=validation, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0 and history.history["val_accuracy"][-1] == 1.0
    x, y = (np.concatenate(parts) for parts in zip(*passes(validation)))
    assert model.evaluate(validation) == pytest.approx(model.evaluate(x, y))
    np.testing.assert_allclose(model.predict(validation), model.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match="x is a dataset of \\(x_batch, y_batch\\), so y must be None"):
        model.fit(training, np.zeros(3))
