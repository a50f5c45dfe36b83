"""The compiled tile transforms of winograd_loops are Lavin & Gray's matrices: M d M^T for one tile, written out."""

import numpy as np
import pytest

from striate.algorithms import winograd_loops as loops
from striate.algorithms.winograd import TRANSFORMS


def matrix(kind, tile):
    bt, at = (np.array(TRANSFORMS[tile][name], dtype=np.float64) for name in ("BT", "AT"))
    return {loops.INPUT: bt, loops.OUTPUT: at, loops.GRADIENT: at.T, loops.ADJOINT: bt.T}[kind]


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("kind", [loops.INPUT, loops.GRADIENT])
def test_gather_transform_of_one_tile_is_m_d_m_transposed(kind, tile):
    m = matrix(kind, tile)
    d = np.random.default_rng(kind + tile).standard_normal((1, m.shape[1], m.shape[1], 3))
    out = np.empty((m.shape[0], m.shape[0], 1, 3))
    loops.gather_transform(d, kind, tile, 0, 0, tile, 1, 1, out)
    np.testing.assert_allclose(out[:, :, 0], np.einsum("ik,klc,jl->ijc", m, d[0], m), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("kind", [loops.OUTPUT, loops.ADJOINT])
def test_transform_scatter_of_one_tile_is_m_z_m_transposed_added_in_place(kind, tile):
    m = matrix(kind, tile)
    z = np.random.default_rng(kind + tile).standard_normal((m.shape[1], m.shape[1], 1, 3))
    out = np.ones((1, m.shape[0], m.shape[0], 3))
    loops.transform_scatter(z, kind, tile, 0, 0, tile, 1, 1, out, True)
    np.testing.assert_allclose(out[0], 1 + np.einsum("ki,ijc,lj->klc", m, z[:, :, 0], m), rtol=1e-12, atol=1e-12)
