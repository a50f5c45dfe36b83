"""`striate tour [--pictures DIR]`: the printed examples, and the pictures written: each file the tour names
exists, decodes with Pillow, and each GIF has one frame per output position plus an intro and an outro."""

import re

import numpy as np
import pytest
from PIL import Image

from striate.cli import main

# file -> GIF frames (outputs + intro + outro; the receptive field one frame per layer) or PNG size (w, h)
PICTURES = {
    "flip_1d.gif": 3 + 2,                   # s[3], s[4], s[5]
    "conv_2x2.gif": 4 + 2,                  # 19 25 37 43
    "edge_6x6.gif": 16 + 2,                 # the 4x4 map
    "rgb.gif": 2 + 2,                       # 321, 370
    "stride_5x9.gif": 9 + 2,                # 3x3 outputs
    "max_pool_4x4.gif": 4 + 2,
    "average_pool_4x4.gif": 4 + 2,
    "lenet5_receptive_field.gif": 4,        # conv1, pool1, conv2, pool2
    "edge_band.png": None,
    "sobel_patch.png": None,
    "ones_7x7_padded.png": None,
    "max_pool_7x7.png": None,
    "max_pool_4x6.png": None,
    "transposed_stride2.png": None,
    "conv_matrix.png": (700, 420),          # 7 x 4.2 inches at 100 dpi
    "spam_ham_confusion.png": (500, 400),   # plot_confusion_matrix's 5 x 4 inches for two classes
}


def test_tour_prints_every_example_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    headings = re.findall(r"^(\d+)\. ", out, flags=re.M)
    assert headings == [str(n) for n in range(1, 21)]
    assert "186 + 86 + 49 = 321" in out and "4,816,896" in out and "picture:" not in out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_pictures_writes_each_examples_picture_and_names_it(tmp_path, capsys):
    folder = tmp_path / "tour"          # made by the command
    assert main(["tour", "--pictures", str(folder)]) == 0
    out = capsys.readouterr().out
    named = re.findall(r"^   picture: (\S+) \((.+)\)$", out, flags=re.M)
    assert sorted(path.rsplit("/", 1)[1] for path, _ in named) == sorted(PICTURES)
    assert sorted(p.name for p in folder.iterdir()) == sorted(PICTURES)
    assert out.rstrip().endswith(f"wrote 16 pictures into {folder}")
    # the picture line follows its example: the 6x6 edge GIF under the 6x6 edge example
    edge = out.index("Edge detection on the 6x6 image")
    assert edge < out.index(f"picture: {folder / 'edge_6x6.gif'}") < out.index("A bright|dark edge")
    for name, expected in PICTURES.items():
        with Image.open(folder / name) as image:
            image.load()
            if name.endswith(".gif"):
                assert (name, image.format, image.n_frames) == (name, "GIF", expected)
                image.seek(image.n_frames - 1)
                last = np.asarray(image.convert("RGB"))
                assert last.std() > 10          # drawn, not blank
            else:
                assert image.format == "PNG"
                if expected is not None:
                    assert image.size == expected
                assert np.asarray(image.convert("RGB")).std() > 10


def test_pictures_on_a_file_is_one_line_and_status_2(tmp_path, capsys):
    file = tmp_path / "taken"
    file.write_text("")
    assert main(["tour", "--pictures", str(file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"striate tour: --pictures {file}: a file is there; give a folder\n"
