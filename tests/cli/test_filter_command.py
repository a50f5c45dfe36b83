"""`striate filter NAME IMAGE --out FILE.png`: the PNG's pixels against scipy.ndimage, and one-line errors that
write nothing."""

import os

import numpy as np
import pytest
import scipy.ndimage as ndimage
from PIL import Image

from striate import cli
from striate.cli import main


@pytest.fixture(autouse=True)
def filter_command(monkeypatch):
    """The command as the lead registers it in COMMANDS (harmless once it is there)."""
    monkeypatch.setitem(cli.COMMANDS, "filter", ("filter", "filter an image with a classic kernel"))


@pytest.fixture(scope="module")
def chelsea():
    from striate import images

    return images.sample("chelsea").astype(np.float64)


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image).astype(np.float64)


def test_sobel_x_writes_the_edge_magnitude_scaled_by_its_99th_percentile(tmp_path, chelsea, capsys):
    out = tmp_path / "edges.png"
    assert main(["filter", "sobel-x", "chelsea", "--out", str(out)]) == 0
    magnitude = np.abs(np.stack([ndimage.sobel(chelsea[:, :, c], axis=1, mode="mirror") for c in range(3)], axis=2))
    expected = np.round(np.minimum(magnitude / np.percentile(magnitude, 99), 1) * 255)
    pixels = decoded(out)
    assert pixels.shape == (300, 451, 3)
    assert np.abs(pixels - expected).max() <= 1
    assert (pixels == 255).mean() == pytest.approx(0.01, abs=0.005)  # the strongest 1% are white
    assert capsys.readouterr().out.startswith(f"wrote {out}: sobel-x 3x3 of chelsea (451x300), showing |response|")


def test_gaussian_writes_the_blurred_photograph(tmp_path, chelsea):
    out = tmp_path / "blur.png"
    assert main(["filter", "gaussian", "chelsea", "--out", str(out)]) == 0
    blurred = np.stack([ndimage.gaussian_filter(chelsea[:, :, c], 2.0, mode="mirror") for c in range(3)], axis=2)
    assert np.abs(decoded(out) - np.round(np.clip(blurred, 0, 1) * 255)).max() <= 1


def test_sharpen_of_a_file_in_grayscale(tmp_path):
    source = tmp_path / "square.png"
    pixels = np.zeros((20, 24), np.uint8)
    pixels[5:15, 6:18] = 100
    Image.fromarray(pixels).save(source)
    out = tmp_path / "sharp.png"
    assert main(["filter", "sharpen", str(source), "--out", str(out), "--grayscale"]) == 0
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    expected = np.round(np.clip(ndimage.correlate(pixels / 255, kernel, mode="mirror"), 0, 1) * 255)
    assert decoded(out).shape == (20, 24)
    assert np.abs(decoded(out) - expected).max() <= 1


def test_gabor_answers_vertical_stripes_not_horizontal_ones(tmp_path, capsys):
    stripes = np.zeros((64, 64), np.uint8)
    stripes[:, ::4] = 255  # vertical lines, the filter's wavelength of 4 pixels
    Image.fromarray(stripes).save(tmp_path / "vertical.png")
    Image.fromarray(stripes.T.copy()).save(tmp_path / "horizontal.png")
    scales = {}
    for name in ("vertical", "horizontal"):
        assert main(["filter", "gabor", str(tmp_path / f"{name}.png"), "--out", str(tmp_path / f"{name}-out.png"),
                     "--grayscale", "--padding-mode", "circular"]) == 0
        scales[name] = float(capsys.readouterr().out.split("|response| / ")[1].split()[0])
    # each picture is scaled by its own 99th percentile: the scale printed is the response's size
    assert scales["vertical"] > 1000 * scales["horizontal"]
    assert decoded(tmp_path / "vertical-out.png").shape == (64, 64)


def assert_one_line_error(capsys, expected_start):
    error = capsys.readouterr().err
    assert error.startswith(f"striate filter: {expected_start}"), error
    assert error.count("\n") == 1 and "Traceback" not in error


def test_unknown_filter_lists_the_known_ones_and_writes_nothing(tmp_path, capsys):
    assert main(["filter", "sobel-z", "chelsea", "--out", str(tmp_path / "out.png")]) == 2
    assert_one_line_error(capsys, "unknown filter 'sobel-z'; known filters: sobel-x, sobel-y")
    assert os.listdir(tmp_path) == []


def test_unknown_sample_lists_the_samples(tmp_path, capsys):
    assert main(["filter", "sobel-x", "kitten", "--out", str(tmp_path / "out.png")]) == 2
    assert_one_line_error(capsys, "kitten is neither a file nor a sample photograph; samples: astronaut,")
    assert os.listdir(tmp_path) == []


def test_missing_file_says_so(tmp_path, capsys):
    assert main(["filter", "sobel-x", str(tmp_path / "absent.png"), "--out", str(tmp_path / "out.png")]) == 2
    assert_one_line_error(capsys, f"{tmp_path / 'absent.png'} does not exist")


def test_a_non_image_file_writes_nothing(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["filter", "sobel-x", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "out.png")]) == 2
    assert_one_line_error(capsys, f"images.read: {tmp_path / 'notes.txt'} is not an image Pillow can read")
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_a_huge_image_is_refused_and_an_existing_output_is_left_alone(tmp_path, capsys):
    from test_images import png_header  # tests/ is on sys.path (conftest.py)

    (tmp_path / "bomb.png").write_bytes(png_header(20000, 20000))
    (tmp_path / "out.png").write_bytes(b"earlier")
    assert main(["filter", "sobel-x", str(tmp_path / "bomb.png"), "--out", str(tmp_path / "out.png")]) == 2
    assert_one_line_error(capsys, f"images.read: {tmp_path / 'bomb.png'} is too large to decode safely")
    assert (tmp_path / "out.png").read_bytes() == b"earlier" and sorted(os.listdir(tmp_path)) == ["bomb.png", "out.png"]


@pytest.mark.parametrize("out, message", [("edges.jpg", "--out must name a .png file"),
                                          ("missing/edges.png", "the folder")])
def test_bad_output_paths_are_refused_before_any_work(tmp_path, capsys, out, message):
    assert main(["filter", "sobel-x", "chelsea", "--out", str(tmp_path / out)]) == 2
    assert_one_line_error(capsys, message)
    assert os.listdir(tmp_path) == []
