"""A recursive network (Socher et al.) on real trees: the syntax trees of Python's own standard library.

    python -m striate.examples.trees               # or: striate example trees

Every function defined in six packages of the standard library that runs this example (asyncio, email,
http, multiprocessing, unittest, xml; their test folders left out) is parsed with `ast` and written as a
binary tree: a node's type token and its children are paired up, left to right, level by level, until one
pair is left; identifiers, attribute names and argument names are leaves, constants become their type.
The function's own name is not in its tree. The task: from the tree alone, name the package. One shared
composition builds every node's vector from its children's; the classifier reads the mean of all node
vectors of the tree (the root alone, Socher et al.'s sentence vector, reaches about 43% here: the
gradient must pass through a dozen tanh compositions to reach the leaves). The split is
by file: for each package, files drawn at random (seeded) are held out until they hold a fifth of its
functions, so the test functions come from modules the network never saw. Nothing is downloaded: the
trees ship with Python.
"""

import ast
import sys
import sysconfig
from collections import Counter
from pathlib import Path

import numpy as np

import striate
import striate.functional as F
from striate.examples import Timer, run_main, standard_parser
from striate.models.recursive import RecursiveNet, TreeBatch

PACKAGES = ("asyncio", "email", "http", "multiprocessing", "unittest", "xml")
UNKNOWN = 0


def function_trees(max_leaves=120, seed=0):
    """[(token tree, label, is_test)] for every function of PACKAGES with at most `max_leaves` leaves."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    rng = np.random.default_rng(seed)
    examples = []
    for label, package in enumerate(PACKAGES):
        files = sorted(p for p in (stdlib / package).rglob("*.py") if "test" not in p.relative_to(stdlib).parts[1:])
        if not files:
            raise FileNotFoundError(f"the standard library at {stdlib} has no {package} package")
        by_file = [_functions(path, max_leaves) for path in files]
        total, held_out = sum(len(trees) for trees in by_file), 0
        for index in rng.permutation(len(files)):
            is_test = held_out < total / 5
            held_out += len(by_file[index]) if is_test else 0
            examples += [(tree, label, is_test) for tree in by_file[index]]
    return examples


def _functions(path, max_leaves):
    try:
        module = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return []
    functions = [n for n in ast.walk(module) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    trees = [_binary_tree(node) for node in functions]
    return [tree for tree, leaves in trees if leaves <= max_leaves]


def _binary_tree(node):
    """(nested pairs of token strings, number of leaves) for an AST node."""
    items = [f"<{type(node).__name__}>"]
    for field, value in ast.iter_fields(node):
        if field == "name" and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue  # the function's own name would give the answer away too often
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, ast.expr_context) or item is None:
                continue
            if isinstance(item, ast.AST):
                items.append(_binary_tree(item))
            elif isinstance(node, ast.Constant) and field == "value":
                items.append((f"<{type(item).__name__}>", 1))
            elif isinstance(item, str) and field in ("id", "attr", "arg", "name", "module"):
                items.append((item, 1))
    items = [item if isinstance(item, tuple) else (item, 1) for item in items]
    while len(items) > 1:  # pair neighbours level by level: a balanced binary tree
        paired = [((a[0], b[0]), a[1] + b[1]) for a, b in zip(items[0::2], items[1::2])]
        items = paired + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def leaves_of(tree):
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(node)
        else:
            yield node


def to_indices(tree, vocabulary):
    if isinstance(tree, tuple):
        return (to_indices(tree[0], vocabulary), to_indices(tree[1], vocabulary))
    return vocabulary.get(tree, UNKNOWN)


def run(epochs=3, seed=0, quick=False, verbose=1, dim=48, batch_size=32):
    """Train the recursive net; returns held-out accuracy, the majority-class rate and seconds."""
    examples = function_trees(seed=seed)
    if quick:
        examples = examples[::2]
    train = [(t, y) for t, y, test in examples if not test]
    test = [(t, y) for t, y, test in examples if test]
    counts = Counter(token for t, _ in train for token in leaves_of(t))
    vocabulary = {token: i + 1 for i, token in enumerate(sorted(w for w, c in counts.items() if c >= 2))}
    x_train = [to_indices(t, vocabulary) for t, _ in train]
    x_test = [to_indices(t, vocabulary) for t, _ in test]
    y_train = np.array([y for _, y in train])
    y_test = np.array([y for _, y in test])

    striate.set_random_seed(seed)
    net = RecursiveNet(len(vocabulary) + 1, dim, len(PACKAGES), pooling="mean")
    optimizer = striate.optim.Adam(0.005)
    rng = np.random.default_rng(seed)
    with Timer() as timer:
        for epoch in range(epochs):
            order = rng.permutation(len(x_train))
            losses = []
            for start in range(0, len(order), batch_size):
                picked = order[start : start + batch_size]
                for weight in net.weights:
                    weight.grad = None
                loss = F.cross_entropy(net([x_train[i] for i in picked]), y_train[picked], from_logits=True)
                loss.backward()
                optimizer.apply_gradients(net.weights)
                losses.append(loss.item())
            if verbose:
                print(f"epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.4f}", flush=True)
    with striate.no_grad():
        predicted = np.concatenate([net(TreeBatch(x_test[i : i + 256])).numpy().argmax(axis=1)
                                    for i in range(0, len(x_test), 256)])
    return {"train_functions": len(x_train), "test_functions": len(x_test), "vocabulary": len(vocabulary) + 1,
            "majority_class_rate": float(np.bincount(y_test).max() / len(y_test)),
            "test_accuracy": float(np.mean(predicted == y_test)), "seconds": round(timer.seconds, 1)}


def main(argv=None):
    return run_main(standard_parser("trees", epochs=3), run, argv)


if __name__ == "__main__":
    sys.exit(main())
