"""Decision trees of comparisons: case splits too large to enumerate, as nested conditionals.

Divide and conquer, as in EUSolver: a case split such as "which count is largest, ties to the
smallest" is too large for the enumeration (11+ nodes) but is a short tree of comparisons between
features, or with small constants, over constant or single-feature leaves.
"""

from __future__ import annotations

import numpy as np

from mips.regress.expr import Expr, const, var

# Deeper or larger trees would be lookup tables in disguise. The size admits a full tree of
# depth 3: seven comparisons between features (four nodes each) over eight constant leaves, the
# tournament that says which of four counts is largest.
TREE_DEPTH = 3
MAX_TREE_SIZE = 36


def decision_tree(X: np.ndarray, y: np.ndarray, terms: list[Expr]) -> Expr | None:
    """Nested conditionals over simple comparisons, each leaf a term right on its rows, or None.

    Predicates are chosen greedily by the rows their two sides' best terms explain. A tree
    whose leaves are features and constants is sought first: a compound term that fits a
    leaf's rows (``s // 8 % 3`` for a sign within -7..7) may stop fitting past them.
    """
    k = X.shape[1]
    values = np.unique(y)
    simple = [var(j) for j in range(k)] + ([const(v) for v in values] if len(values) <= 8 else [])
    compound = [e for e in terms if e.size <= 5]
    preds = _predicates(k)
    truth = np.array([p.evaluate(X) == 1 for p in preds])  # (predicates, rows)
    for leaves in (simple, sorted(simple + compound, key=lambda e: e.size)):
        if not leaves:
            continue
        tree = _grow(X, y, leaves, preds, truth)
        if tree is not None and tree.size <= MAX_TREE_SIZE:
            return tree
    return None


def _grow(
    X: np.ndarray, y: np.ndarray, leaves: list[Expr], preds: list[Expr], truth: np.ndarray
) -> Expr | None:
    """The greedy tree of ``preds`` over ``leaves``, at most TREE_DEPTH deep, or None."""
    right = np.array([e.evaluate(X) == y for e in leaves])  # (terms, rows)
    right_counts = right.astype(np.int32)

    def build(mask: np.ndarray, depth: int) -> Expr | None:
        fits = np.flatnonzero(right[:, mask].all(axis=1))
        if len(fits):
            return leaves[fits[0]]
        if depth == 0:
            return None
        on, off = truth & mask, ~truth & mask
        useful = on.any(axis=1) & off.any(axis=1)
        score = (right_counts @ on.T).max(axis=0) + (right_counts @ off.T).max(axis=0)
        for i in np.argsort(-np.where(useful, score, -1), kind="stable")[:3]:
            if not useful[i]:
                break
            yes, no = build(on[i], depth - 1), build(off[i], depth - 1)
            if yes is not None and no is not None:
                return Expr("cond", (preds[i], yes, no))
        return None

    return build(np.ones(len(y), dtype=bool), TREE_DEPTH)


def _predicates(k: int) -> list[Expr]:
    """Comparisons between features, and of each feature with small constants."""
    preds = [Expr("lt", (var(i), var(j))) for i in range(k) for j in range(k) if i != j]
    preds += [Expr("lt", (var(i), const(c))) for i in range(k) for c in (-1, 0, 1, 2)]
    preds += [Expr("eq", (var(i), const(c))) for i in range(k) for c in (0, 1)]
    return preds
