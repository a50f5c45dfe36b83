"""The recursive network: gradients against finite differences, batching trees of different shapes."""

import numpy as np
import pytest

import striate
from oracle import check_finite_differences
from striate.models.recursive import RecursiveNet, TreeBatch

TREES = [((3, 7), 1), (2, (4, (5, 6))), 5, (((0, 1), (2, 3)), ((4, 5), (6, 7)))]


@pytest.mark.parametrize("pooling", ["root", "mean"])
def test_gradients_of_every_weight_match_finite_differences(pooling):
    striate.set_random_seed(0)
    net = RecursiveNet(8, 3, 2, pooling=pooling, dtype="float64")
    batch = TreeBatch(TREES)

    def run(embeddings, kernel, bias, output_kernel, output_bias):
        net.embeddings, net.kernel, net.bias = embeddings, kernel, bias
        net.output_kernel, net.output_bias = output_kernel, output_bias
        return net(batch)

    weights = [w + np.random.default_rng(1).normal(0, 0.3, w.shape) for w in net.get_weights()]
    check_finite_differences(run, weights, max_entries=30)


@pytest.mark.parametrize("pooling", ["root", "mean"])
def test_a_batch_of_different_shapes_equals_each_tree_alone(pooling):
    striate.set_random_seed(0)
    net = RecursiveNet(8, 5, 3, pooling=pooling)
    together = net(TREES).numpy()
    for row, tree in enumerate(TREES):
        np.testing.assert_allclose(together[row], net([tree]).numpy()[0], rtol=1e-6, atol=1e-7)


def test_the_composition_is_the_formula_at_one_node():
    striate.set_random_seed(0)
    net = RecursiveNet(4, 2, 2, dtype="float64")
    e, w, b = net.embeddings.data, net.kernel.data, net.bias.data
    expected = np.tanh(np.concatenate([e[1], e[3]]) @ w + b)
    np.testing.assert_allclose(net.tree_vectors([(1, 3)]).numpy()[0], expected)


def test_levels_are_numbered_by_height():
    batch = TreeBatch([((3, 7), 1), 2])
    np.testing.assert_array_equal(batch.words, [3, 7, 1, 2])
    assert [level[0].tolist() for level in batch.levels] == [[4], [5]]
    np.testing.assert_array_equal(batch.roots, [5, 3])
    np.testing.assert_array_equal(batch.owners, [0, 0, 0, 1, 0, 0])


def test_mean_pooling_averages_leaves_and_internal_nodes():
    striate.set_random_seed(0)
    net = RecursiveNet(4, 2, 2, pooling="mean", dtype="float64")
    e, w, b = net.embeddings.data, net.kernel.data, net.bias.data
    parent = np.tanh(np.concatenate([e[1], e[3]]) @ w + b)
    np.testing.assert_allclose(net.tree_vectors([(1, 3)]).numpy()[0], (e[1] + e[3] + parent) / 3)


def test_a_deep_chain_is_fine():
    tree = 0
    for word in range(1, 600):
        tree = (tree, word % 5)
    assert RecursiveNet(5, 2, 2)([tree]).shape == (1, 2)


def test_bad_trees_are_refused():
    with pytest.raises(ValueError, match=r"a pair \(left, right\); received \(1, 2, 3\)"):
        TreeBatch([(1, 2, 3)])
    with pytest.raises(IndexError, match="word index 9 is out of range for vocabulary_size=5"):
        RecursiveNet(5, 2, 2)([(1, 9)])
    with pytest.raises(ValueError, match="no trees"):
        TreeBatch([])
