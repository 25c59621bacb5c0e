"""Decision trees: case splits become short nested conditionals that fit every row."""

import itertools

import numpy as np

from mips.regress.expr import Expr, const, var
from mips.regress.tree import MAX_TREE_SIZE, decision_tree


def grid(*ranges) -> np.ndarray:
    return np.array(list(itertools.product(*ranges)), dtype=np.int64)


def argmax_of_three(X: np.ndarray) -> np.ndarray:
    # Which of three counts is largest, ties to the first, from a = n0 - n1 and b = n0 - n2.
    a, b = X[:, 0], X[:, 1]
    return np.where((a >= 0) & (b >= 0), 0, np.where(b >= a, 1, 2))


def test_a_case_split_becomes_a_tree_that_holds_beyond_its_rows():
    X = grid(range(-6, 7), range(-6, 7))
    tree = decision_tree(X, argmax_of_three(X), [])
    assert tree is not None and tree.op == "cond" and tree.size <= MAX_TREE_SIZE
    assert tree.evaluate(X).tolist() == argmax_of_three(X).tolist()
    far = grid(range(-40, 41, 7), range(-40, 41, 7))
    assert tree.evaluate(far).tolist() == argmax_of_three(far).tolist()


def test_leaves_may_be_given_terms():
    X = grid(range(-5, 6), range(-5, 6))
    diff = Expr("sub", (var(0), var(1)))
    y = np.where(X[:, 0] < X[:, 1], X[:, 0] - X[:, 1], 7)
    tree = decision_tree(X, y, [diff, const(7)])  # y has too many values for constant leaves
    assert tree is not None and tree.evaluate(X).tolist() == y.tolist()
    assert tree.render(["a", "b"]) == "(a - b if a < b else 7)"


def test_a_random_table_gets_no_tree():
    X = grid(range(6), range(6))
    y = np.random.default_rng(0).integers(0, 10, len(X))
    assert decision_tree(X, y, []) is None
