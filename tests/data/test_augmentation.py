"""Augmentation of (N, H, W, C) batches: known pixels move where they should, seeds repeat."""

from functools import partial

import numpy as np
import pytest

from striate.data import (
    Augmentation,
    random_crop,
    random_flip,
    random_rotation,
    random_shift,
    rotate,
    shift,
)


def _batch(n=4, height=6, width=5, channels=2, seed=0):
    return np.random.default_rng(seed).random((n, height, width, channels)).astype(np.float32)


def test_shift_by_one_row_moves_a_known_pixel_down():
    batch = np.zeros((1, 5, 5, 1))
    batch[0, 2, 3, 0] = 7
    moved = shift(batch, [(1, 0)])
    assert moved[0, 3, 3, 0] == 7 and moved.sum() == 7


def test_shift_fills_with_zeros_and_can_leave_the_frame():
    batch = _batch(n=3)
    moved = shift(batch, [(0, -2), (-1, 1), (6, 0)])
    assert np.array_equal(moved[0, :, :3], batch[0, :, 2:]) and not moved[0, :, 3:].any()
    assert np.array_equal(moved[1, :5, 1:], batch[1, 1:, :4]) and not moved[1, 5].any()
    assert not moved[2].any()


def test_random_shift_stays_within_max_shift_and_repeats_under_a_seed():
    batch = _batch(n=8)
    out = random_shift(batch, 1, np.random.default_rng(5))
    assert np.array_equal(out, random_shift(batch, 1, np.random.default_rng(5)))
    candidates = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    for image, moved in zip(batch, out, strict=True):
        assert any(np.array_equal(moved, shift(image[None], [offset])[0]) for offset in candidates)


def test_flip_twice_with_the_same_draws_is_identity():
    batch = _batch(n=16)
    once = random_flip(batch, np.random.default_rng(2), horizontal=True, vertical=True)
    twice = random_flip(once, np.random.default_rng(2), horizontal=True, vertical=True)
    assert np.array_equal(twice, batch)
    assert not np.array_equal(once, batch)


def test_horizontal_flip_mirrors_columns_or_leaves_the_image():
    batch = _batch(n=16)
    out = random_flip(batch, np.random.default_rng(0))
    mirrored = [np.array_equal(o, b[:, ::-1]) for o, b in zip(out, batch, strict=True)]
    kept = [np.array_equal(o, b) for o, b in zip(out, batch, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert any(mirrored) and any(kept)


@pytest.mark.parametrize(
    ("size", "padding", "expected"), [(4, 0, (4, 4)), ((3, 5), 0, (3, 5)), (6, 1, (6, 6))]
)
def test_crop_size(size, padding, expected):
    batch = _batch(n=3, height=6, width=5)
    out = random_crop(batch, size, np.random.default_rng(0), padding=padding)
    assert out.shape == (3, *expected, 2)


def test_crop_is_a_window_of_the_image():
    batch = _batch(n=5, height=6, width=6)
    out = random_crop(batch, 4, np.random.default_rng(1))
    windows = np.lib.stride_tricks.sliding_window_view(batch, (4, 4), axis=(1, 2))  # (N, 3, 3, C, 4, 4)
    for crop, image_windows in zip(out, windows, strict=True):
        candidates = image_windows.transpose(0, 1, 3, 4, 2).reshape(-1, 4, 4, 2)
        assert any(np.array_equal(crop, c) for c in candidates)


def test_alexnet_style_crop_256_to_227():
    batch = np.zeros((2, 256, 256, 3), dtype=np.uint8)
    assert random_crop(batch, 227, np.random.default_rng(0)).shape == (2, 227, 227, 3)


def test_crop_larger_than_the_padded_image_is_refused():
    with pytest.raises(ValueError, match="received size=7, padding=0"):
        random_crop(_batch(), 7, np.random.default_rng(0))


def test_rotation_by_zero_is_identity():
    batch = _batch()
    assert np.allclose(rotate(batch, np.zeros(len(batch))), batch)
    assert np.allclose(random_rotation(batch, 0, np.random.default_rng(0)), batch)


def test_rotation_by_90_degrees_equals_rot90_on_a_square_image():
    batch = _batch(n=2, height=7, width=7, channels=3)
    assert np.allclose(rotate(batch, [90, 90]), np.rot90(batch, axes=(1, 2)), atol=1e-5)


def test_random_rotation_repeats_under_a_seed_and_keeps_shape_and_dtype():
    batch = _batch()
    out = random_rotation(batch, 15, np.random.default_rng(4))
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert np.array_equal(out, random_rotation(batch, 15, np.random.default_rng(4)))


def test_augmentation_composes_steps_in_order():
    batch = _batch(n=6, height=8, width=8)
    augment = Augmentation([
        partial(random_crop, size=6, padding=1),
        partial(random_flip, vertical=True),
        partial(random_shift, max_shift=1),
        partial(random_rotation, max_degrees=10),
    ])
    out = augment(batch, np.random.default_rng(9))
    assert out.shape == (6, 6, 6, 2)
    assert np.array_equal(out, augment(batch, np.random.default_rng(9)))

    rng = np.random.default_rng(9)
    by_hand = random_crop(batch, 6, rng, padding=1)
    by_hand = random_flip(by_hand, rng, vertical=True)
    by_hand = random_shift(by_hand, 1, rng)
    by_hand = random_rotation(by_hand, 10, rng)
    assert np.array_equal(out, by_hand)


@pytest.mark.parametrize("function", [partial(random_shift, max_shift=1), random_flip,
                                      partial(random_crop, size=2), partial(random_rotation, max_degrees=5)])
def test_batches_must_be_four_dimensional(function):
    with pytest.raises(ValueError, match=r"received shape \(6, 5\)"):
        function(np.zeros((6, 5)), rng=np.random.default_rng(0))
