"""Winograd F(2x2, 3x3) and F(4x4, 3x3) compute what the direct loop computes, in all three passes, also when they
pad with zeros themselves."""

import re

import numpy as np
import pytest
from algorithm_cases import (  # noqa: F401
    assert_equals_direct,
    assert_padded_equals_direct,
    generated_cases,
    output_gradient,
    tiny_chunks,
)

from striate.algorithms import direct, winograd

CASES = generated_cases(16, seed=11, ranks=(2,), kernel_sizes=(3,), strides=(1,), dilations=(1,), extra=(0, 9),
                        per_group_in=(1, 3), per_group_out=(1, 4))


class TileSize:
    """winograd with a fixed tile, as a module with the common signature."""

    def __init__(self, tile):
        self.tile = tile

    def conv_forward(self, *arguments, **keywords):
        return winograd.conv_forward(*arguments, tile=self.tile, **keywords)

    def conv_input_gradient(self, *arguments, **keywords):
        return winograd.conv_input_gradient(*arguments, tile=self.tile, **keywords)

    def conv_kernel_gradient(self, *arguments, **keywords):
        return winograd.conv_kernel_gradient(*arguments, tile=self.tile, **keywords)

    def conv_gradients(self, *arguments, **keywords):
        return winograd.conv_gradients(*arguments, tile=self.tile, **keywords)


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES)
def test_winograd_forward_and_both_gradients_equal_direct(tile, x, kernel, strides, dilation, groups):
    assert_equals_direct(TileSize(tile), x, kernel, strides, dilation, groups)


@pytest.mark.parametrize("padding", [((1, 1), (1, 1)), ((0, 2), (3, 0)), ((5, 4), (2, 6))])
@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:6])
def test_winograd_with_its_own_zero_padding_equals_direct_on_the_padded_input(padding, tile, x, kernel, strides,
                                                                               dilation, groups):
    assert_padded_equals_direct(TileSize(tile), x, kernel, strides, dilation, groups, padding)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[:4])
def test_winograd_in_one_image_chunks_on_two_threads_equals_direct(x, kernel, strides, dilation, groups):
    assert_equals_direct(winograd, x, kernel, strides, dilation, groups)


@pytest.mark.parametrize("budget", [1, 3000], ids=["one tile row per part", "several tile rows per part"])
@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize(("x", "kernel", "strides", "dilation", "groups"), CASES[6:10])
def test_winograd_forward_in_parts_of_tile_rows_equals_direct(budget, tile, x, kernel, strides, dilation, groups,
                                                               monkeypatch):
    """An image whose tiles exceed the chunk budget: the forward pass runs its tile rows in parts
    (`image_and_row_chunks`), on two threads, each part reading its own input rows and the padding above them."""
    from striate.core import runtime

    monkeypatch.setattr(winograd, "CHUNK_BYTES", budget)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    for padding in [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((5, 4), (2, 6))]:
        padded = np.pad(x, ((0, 0), *padding, (0, 0)))
        np.testing.assert_allclose(TileSize(tile).conv_forward(x, kernel, strides, dilation, groups, padding=padding),
                                   direct.conv_forward(padded, kernel, strides, dilation, groups), rtol=1e-10,
                                   atol=1e-10)


@pytest.mark.parametrize(("tile", "tolerance"), [(2, 1e-5), (4, 1e-4)])
def test_winograd_float32_error_stays_small(tile, tolerance):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 18, 18, 32)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 32, 16)).astype(np.float32)
    reference = direct.conv_forward(x.astype(np.float64), kernel.astype(np.float64), (1, 1), (1, 1), 1)
    y = winograd.conv_forward(x, kernel, (1, 1), (1, 1), 1, tile=tile)
    assert y.dtype == np.float32
    assert np.abs(y - reference).max() <= tolerance * np.abs(reference).max()


@pytest.mark.parametrize(("kernel_size", "strides", "dilation"), [((5, 5), (1, 1), (1, 1)), ((3, 3), (2, 2), (1, 1)),
                                                                    ((3, 3), (1, 1), (2, 2)), ((3,), (1,), (1,))])
def test_winograd_refuses_what_it_cannot_serve(kernel_size, strides, dilation):
    x = np.zeros((1, *(9,) * len(kernel_size), 2))
    kernel = np.zeros((*kernel_size, 2, 2))
    message = f"winograd needs a 2-D 3x3 kernel, stride 1 and dilation 1; received kernel_size={tuple(kernel_size)}"
    with pytest.raises(ValueError, match=re.escape(message)):
        winograd.conv_forward(x, kernel, strides, dilation, 1)
    grad = output_gradient(x[(slice(None),) * (1 + len(kernel_size))], kernel, strides, dilation)
    with pytest.raises(ValueError, match="winograd needs"):
        winograd.conv_input_gradient(grad, kernel, x.shape, strides, dilation, 1)
    with pytest.raises(ValueError, match="winograd needs"):
        winograd.conv_kernel_gradient(x, grad, kernel.shape, strides, dilation, 1)


@pytest.mark.parametrize("tile", [2, 4])
def test_winograd_on_an_output_of_whole_tiles_equals_direct(tile):
    rng = np.random.default_rng(4)
    x, kernel = rng.standard_normal((2, 10, 6, 3)), rng.standard_normal((3, 3, 3, 5))  # output 8 x 4
    assert_equals_direct(TileSize(tile), x, kernel, (1, 1), (1, 1), 1)


def _tiles_per_product_with_a_kernel_outgrowing_the_cache(monkeypatch, min_chunk_tiles):
    """Make every kernel outgrow the cache, chunks of CHUNK_BYTES one image, MIN_CHUNK_TILES `min_chunk_tiles`, two
    threads on any problem; return the list that records the tile count of each chunk's products."""
    from striate.core import runtime

    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(winograd, "KERNEL_IN_CACHE_BYTES", 1)
    monkeypatch.setattr(winograd, "MIN_CHUNK_TILES", min_chunk_tiles)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)
    tiles_per_product = []
    grouped_product = winograd._grouped_product

    def counting_product(v, u, groups):
        tiles_per_product.append(v.shape[2])
        return grouped_product(v, u, groups)

    monkeypatch.setattr(winograd, "_grouped_product", counting_product)
    return tiles_per_product


def test_winograd_chunks_of_a_kernel_outgrowing_the_cache_hold_at_least_min_chunk_tiles(monkeypatch):
    """Where the transformed kernel outgrows the cache (here: any), each chunk's products take at least
    MIN_CHUNK_TILES tiles (or the whole batch), though a chunk of CHUNK_BYTES would hold one image; on two threads,
    all three passes still equal direct."""
    rng = np.random.default_rng(12)
    x, kernel = rng.standard_normal((6, 6, 5, 3)), rng.standard_normal((3, 3, 3, 4))  # 9 F(2x2) tiles an image
    tiles_per_product = _tiles_per_product_with_a_kernel_outgrowing_the_cache(monkeypatch, 10)
    assert_padded_equals_direct(TileSize(2), x, kernel, (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    # two images (18 tiles) a chunk, the fewest that reach 10 tiles (one image a chunk without the rule)
    assert set(tiles_per_product) == {18}


def test_winograd_forward_still_cuts_an_image_of_many_tiles_into_tile_rows_when_its_kernel_outgrows_the_cache(
        monkeypatch):
    """An image of more than MIN_CHUNK_TILES tiles, with a kernel outgrowing the cache: the forward runs it in parts
    of its tile rows of about MIN_CHUNK_TILES tiles (one image does not become one part of all its tiles), on two
    threads, equal to direct."""
    rng = np.random.default_rng(13)
    x, kernel = rng.standard_normal((1, 16, 16, 3)), rng.standard_normal((3, 3, 3, 4))  # padded: 8x8 F(2x2) tiles
    tiles_per_product = _tiles_per_product_with_a_kernel_outgrowing_the_cache(monkeypatch, 16)
    padding = ((1, 1), (1, 1))
    np.testing.assert_allclose(TileSize(2).conv_forward(x, kernel, (1, 1), (1, 1), 1, padding=padding),
                               direct.conv_forward(np.pad(x, ((0, 0), *padding, (0, 0))), kernel, (1, 1), (1, 1), 1),
                               rtol=1e-10, atol=1e-10)
    assert tiles_per_product == [16, 16, 16, 16]  # four parts of two tile rows
