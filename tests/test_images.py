"""striate.images: read / write round trips, scikit-image's samples read as files, and one clear error for a
non-image, a damaged file and a decompression bomb (refused from the header, before decoding)."""

import importlib.util
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from striate import images


def png_header(width, height):
    """A PNG claiming width x height 8-bit grey pixels, with a few bytes of pixel data: cheap at any size."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 10))
            + chunk(b"IEND", b""))


def test_colour_round_trip_is_exact_on_the_8_bit_grid(tmp_path):
    levels = np.random.default_rng(0).integers(0, 256, (7, 9, 3))
    images.write(tmp_path / "colour.png", levels / 255)
    back = images.read(tmp_path / "colour.png")
    assert back.dtype == np.float32 and back.shape == (7, 9, 3)
    np.testing.assert_array_equal(np.round(back * 255), levels)
    with Image.open(tmp_path / "colour.png") as decoded:
        assert decoded.mode == "RGB" and decoded.size == (9, 7)


@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 1)])
def test_greyscale_is_written_as_one_channel(tmp_path, shape):
    values = np.linspace(0, 1, 30).reshape(shape)
    images.write(tmp_path / "grey.png", values)
    with Image.open(tmp_path / "grey.png") as decoded:
        assert decoded.mode == "L" and decoded.size == (5, 6)
        np.testing.assert_array_equal(np.asarray(decoded), np.round(values.reshape(6, 5) * 255))
    assert images.read(tmp_path / "grey.png", color_mode=None).shape == (6, 5, 1)
    assert images.read(tmp_path / "grey.png").shape == (6, 5, 3)


def test_values_outside_0_1_are_clipped(tmp_path):
    images.write(tmp_path / "clipped.png", np.array([[-0.5, 0.5, 1.5]]))
    with Image.open(tmp_path / "clipped.png") as decoded:
        assert np.asarray(decoded).tolist() == [[0, 128, 255]]


def test_grayscale_reading_uses_the_luma_weights(tmp_path):
    Image.fromarray(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)).save(tmp_path / "rgb.png")
    grey = images.read(tmp_path / "rgb.png", color_mode="grayscale")
    assert grey.shape == (1, 3, 1)
    np.testing.assert_allclose(grey[0, :, 0], [0.299, 0.587, 0.114], atol=1 / 255)


def test_sixteen_bit_greyscale_is_divided_by_65535(tmp_path):
    Image.fromarray(np.array([[0, 32768, 65535]], np.uint16)).save(tmp_path / "deep.png")
    np.testing.assert_allclose(images.read(tmp_path / "deep.png", color_mode=None)[0, :, 0],
                               [0, 32768 / 65535, 1], rtol=1e-6)


def test_rgba_is_kept_as_stored_and_dropped_to_rgb():
    assert images.sample("horse", color_mode=None).shape[2] == 4
    assert images.sample("horse", color_mode="rgb").shape[2] == 3


def test_chelsea_is_300_by_451_colour_in_0_1():
    cat = images.sample("chelsea")
    assert cat.shape == (300, 451, 3) and cat.dtype == np.float32
    assert 0 <= cat.min() and cat.max() <= 1 and cat.std() > 0.1


def test_camera_is_greyscale_and_the_names_are_the_data_folders_photographs():
    assert images.sample("camera").shape == (512, 512, 1)
    names = images.sample_names()
    assert {"astronaut", "camera", "chelsea", "coffee", "retina"} <= set(names) and names == sorted(names)
    assert "lbpcascade_frontalface_opencv" not in names  # an .xml file, not a photograph


def test_sample_does_not_import_skimage():
    import sys

    images.sample("coins")
    assert "skimage" not in sys.modules


def test_unknown_sample_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown sample 'kitten'; known samples: astronaut, .*chelsea"):
        images.sample("kitten")


def test_missing_scikit_image_says_how_to_install_it(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "skimage" else real_find_spec(name, *rest))
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps scikit-image==0\.26\.0"):
        images.sample("chelsea")


def test_a_non_image_file_is_one_clear_error(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match=f"images.read: {tmp_path / 'notes.png'} is not an image Pillow can read"):
        images.read(tmp_path / "notes.png")


def test_a_damaged_image_is_one_clear_error(tmp_path):
    (tmp_path / "cut.png").write_bytes(png_header(100, 100))  # the header promises more pixels than follow
    with pytest.raises(ValueError, match=f"images.read: {tmp_path / 'cut.png'} is damaged and cannot be decoded"):
        images.read(tmp_path / "cut.png")


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        images.read(tmp_path / "absent.png")


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path):
    # 60 megapixels claimed by the header, 10 bytes of data: decoding would fail as damaged, so the size error
    # shows the pixels were never decoded
    (tmp_path / "big.png").write_bytes(png_header(10000, 6000))
    with pytest.raises(ValueError, match=rf"images.read: {tmp_path / 'big.png'} is 10000x6000 = 60,000,000 pixels, "
                                         r"more than the limit of 50,000,000"):
        images.read(tmp_path / "big.png")


def test_a_20000_by_20000_bomb_is_refused(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header(20000, 20000))
    with pytest.raises(ValueError, match=rf"images.read: {tmp_path / 'bomb.png'} is too large to decode safely: "
                                         r".*400000000 pixels"):
        images.read(tmp_path / "bomb.png")


def test_the_limit_is_an_argument(tmp_path):
    images.write(tmp_path / "small.png", np.zeros((10, 10)))
    with pytest.raises(ValueError, match="10x10 = 100 pixels, more than the limit of 99"):
        images.read(tmp_path / "small.png", max_pixels=99)


@pytest.mark.parametrize("array, message", [
    (np.zeros((4, 4, 2)), r"expects \(H, W\), \(H, W, 1\) or \(H, W, 3\)"),
    (np.full((4, 4), np.nan), "holds 16 NaN or infinite values"),
    (np.array([["a"]]), "must hold numbers"),
])
def test_bad_arrays_write_nothing(tmp_path, array, message):
    with pytest.raises(ValueError, match=message):
        images.write(tmp_path / "out.png", array)
    assert os.listdir(tmp_path) == []


def test_an_unknown_extension_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="cannot tell an image format"):
        images.write(tmp_path / "out.xyz", np.zeros((4, 4)))
    assert os.listdir(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    images.write(tmp_path / "out.png", np.ones((4, 4)))
    before = (tmp_path / "out.png").read_bytes()

    def fail(*arguments, **options):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        images.write(tmp_path / "out.png", np.zeros((4, 4)))
    assert os.listdir(tmp_path) == ["out.png"] and (tmp_path / "out.png").read_bytes() == before
