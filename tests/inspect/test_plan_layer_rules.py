"""plan() on the layers that answer for their own arithmetic: causal, transposed, 1-D and 3-D convolutions,
merges, cropping and upsampling. Receptive fields are checked against the input cells a real forward pass
reads (perturb one input cell, see which outputs move)."""

import numpy as np
import pytest

import striate
from striate import layers as L
from striate.inspect.plan import plan


def cells_read(layers, input_shape, output_index):
    """The input positions whose change moves output[output_index] (all channels) in a real forward pass."""
    x = np.random.default_rng(0).standard_normal((1, *input_shape)).astype(np.float32)

    def run(batch):
        for layer in layers:
            batch = layer(batch)
        return np.asarray(batch.data)[(0, *output_index)]

    base = run(x)
    moved = []
    for position in np.ndindex(*input_shape[:-1]):
        changed = x.copy()
        changed[(0, *position)] += 1.0
        if not np.allclose(run(changed), base, atol=1e-4):
            moved.append(position)
    return np.array(moved)


def planned_cells(row, output_index):
    """[(first, last) input cell] per axis of output[output_index]'s field, from a plan row."""
    return [(start + i * jump - (size - 1) / 2, start + i * jump + (size - 1) / 2)
            for i, size, jump, start in zip(output_index, row.receptive_field, row.jump, row.start)]


# ---- Conv1D(padding="causal") --------------------------------------------------------------------------------
def test_causal_conv1d_plans_with_k_minus_1_times_d_zeros_before():
    layer = L.Conv1D(4, 3, padding="causal", dilation_rate=2)
    row = plan([layer], (10, 3)).rows[-1]
    assert row.output_shape == (None, 10, 4)
    assert row.padding == (((3 - 1) * 2, 0),)
    assert row.params == 3 * 3 * 4 + 4
    assert row.macs == 10 * 4 * (3 * 3) and row.flops == 2 * 360 + 10 * 4   # products, bias
    # field: 1 + d (k - 1) = 5 wide, centred (k_eff - 1) / 2 - before = 2 - 4 = -2 for output 0
    assert row.receptive_field == (5,) and row.jump == (1,) and row.start == (-2.0,)


def test_causal_conv1d_field_is_the_steps_a_forward_pass_reads():
    layers = [L.Conv1D(1, 3, padding="causal", dilation_rate=2, kernel_initializer="ones")]
    row = plan(layers, (10, 1)).rows[-1]
    read = cells_read(layers, (10, 1), (6,))[:, 0]
    assert list(read) == [2, 4, 6]                      # t - 2d, t - d, t: never a later step
    assert planned_cells(row, (6,)) == [(2.0, 6.0)]


# ---- transposed convolutions and upsampling end the field ----------------------------------------------------
def test_transposed_convolutions_plan_their_scatter_and_end_the_field():
    p = plan([L.Conv1D(3, 3), L.Conv1DTranspose(2, 3, strides=2)], (12, 3))
    conv, transposed = p.rows[1:]
    assert transposed.output_shape == (None, (10 - 1) * 2 + 3, 2)
    assert transposed.macs == 10 * 3 * 3 * 2 and transposed.params == 3 * 2 * 3 + 2
    assert conv.receptive_field == (3,) and transposed.receptive_field is None and transposed.padding is None
    row = plan([L.Conv3DTranspose(2, (2, 3, 3), strides=(1, 2, 2))], (3, 4, 4, 5)).rows[-1]
    assert row.output_shape == (None, 4, 9, 9, 2)
    assert row.macs == 3 * 4 * 4 * 5 * 18 * 2 and row.flops == 2 * row.macs + 4 * 9 * 9 * 2


def test_upsampled_neighbours_share_input_cells_so_the_field_ends():
    layers = [L.Conv1D(1, 3, kernel_initializer="ones"), L.UpSampling1D(2)]
    firsts = [cells_read(layers, (12, 1), (j,))[0, 0] for j in range(2, 7)]
    assert firsts == [1, 1, 2, 2, 3]                     # steps of 0 and 1: no one jump fits
    p = plan([*layers, L.Conv1D(1, 3)], (12, 1))
    assert p.rows[1].receptive_field == (3,)
    assert p.rows[2].receptive_field is None and p.rows[3].receptive_field is None


def test_upsampling2d_and_resizing_end_the_field():
    p = plan([L.Conv2D(1, 3), L.UpSampling2D(2), L.Conv2D(1, 3), L.Resizing(4, 4)], (8, 8, 1))
    assert [row.receptive_field for row in p.rows[1:]] == [(3, 3), None, None, None]


# ---- cropping moves the start -----------------------------------------------------------------------------------
def test_cropping2d_moves_the_start_by_before_times_jump():
    layers = [L.Conv2D(1, 3, strides=2, kernel_initializer="ones"), L.Cropping2D(((1, 0), (2, 1)))]
    row = plan(layers, (11, 11, 1)).rows[-1]
    # conv: size 3, jump 2, start 1; the crop's output (0, 0) is the conv's (1, 2): centred 1 + 1 * 2, 1 + 2 * 2
    assert row.receptive_field == (3, 3) and row.jump == (2, 2) and row.start == (3.0, 5.0)
    for index in [(0, 0), (2, 1)]:
        read = cells_read(layers, (11, 11, 1), index)
        assert planned_cells(row, index) == [(read[:, 0].min(), read[:, 0].max()),
                                             (read[:, 1].min(), read[:, 1].max())]


def test_center_crop_moves_the_start_like_a_cropping():
    row = plan([L.Conv2D(1, 3), L.CenterCrop(4, 5)], (10, 11, 1)).rows[-1]  # (8, 9) -> crop top 2, left 2
    assert row.start == (1.0 + 2, 1.0 + 2) and row.receptive_field == (3, 3)


# ---- global pooling, merges, a model inside a model ----------------------------------------------------------------
def test_global_pooling_1d_and_3d_see_the_whole_map():
    p = plan([L.Conv1D(2, 3), L.GlobalMaxPooling1D()], (9, 2))
    assert p.rows[-1].flops == 2 * (7 - 1) and p.rows[-1].receptive_field == (9,)
    p = plan([L.GlobalAveragePooling3D()], (2, 3, 4, 5))
    assert p.rows[-1].flops == 5 * (2 * 3 * 4) and p.rows[-1].receptive_field == (2, 3, 4)


def test_merges_in_a_functional_model_cost_one_flop_per_output_per_extra_input():
    a, b, c = (striate.Input((4, 5)) for _ in range(3))
    product = L.Multiply(name="product")([a, b, c])
    difference = L.Subtract(name="difference")([product, a])
    mean = L.Average(name="mean")([difference, b])
    p = plan(striate.Model([a, b, c], mean))
    assert p["product"].flops == 20 * 2 and p["difference"].flops == 20 and p["mean"].flops == 20 * 2
    assert p.totals["macs"] == 0


def test_a_nested_model_composes_its_field_as_its_layers_would():
    inner = striate.models.Sequential([L.Conv2D(1, 3, dilation_rate=2), L.Conv2D(1, 3, strides=2)], name="inner")
    outer = striate.models.Sequential([L.Conv2D(1, 3, strides=2, input_shape=(41, 41, 1)), inner, L.MaxPooling2D(2)])
    flat = [L.Conv2D(1, 3, strides=2), L.Conv2D(1, 3, dilation_rate=2), L.Conv2D(1, 3, strides=2), L.MaxPooling2D(2)]
    nested, expected = plan(outer), plan(flat, (41, 41, 1))
    assert nested["inner"].macs == sum(row.macs for row in expected.rows[2:4])
    for got, want in [(nested.rows[2], expected.rows[3]), (nested.rows[3], expected.rows[4])]:
        assert (got.receptive_field, got.jump, got.start) == (want.receptive_field, want.jump, want.start)


@pytest.mark.parametrize("layer", [L.Lambda(lambda x: x[:, ::-1]), L.LSTM(2, return_sequences=True)])
def test_layers_that_move_values_across_space_end_the_field(layer):
    assert plan([L.Conv1D(2, 3), layer], (8, 2)).rows[-1].receptive_field is None
