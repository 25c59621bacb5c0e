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


def test_which_of_four_counts_is_largest_is_a_full_tree_of_depth_three():
    """From a = n0 - n1, b = n0 - n2, c = n0 - n3, ties to the smallest: a tournament of three
    comparisons on every path, right far beyond the rows it was fitted on."""

    def argmax_of_four(X: np.ndarray) -> np.ndarray:
        counts = np.column_stack([np.zeros(len(X), np.int64), -X])  # n_i - n0
        return np.argmax(counts, axis=1)

    X = grid(range(-5, 6), range(-5, 6), range(-5, 6))
    tree = decision_tree(X, argmax_of_four(X), [])
    assert tree is not None and tree.size <= MAX_TREE_SIZE
    far = grid(range(-40, 41, 9), range(-40, 41, 9), range(-40, 41, 9))
    assert tree.evaluate(far).tolist() == argmax_of_four(far).tolist()


def test_leaves_may_be_given_terms():
    X = grid(range(-5, 6), range(-5, 6))
    diff = Expr("sub", (var(0), var(1)))
    y = np.where(X[:, 0] < X[:, 1], X[:, 0] - X[:, 1], 7)
    tree = decision_tree(X, y, [diff, const(7)])  # y has too many values for constant leaves
    assert tree is not None and tree.evaluate(X).tolist() == y.tolist()
    assert tree.render(["a", "b"]) == "(a - b if a < b else 7)"


def test_features_and_constants_are_tried_as_leaves_before_compound_terms():
    """Within -7..7, a // 8 % 3 is 2 for a < 0 and 0 otherwise: a leaf that fits the rows of
    a branch and stops fitting past them. A comparison of a with 0 holds everywhere."""

    def rule(X: np.ndarray) -> np.ndarray:
        a, b = X[:, 0], X[:, 1]
        return np.where(b < 0, 2 * (a < 0), 1)

    X = grid(range(-7, 8), range(-3, 4))
    periodic = Expr("mod", (Expr("floordiv", (var(0), const(8))), const(3)))
    assert periodic.evaluate(X[X[:, 1] < 0]).tolist() == rule(X[X[:, 1] < 0]).tolist()
    tree = decision_tree(X, rule(X), [periodic])
    assert tree is not None
    far = grid(range(-40, 41, 3), range(-3, 4))
    assert tree.evaluate(far).tolist() == rule(far).tolist()


def test_a_random_table_gets_no_tree():
    X = grid(range(6), range(6))
    y = np.random.default_rng(0).integers(0, 10, len(X))
    assert decision_tree(X, y, []) is None
