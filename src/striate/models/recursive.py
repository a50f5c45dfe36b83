"""A recursive neural network over binary trees (Socher et al. 2011, 2013): one weight matrix composes every
pair of children, from the leaves up to the root.

    leaf:      h = E[word]                               (a row of the embedding table, (V, d))
    internal:  h = tanh([h_left ; h_right] @ W + b)       W (2d, d), b (d,), shared by every node of every tree
    output:    class scores h_tree @ W_out + b_out, where h_tree is the root's vector (pooling="root", as
               Socher et al.) or the mean of the vectors of all nodes of the tree (pooling="mean")

A tree is written as nested pairs of word indices: `((3, 7), (1, (4, 2)))`; a bare int is a one-word tree.
Trees of different shapes are batched by height: `TreeBatch` numbers every node of every tree so that
all nodes of height k come after those of height < k; one level is then one gather of the children and one
matrix product, however many trees and shapes are in the batch. Autodiff does backpropagation through
structure (Goller & Kuechler 1996) through these ops; no gradient is written here.

>>> net = RecursiveNet(vocabulary_size=10, dim=8, classes=2)
>>> scores = net([((3, 7), 1), (2, (4, (5, 6)))])     # (2, 2): one row per tree
"""

import sys

import numpy as np

from striate import ops
from striate.layers.initializers import RandomUniform
from striate.layers.layer import Layer


class TreeBatch:
    """Trees flattened into one node numbering, leaves first, then internal nodes by height.

    Attributes:
        words: (L,) word index of each leaf; leaves are nodes 0..L-1.
        levels: per height k >= 1, (node ids, left child ids, right child ids) arrays of the nodes at height k;
            the node ids of level k follow those of level k - 1 without a gap.
        roots: (B,) the node id of each tree's root.
        owners: (nodes,) the tree (0..B-1) each node belongs to, by node id.
    """

    def __init__(self, trees):
        trees = list(trees)
        if not trees:
            raise ValueError("TreeBatch: received no trees")
        words, internal = [], []   # internal: (height, left key, right key)
        leaf_owner, node_owner = [], []

        def visit(node, tree_index):
            """Returns (key, height); keys are ("leaf", i) or ("node", j) until numbering."""
            if isinstance(node, int | np.integer):
                words.append(int(node))
                leaf_owner.append(tree_index)
                return ("leaf", len(words) - 1), 0
            if not (isinstance(node, tuple | list) and len(node) == 2):
                raise ValueError(f"TreeBatch: a node is a word index or a pair (left, right); received {node!r}")
            left, left_height = visit(node[0], tree_index)
            right, right_height = visit(node[1], tree_index)
            height = max(left_height, right_height) + 1
            internal.append((height, left, right))
            node_owner.append(tree_index)
            return ("node", len(internal) - 1), height

        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))  # a tree as deep as a 5,000-word chain is fine
        try:
            roots = [visit(tree, tree_index)[0] for tree_index, tree in enumerate(trees)]
        finally:
            sys.setrecursionlimit(limit)
        order = sorted(range(len(internal)), key=lambda j: internal[j][0])  # stable: by height
        node_id = {("leaf", i): i for i in range(len(words))}
        for position, j in enumerate(order):
            node_id[("node", j)] = len(words) + position
        self.words = np.array(words, dtype=np.int64)
        self.levels = []
        heights = np.array([internal[j][0] for j in order], dtype=np.int64)
        for height in np.unique(heights):
            members = [order[k] for k in np.flatnonzero(heights == height)]
            self.levels.append((
                np.array([node_id[("node", j)] for j in members]),
                np.array([node_id[internal[j][1]] for j in members]),
                np.array([node_id[internal[j][2]] for j in members]),
            ))
        self.roots = np.array([node_id[key] for key in roots], dtype=np.int64)
        self.owners = np.array(leaf_owner + [node_owner[j] for j in order], dtype=np.int64)

    def __len__(self):
        return len(self.roots)


class RecursiveNet(Layer):
    """Socher-style recursive network: embeddings, one shared composition, a softmax-free classifier.

    Args:
        vocabulary_size: V, number of word indices (0..V-1).
        dim: d, the size of every node's vector.
        classes: number of output scores per tree (logits; use cross-entropy with from_logits=True).

    Weights (get_weights order): embeddings (V, d), composition kernel (2d, d), composition bias (d,),
    classifier kernel (d, classes), classifier bias (classes,).
    """

    def __init__(self, vocabulary_size, dim, classes, pooling="root", dtype=None, **options):
        super().__init__(**options)
        if pooling not in ("root", "mean"):
            raise ValueError(f"{self.name}: pooling must be 'root' or 'mean'; received {pooling!r}")
        self.pooling = pooling
        self.vocabulary_size, self.dim, self.classes = int(vocabulary_size), int(dim), int(classes)
        dtype = np.dtype(dtype or np.float32)
        self.embeddings = self.add_weight("embeddings", (self.vocabulary_size, self.dim),
                                          RandomUniform(-0.1, 0.1), dtype=dtype)
        self.kernel = self.add_weight("kernel", (2 * self.dim, self.dim), dtype=dtype)
        self.bias = self.add_weight("bias", (self.dim,), "zeros", dtype=dtype)
        self.output_kernel = self.add_weight("output_kernel", (self.dim, self.classes), dtype=dtype)
        self.output_bias = self.add_weight("output_bias", (self.classes,), "zeros", dtype=dtype)
        self.built = True

    def __call__(self, trees, training=False):
        return self.call(trees, training=training)

    def call(self, trees, training=False):
        """Class scores (B, classes) of a TreeBatch or a list of trees."""
        return self.tree_vectors(trees) @ self.output_kernel + self.output_bias

    def tree_vectors(self, trees):
        """(B, d): each tree's root vector, or the mean of its node vectors (pooling="mean")."""
        batch = trees if isinstance(trees, TreeBatch) else TreeBatch(trees)
        states = self.node_vectors(batch)
        if self.pooling == "root":
            return states[batch.roots]
        averaging = np.zeros((len(batch), len(batch.owners)), states.dtype)
        averaging[batch.owners, np.arange(len(batch.owners))] = 1
        averaging /= averaging.sum(axis=1, keepdims=True)
        return averaging @ states

    def node_vectors(self, batch):
        """(nodes, d): the vector of every node of a TreeBatch, row = node id."""
        self.check_words(batch.words)
        states = self.embeddings[batch.words]                  # nodes 0..L-1
        for _, left, right in batch.levels:
            children = ops.concat([states[left], states[right]], axis=1)
            parents = ops.tanh(children @ self.kernel + self.bias)
            states = ops.concat([states, parents], axis=0)      # node ids stay row numbers
        return states

    def check_words(self, words):
        if words.size and (words.min() < 0 or words.max() >= self.vocabulary_size):
            bad = words[(words < 0) | (words >= self.vocabulary_size)][0]
            raise IndexError(f"{self.name}: word index {bad} is out of range for vocabulary_size="
                             f"{self.vocabulary_size} (valid indices 0..{self.vocabulary_size - 1})")

    def compute_output_shape(self, input_shape):
        return (None, self.classes)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "dim": self.dim,
                "classes": self.classes, "pooling": self.pooling}

