"""plan(): shapes, padding, parameters, multiply-accumulates, FLOPs, memory and receptive fields by arithmetic
alone, checked against the lectures, the papers, and a real forward pass."""

import tracemalloc
from fractions import Fraction

import numpy as np
import pytest

import striate
from striate import layers as L
from striate import models
from striate.inspect.plan import depthwise_separable_ratio, parameter_count, plan


@pytest.fixture(scope="module")
def vgg16():
    return models.vgg16()


# ---- the lectures' MobileNet example ------------------------------------------------------------------------
def test_normal_convolution_6x6x3_to_4x4x5_costs_2160_multiplies():
    assert plan([L.Conv2D(5, 3)], (6, 6, 3)).totals["macs"] == 4 * 4 * 5 * (3 * 3 * 3) == 2160


def test_depthwise_separable_costs_432_plus_240():
    rows = plan([L.DepthwiseConv2D(3), L.Conv2D(5, 1)], (6, 6, 3)).rows
    assert [row.macs for row in rows] == [0, 432, 240]
    assert plan([L.SeparableConv2D(5, 3)], (6, 6, 3)).totals["macs"] == 672


def test_cost_ratio_is_one_over_nc_plus_one_over_f_squared():
    assert Fraction(672, 2160) == depthwise_separable_ratio(5, 3) == Fraction(1, 5) + Fraction(1, 9)


# ---- published multiply-accumulates ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, exact, published", [
    ("vgg16", 15_470_264_320, 15.5e9),        # Simonyan & Zisserman; torchvision 15.47 G
    ("resnet50", 4_089_184_256, 4.1e9),       # torchvision 4.09 G (stride on the 3x3)
    ("mobilenet_v1", 568_740_352, 569e6),     # Howard et al. Table 8: 569 M mult-adds
    ("googlenet", 1_498_376_192, 1.5e9),      # Szegedy et al.: 1.5 G multiply-adds
    ("resnet18", 1_814_073_344, 1.8e9),       # torchvision 1.81 G
])
def test_multiply_accumulates_match_published_figures(name, exact, published, vgg16):
    model = vgg16 if name == "vgg16" else models.NETWORKS[name]()
    macs = plan(model).totals["macs"]
    assert macs == exact
    assert abs(macs - published) / published < 0.01


def test_resnet50_with_the_papers_stride_placement_costs_the_papers_3_9_g():
    assert plan(models.resnet50(stride_on="1x1")).totals["macs"] == 3_857_973_248  # paper: 3.8 G FLOPs (mult-adds)


# ---- receptive fields -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(1, 7))
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_n_stacked_3x3_stride_1_convolutions_see_2n_plus_1(n, padding):
    stack = plan([L.Conv2D(2, 3, padding=padding) for _ in range(n)], (20, 20, 1))
    assert stack.rows[-1].receptive_field == (2 * n + 1, 2 * n + 1)
    assert stack.rows[-1].jump == (1, 1)


def test_vgg16_conv5_3_sees_196_and_pool5_212_with_araujos_effective_padding(vgg16):
    p = plan(vgg16)
    assert p["block5_conv3"].receptive_field == (196, 196)
    pool5 = p["block5_pool"]
    assert pool5.receptive_field == (212, 212) and pool5.jump == (32, 32)
    assert (212 - 1) / 2 - pool5.start[0] == 90  # Araujo et al. 2019, vgg_16: size 212, stride 32, padding 90


def test_resnet50_last_conv_sees_427_as_torchvision_and_483_as_the_paper():
    assert plan(models.resnet50())["conv5_block3_3_conv"].receptive_field == (427, 427)
    original = plan(models.resnet50(stride_on="1x1"))["conv5_block3_out"]
    assert original.receptive_field == (483, 483) and original.jump == (32, 32)  # Araujo et al.: resnet_v1_50 483


def test_receptive_field_start_follows_the_padding_before():
    # stride 2, 'same' on an even input pads (0, 1): the first output is centred half a pixel right of (k-1)/2
    row = plan([L.Conv2D(1, 3, strides=2, padding="same")], (8, 8, 1)).rows[-1]
    assert row.padding == ((0, 1), (0, 1))
    assert row.receptive_field == (3, 3) and row.jump == (2, 2) and row.start == (1.0, 1.0)
    assert plan([L.ZeroPadding2D(1), L.Conv2D(1, 3, strides=2)], (8, 8, 1)).rows[-1].start == (0.0, 0.0)


def test_a_merge_sees_the_largest_of_its_branches():
    inputs = striate.Input((9, 9, 2))
    wide = L.Conv2D(2, 5, padding="same")(L.Conv2D(2, 3, padding="same")(inputs))
    narrow = L.Conv2D(2, 1)(inputs)
    model = striate.Model(inputs, L.Add()([narrow, wide]))
    assert plan(model).rows[-1].receptive_field == (7, 7)


def test_dilation_widens_the_field():
    assert plan([L.Conv2D(1, 3, dilation_rate=2)], (9, 9, 1)).rows[-1].receptive_field == (5, 5)


# ---- shapes, parameters, FLOPs, memory ---------------------------------------------------------------------------
def forward_shapes(model, x):
    """Every layer's real output shape from a forward pass, by name."""
    shapes = {}
    if hasattr(model, "_nodes"):
        values = {id(model._inputs[0]): striate.Tensor(x)}
        for node in model._nodes:
            arguments = [values[id(i)] for i in node.inputs]
            values[id(node)] = node.layer(arguments if len(arguments) > 1 else arguments[0])
            shapes[node.layer.name] = values[id(node)].shape
    else:
        for layer in model.layers:
            x = layer(x)
            shapes[layer.name] = x.shape
    return shapes


@pytest.mark.parametrize("build, input_shape", [
    (models.resnet18, (64, 64, 3)), (models.googlenet, (40, 40, 3)), (models.mobilenet_v1, (33, 33, 3)),
    (models.lenet5, (32, 32, 1)),
])
def test_plan_shapes_equal_a_real_forward_pass(build, input_shape):
    model = build(input_shape=input_shape, classes=7)
    x = np.random.default_rng(0).standard_normal((1, *input_shape)).astype(np.float32)
    real = forward_shapes(model, x)
    planned = {row.name: row.output_shape for row in plan(model).rows if row.name != "input"}
    assert planned.keys() == real.keys()
    assert all(planned[name] == (None, *real[name][1:]) for name in real)


def test_plan_of_bottleneck_blocks_equals_a_forward_pass():
    inputs = striate.Input((15, 15, 8))
    first = models.bottleneck_block(inputs, 4, strides=2, name="first")
    outputs = models.bottleneck_block(first, 4, strides=2, stride_on="1x1", name="second")
    model = striate.Model(inputs, outputs)
    x = np.zeros((1, 15, 15, 8), np.float32)
    real = forward_shapes(model, x)
    assert all(row.output_shape == (None, *real[row.name][1:]) for row in plan(model).rows if row.name != "input")


def test_plan_of_vgg16_at_224_allocates_no_activation_memory(vgg16):
    tracemalloc.start()
    p = plan(vgg16, (224, 224, 3))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    smallest_activation = min(row.activation_bytes for row in p.rows if row.name.startswith("block"))
    assert smallest_activation == 7 * 7 * 512 * 4
    assert peak < smallest_activation / 2  # the first conv's output alone would be 12,845,056 bytes


def test_unbuilt_layers_are_counted_without_weights_and_agree_once_built():
    cases = [(L.Conv2D(4, 3, groups=2), (5, 5, 6)), (L.Conv2D(4, 3, use_bias=False), (5, 5, 6)),
             (L.DepthwiseConv2D(3, depth_multiplier=2), (5, 5, 6)), (L.SeparableConv2D(7, 3), (5, 5, 6)),
             (L.Conv2DTranspose(3, 2, strides=2), (5, 5, 6)), (L.Dense(5), (6,)),
             (L.BatchNormalization(), (5, 5, 6))]
    for layer, shape in cases:
        before = parameter_count(layer, (None, *shape))
        assert not layer.weights
        layer.ensure_built((None, *shape))
        trainable = sum(w.size for w in layer.trainable_weights)
        assert before == (layer.count_params(), trainable), type(layer).__name__


def test_flops_are_two_per_mac_plus_bias_and_elementwise_work():
    p = plan([L.Conv2D(5, 3, activation="relu"), L.BatchNormalization(), L.MaxPooling2D(2),
              L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax")], (6, 6, 3))
    conv, norm, pool, gap, dense = p.rows[1:]
    assert conv.flops == 2 * 2160 + 80 + 80  # multiply-adds, bias, relu on 4x4x5 outputs
    assert norm.flops == 2 * 80 and pool.flops == 2 * 2 * 5 * 3 and gap.flops == 5 * 4
    assert dense.macs == 15 and dense.flops == 2 * 15 + 3 + 3 * 3


def test_activation_memory_counts_batch_and_dtype():
    p = plan([L.Conv2D(5, 3)], (6, 6, 3), batch_size=4, dtype="float64")
    assert p.rows[-1].activation_bytes == 4 * 4 * 4 * 5 * 8
    assert p.totals["macs"] == 4 * 2160


def test_plan_renders_a_table_records_and_markdown():
    p = plan(models.lenet5())
    assert p.totals["params"] == 61_706 and p.totals["macs"] == 416_520
    records = p.records()
    assert records[1]["name"] == "conv1" and records[1]["macs"] == 28 * 28 * 6 * 25
    assert set(records[1]) >= {"output_shape", "padding", "params", "macs", "flops", "activation_bytes",
                               "receptive_field", "jump", "start"}
    table = p.table()
    assert "MACs" in table and "FLOPs" in table and "RF size" in table and "Total" in table
    assert "Multiply-accumulates: 416,520" in table
    markdown = p.markdown().splitlines()
    assert markdown[0].startswith("| Layer (type) | Output shape | Padding | Params | MACs | FLOPs |")
    assert len(markdown) == 2 + len(p.rows) + 1


def test_summary_can_show_the_plan_columns(capsys):
    models.lenet5().summary(arithmetic=True)
    printed = capsys.readouterr().out
    assert "MACs" in printed and "61,706" in printed


def test_plan_needs_an_input_shape_for_unbuilt_layers():
    with pytest.raises(ValueError, match="give an input_shape"):
        plan([L.Conv2D(1, 3)])
