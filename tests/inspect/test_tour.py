"""striate.inspect.tour: every value the tour prints against the lectures' worked examples, computed by hand.

The expectations are tests/test_lecture_worked_examples.py's (its comments give the arithmetic), written out
here as literals; where a slide prints a wrong number the tour must print the correct one and the slide's.
"""

import numpy as np
import pytest

from striate.inspect.tour import draw_conv_matrix, run_tour, worked_examples

SIX_BY_SIX = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                       [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])


@pytest.fixture(scope="module")
def sections():
    """The printed tour, split at its numbered headings: {title: [lines under it, without the indent]}."""
    printed = []
    run_tour(say=printed.append)
    sections, title = {}, None
    for line in printed:
        if line and not line.startswith(" "):
            title = line.split(". ", 1)[1]
            sections[title] = []
        elif line:
            sections[title].append(line[3:])
    return sections


def section(sections, start):
    (title,) = [title for title in sections if title.startswith(start)]
    return sections[title]


def matrix_lines(section_lines, rows):
    """The first len(rows) printed matrix rows as long as rows[0] (indented lines), as lists of strings."""
    numbers = [line.split() for line in section_lines if line.startswith("  ")]
    return [row for row in numbers if len(row) == len(rows[0])][: len(rows)]


def as_text(rows):
    return [[f"{float(v):g}" for v in row] for row in rows]


def test_1d_flip_and_filter_prints_2_3_4_and_names_the_slides_4_and_5(sections):
    # APL 405: s[3] = 0.4*1 + 0.3*2 + 0.2*3 + 0.1*4 = 2; s[4] = 0.8 + 0.9 + 0.8 + 0.5 = 3 (slide: 4);
    # s[5] = 1.2 + 1.2 + 1.0 + 0.6 = 4 (slide: 5); without the flip 3, 4, 5.
    lines = section(sections, "1-D convolution")
    assert "s[3] = 1*0.4 + 2*0.3 + 3*0.2 + 4*0.1 = 2" in lines
    assert "s[4] = 2*0.4 + 3*0.3 + 4*0.2 + 5*0.1 = 3   (the slide prints 4)" in lines
    assert "s[5] = 3*0.4 + 4*0.3 + 5*0.2 + 6*0.1 = 4   (the slide prints 5)" in lines
    text = "\n".join(lines)
    assert "s[3] s[4] s[5]: 2 3 4;" in text and "cross-correlation, what a conv layer computes): 3 4 5" in text
    assert "('full'): 0.1 0.4 1 2 3 4 4.3 3.8 2.4" in text


def test_2x2_kernel_prints_the_four_sums_19_25_37_43(sections):
    lines = section(sections, "A 2x2 kernel")
    assert lines[:4] == ["0*0 + 1*1 + 3*2 + 4*3 = 19", "1*0 + 2*1 + 4*2 + 5*3 = 25",
                         "3*0 + 4*1 + 6*2 + 7*3 = 37", "4*0 + 5*1 + 7*2 + 8*3 = 43"]
    assert matrix_lines(lines, [[19, 25], [37, 43]]) == [["19", "25"], ["37", "43"]]


def test_vertical_edge_filter_on_6x6_prints_the_slides_4x4_map_and_its_first_sum(sections):
    expected = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    lines = section(sections, "Edge detection on the 6x6")
    assert matrix_lines(lines, expected) == as_text(expected)
    assert "top-left: 3*1 + 0*0 + 1*-1 + 1*1 + 5*0 + 8*-1 + 2*1 + 7*0 + 2*-1 = -5" in lines


def test_bright_dark_edge_prints_the_band_of_30s_and_the_mirrored_filters_sign(sections):
    lines = section(sections, "A bright|dark edge")
    assert matrix_lines(lines, [[0] * 4] * 4) == [["0", "30", "30", "0"]] * 4
    text = "\n".join(lines)
    assert "dark | bright: a band of -30; the mirrored filter [[-1, 0, 1]] x 3 gives 30 there" in text
    assert "on bright top | dark bottom: columns of 30" in text


def test_sobel_patch_prints_the_correct_map_and_the_ten_values_the_slide_prints_differently(sections):
    # COSC2779: true convolution with [[1, 0, -1], [2, 0, -2], [1, 0, -1]]; first entry
    # (0.6 - 0.8) + 2*(0.58 - 0.81) + (0.58 - 0.81) = -0.89; [0,1]: -0.24 - 0.56 - 0.30 = -1.10 (slide -1.09).
    expected = [["-0.89", "-1.10", "-0.70", "0.02"], ["-0.92", "-1.18", "-0.90", "-0.21"],
                ["-0.90", "-1.19", "-1.09", "-0.46"], ["-0.86", "-1.19", "-1.26", "-0.65"]]
    lines = section(sections, "The Sobel filter")
    assert matrix_lines(lines, expected) == expected
    text = "\n".join(lines)
    slide_vs_correct = [("-1.09", [0, 1], "-1.10"), ("-0.71", [0, 2], "-0.70"), ("-0.91", [1, 2], "-0.90"),
                        ("-0.20", [1, 3], "-0.21"), ("-1.20", [2, 1], "-1.19"), ("-1.11", [2, 2], "-1.09"),
                        ("-0.44", [2, 3], "-0.46"), ("-0.87", [3, 0], "-0.86"), ("-1.21", [3, 1], "-1.19"),
                        ("-0.63", [3, 3], "-0.65")]
    assert "the slide prints 10 values" in text
    for slide, position, correct in slide_vs_correct:
        assert f"{slide} at {position} (correct {correct})" in text
    assert "top-left: 0.8*-1 + 0.74*0 + 0.6*1 + 0.81*-2 + 0.73*0 + 0.58*2 + 0.81*-1 + 0.73*0 + 0.58*1 = -0.89" in lines
    assert "filters.sobel('x'): correlating with it gives the same map (largest difference 0)" in text


def test_7x7_image_prints_31_46_36_the_padded_corner_14_and_the_stride_2_row(sections):
    # COSC2779: 1+6+2+1+6+2+0+5+8 = 31, 46, 36; padded corner 1 + 6 + 1 + 6 = 14; padded row 1 starts with
    # 1+6+1+6+0+5 = 19 and ends with 2+7+2+5+7+1 = 24; stride 2 jumps to columns 2..4 (36) and 4..6 (31).
    lines = section(sections, "The 7x7 image")
    assert matrix_lines(lines, [[0] * 5])[0] == ["31", "46", "36", "35", "31"]
    text = "\n".join(lines)
    assert "keeps 7x7, corner 14 = 1 + 6 + 1 + 6 (the rest is padding); row 1: 19 31 46 36 35 31 24" in text
    assert "stride 2: 3x3, first row 31 36 31" in text


def test_rgb_example_prints_186_86_49_321_and_370_and_the_slides_188_and_323(sections):
    lines = section(sections, "Convolution over a colour image")
    assert "channel 0: -2*0 + -1*1 + 0*2 + 2*3 + 3*4 + 4*5 + 6*6 + 7*7 + 8*8 = 186" in lines
    assert "channel 1: -3*0 + -2*-4 + -1*0 + 1*3 + 2*0 + 3*5 + 5*2 + 6*-1 + 7*8 = 86" in lines
    assert "channel 2: -6*-1 + -2*1 + 3*2 + 1*3 + 2*2 + 3*0 + 5*6 + 4*0 + 2*1 = 49" in lines
    assert "186 + 86 + 49 = 321" in lines
    assert "222 + 99 + 49 = 370" in lines
    assert lines[-1].startswith("output: 321 370 (the slide prints 188 for the left window's first sum, and so 323")


@pytest.mark.parametrize(("start", "expected", "window_texts"), [
    ("Max pooling, 2x2", [[9, 2], [6, 3]], ["max(1, 3, 2, 9) = 9, max(2, 1, 1, 1) = 2"]),
    ("Average pooling", [[3.75, 1.25], [4, 2]], ["(1 + 3 + 2 + 9) / 4 = 3.75, (2 + 1 + 1 + 1) / 4 = 1.25",
                                                 "(1 + 4 + 5 + 6) / 4 = 4, (2 + 3 + 1 + 2) / 4 = 2"]),
    ("Max pooling the 7x7", [[6, 8, 2], [7, 8, 8], [8, 7, 8]], ["max(5, 2, 8, 2) = 8, max(4, 4, 3, 7) = 7, "
                                                               "max(5, 8, 3, 8) = 8"]),
    ("Max pooling the 4x6", [[6, 8, 9], [9, 9, 9]], ["max(4, 1, 9, 4) = 9, max(7, 2, 9, 1) = 9, "
                                                     "max(9, 4, 4, 2) = 9"]),
])
def test_pooling_prints_each_slides_own_grid(sections, start, expected, window_texts):
    # Unit 2's max and average slides (the average slide's third row is 1 4 2 3), COSC2779's 7x7, APL 405's 4x6.
    lines = section(sections, start)
    assert matrix_lines(lines, expected) == as_text(expected)
    for text in window_texts:
        assert text in lines


def test_5x9_input_with_strides_2_and_3_prints_3x3_centred_and_2x3_valid(sections):
    text = "\n".join(section(sections, "The 5x9 input"))
    assert "rows floor((5 + 2 - 3) / 2) + 1 = 3, columns floor((9 + 2 - 3) / 3) + 1 = 3: 3x3" in text
    assert "rows floor((5 + 0 - 3) / 2) + 1 = 2, columns floor((9 + 0 - 3) / 3) + 1 = 3: 2x3" in text


def test_output_sizes_print_the_notes_exercises(sections):
    text = "\n".join(section(sections, "Output sizes"))
    assert "floor((227 + 0 - 11) / 4) + 1 = 55" in text
    assert "-> 300x300x8 -> 4 3x3x8 filters, pad 1, stride 3 -> 100x100x4" in text
    assert "= 7x7x40, 1,960 features" in text and "= 12x12x64, 9,216 features" in text
    assert "28x28x192 -> 28x28x16" in text
    # APL 405's 4x6 input, padded, kernel 0..8, stride 2: corner 4*1 + 5*2 + 7*6 + 8*0 = 56, 2x3 out
    assert "rows floor((4 + 2 - 3) / 2) + 1 = 2, columns floor((6 + 2 - 3) / 2) + 1 = 3; corner 56" in text
    assert "floor((6 + 2 - 3) / 1) + 1 = 6 -> 6x6" in text


def test_transposed_convolution_prints_the_overlap_counts_and_5_7_9(sections):
    lines = section(sections, "Transposed convolution")
    counts = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1])
    assert matrix_lines(lines, counts) == as_text(counts.tolist())
    assert "sizes, strides 1, 2, 3: 5x5, 7x7, 9x9" in "\n".join(lines)


def test_conv_as_matrix_prints_h11_fed_by_1_2_5_6_and_h12_by_3_4_7_8(sections):
    text = "\n".join(section(sections, "A convolution as a sparse"))
    assert "h11 is fed by pixels 1, 2, 5, 6, h12 by 3, 4, 7, 8 (with stride 1, h12 would be 2, 3, 6, 7)" in text
    assert "M is 4x16 with 4 4 4 4 entries per row, 16 of 64" in text


def test_dense_against_conv_prints_4816896_against_150(sections):
    # 32*32 * 28*28*6 = 1024 * 4704 = 4,816,896; 6 * 5*5*1 = 150; 1024 * 784 = 802,816; 200*200*3 * 1000.
    text = "\n".join(section(sections, "Parameters: dense against convolution"))
    assert "32x32 x 28x28x6 = 4,816,896 weights, the convolution 6 x 5x5x1 = 150 (156 with biases" in text
    assert "one 28x28 map: 802,816, against 25" in text
    assert "120,000,000 weights = 12 x 10^7" in text


def test_lenet5_table_prints_the_correct_rows_and_what_the_notes_print(sections):
    # handwritten notes' table (32x32x3 input): conv1 5*5*3*6 + 6 = 456, pool1 14*14*6 = 1176,
    # conv2 5*5*6*16 + 16 = 2416, fc 400*120 + 120 = 48120, 120*84 + 84 = 10164, 84*10 + 10 = 850.
    lines = section(sections, "LeNet-5")
    rows = {line.split("  ")[0]: line.split() for line in lines[1:9]}
    assert rows["Input"][1:] == ["(32,", "32,", "3)", "3,072", "0"]
    assert rows["CONV1 (f=5, s=1)"][3:9] == ["(28,", "28,", "6)", "4,704", "456", "the"]
    assert lines[2].endswith("the notes print (8, 20, 6) for (28, 28, 6), 4,707 for 4,704")
    assert rows["POOL1"][1:] == ["(14,", "14,", "6)", "1,176", "0"]
    assert rows["CONV2 (f=5, s=1)"][3:] == ["(10,", "10,", "16)", "1,600", "2,416"]
    assert rows["POOL2"][1:] == ["(5,", "5,", "16)", "400", "0"]
    assert rows["FC3"][1:5] == ["(120,", "1)", "120", "48,120"] and lines[6].endswith("print 48,210 for 48,120")
    assert rows["FC4"][1:] == ["(84,", "1)", "84", "10,164"]
    assert rows["Softmax"][1:5] == ["(10,", "1)", "10", "850"] and lines[8].endswith("print 16 for 10")
    text = "\n".join(lines)
    # 456 + 2416 + 48120 + 10164 + 850 = 62,006; the grey input's conv1 has 150 + 6: 61,706
    assert "total 62,006 for the colour input" in text and "total 61,706" in text
    assert "conv1 150 weights, conv2 2,400, FC1 48,000 + 120 biases = 48,120, FC2 10,164, output 850" in text
    # fields: 5; 5 + 1 = 6; 6 + 4*2 = 14; 14 + 1*2 = 16
    assert "conv1 5x5, pool1 6x6, conv2 14x14, pool2 16x16" in text


def test_mobilenet_prints_2160_against_672(sections):
    # 4*4*5 outputs * 27 = 2160; depthwise 4*4*3 * 9 = 432, pointwise 4*4*5 * 3 = 240; 672/2160 = 14/45.
    text = "\n".join(section(sections, "MobileNet"))
    assert "-> 4x4x5: 2,160 multiplies" in text
    assert "4x4x3: 432 (the notes' '43^2')" in text and "4x4x5: 240 (the notes print 290)" in text
    assert "together 672 vs 2,160" in text
    assert "ratio 672 / 2,160 = 14/45, and 1/n_c' + 1/f^2 = 1/5 + 1/9 = 14/45" in text


def test_backpropagation_prints_each_weights_window_sum(sections):
    # d sum(y) / dw[a, b] = sum of the 4x4 block of x the weight multiplied: x[a:a+4, b:b+4].sum()
    expected = [[SIX_BY_SIX[a : a + 4, b : b + 4].sum() for b in range(3)] for a in range(3)]
    lines = section(sections, "Backpropagation")
    assert matrix_lines(lines, expected) == as_text(expected)


def test_spam_ham_prints_the_slides_confusion_matrix_and_rates(sections):
    # Unit 2: TP 6 (ids 4 6 8 9 10 18), FN 3 (1 2 12), FP 2 (17 20), TN 9; (6 + 9) / 20, (2 + 3) / 20.
    lines = section(sections, "The spam/ham confusion matrix")
    assert lines[2].split() == ["Target", "'spam'", "6", "3"]
    assert lines[3].split() == ["'ham'", "2", "9"]
    text = "\n".join(lines)
    assert "(TP + TN) / total = 0.75; misclassification rate (FP + FN) / total = 0.25" in text


def test_every_example_names_its_slide_and_pictures_have_distinct_files():
    examples = worked_examples()
    assert all(example.source and example.lines for example in examples)
    files = [example.picture_file for example in examples if example.picture is not None]
    assert len(files) == len(set(files)) == 16
    assert all(file.endswith((".gif", ".png")) for file in files)


def test_conv_matrix_picture_draws_the_shared_weights_and_the_dense_layer():
    # the 2x2 kernel [[w1, w2], [w3, w4]] = [[1, 2], [3, 4]] at stride 2 on a 4x4 image: h11 reads pixels
    # 1, 2, 5, 6 (columns 0, 1, 4, 5), h12 pixels 3, 4, 7, 8, h21 9, 10, 13, 14, h22 11, 12, 15, 16
    (example,) = [example for example in worked_examples() if example.name == "conv_matrix"]
    fig = draw_conv_matrix(example.values["matrix"])
    expected = np.zeros((4, 16))
    for row, first in enumerate((0, 2, 8, 10)):
        expected[row, [first, first + 1, first + 4, first + 5]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), expected)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), np.ones((4, 16)))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["h11", "h12", "h21", "h22"]
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(["w1", "w2", "w3", "w4"] * 4)


def test_a_missing_pictures_folder_is_refused_before_printing(tmp_path):
    printed = []
    with pytest.raises(FileNotFoundError, match="run_tour: the pictures folder .*missing.* does not exist"):
        run_tour(say=printed.append, pictures=tmp_path / "missing")
    assert printed == []
