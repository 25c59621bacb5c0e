"""Integer symbolic regression: the smallest formula that reproduces every row of an integer table.

Each integer state variable or output of the extracted state machine comes with a table of rows
(previous state variables and current inputs -> next value). The regressor tries, in order, an
integer affine formula (``affine``), a bottom-up enumeration of expressions by size with
completions and counterexample-guided restarts (``enumeration``), a short decision tree of
comparisons (``tree``), and last a formula per value of a column of few values (a mode or a phase
that selects the update, each case's formula small).

Example:
    >>> X = [[z, x] for z in range(5) for x in range(5)]
    >>> str(IntegerRegressor(feature_names=["z", "x"]).fit(X, [(z + x) % 5 for z, x in X]))
    '(z + x) % 5'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mips.regress.affine import affine_formula
from mips.regress.enumeration import Search
from mips.regress.expr import Expr, const, var
from mips.regress.inputs import checked_array, checked_rows, checked_table
from mips.regress.tree import decision_tree


class IntegerRegressor:
    """Find a small formula that reproduces every row of an integer table exactly.

    Parameters:
        feature_names: Python identifiers naming the columns of ``X``; default ``x0, x1, ...``.
        max_size: the most nodes an enumerated expression may have; affine parts found by
            solving (``+ 2*x3 - 1``) and threshold constants come on top.
        work_budget: cells the enumeration may evaluate in a whole fit, one cell being one
            candidate expression on one search row (30 to 60 million a second on one core);
            when they run out, the best formula found so far is kept. Work, not seconds, so
            that a fit gives the same formula on any machine and at any load.
        max_rows: the enumeration works on at most this many distinct rows (extremes plus a
            seeded sample); every candidate is then checked on all rows.
        seed: seeds the row sample and the hashes.
        tolerance: the share of the rows (weighted by ``sample_weight``) a formula may miss: a
            table read from data with a few wrong labels. A smaller formula within it is
            preferred to the exact one.

    Fitted attributes:
        expr_: the formula as an ``Expr`` tree over the columns; None if no formula was found
            (exact, or within the tolerance).
        expression_: ``expr_`` as Python text over the feature names, using +, -, *, //, %,
            abs, min, max, int(comparison) and ``(a if cond else b)``; None with ``expr_``.
        size_: nodes in ``expr_`` (None when there is none).
        exact_: whether ``expr_`` reproduces every row.
        error_: the weighted share of the rows ``expr_`` misses (0 when exact).
        pareto_: ``(size, error_rate, expression)`` for the most accurate expression found at
            each size, keeping only sizes that lower the error; error is over distinct rows,
            weighted by ``sample_weight``.
        n_features_in_, feature_names_: the columns the formula reads.
    """

    def __init__(
        self,
        *,
        feature_names: Sequence[str] | None = None,
        max_size: int = 9,
        work_budget: int = 300_000_000,
        max_rows: int = 64,
        seed: int = 0,
        tolerance: float = 0.0,
    ) -> None:
        self.feature_names = feature_names
        self.max_size = max_size
        self.work_budget = work_budget
        self.max_rows = max_rows
        self.seed = seed
        self.tolerance = tolerance

    def fit(self, X, y, sample_weight=None) -> IntegerRegressor:
        """Search for a formula giving ``y`` (n,) from the rows of ``X`` (n, k); each row counts
        ``sample_weight`` times (default once) towards the tolerance and the errors."""
        X, y, names = checked_table(X, y, self.feature_names, bits=False)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        if weight.shape != y.shape or (weight < 0).any():
            raise ValueError("sample_weight must be one non-negative weight per row")
        X, y, weight = _distinct_rows(X, y, weight, names)
        # Columns equal on every row (a state copied into the next one) are one feature to the
        # search; the first of them names it. Otherwise least squares splits the weight
        # between the copies and the formula comes out as (a + b) // 2.
        keep = np.sort(np.unique(X.T, axis=0, return_index=True)[1])
        best, candidates = self._search(X[:, keep], y)
        best = best.remap(keep) if best is not None else None
        front = _pareto_front([e.remap(keep) for e in candidates], X, y, weight)
        error = 0.0
        # Within the tolerance, the smallest formula wins: the exact one may spell out the rows
        # that wrong labels made.
        within = [(s, e, expr) for s, e, expr in front if e <= self.tolerance]
        if within and self.tolerance and (best is None or within[0][0] < best.size):
            _, error, best = within[0]

        self.n_features_in_ = X.shape[1]
        self.feature_names_ = names
        self.exact_ = best is not None and error == 0
        self.error_ = error
        self.expr_ = best
        self.expression_ = best.render(names) if best is not None else None
        self.size_ = best.size if best is not None else None
        self.pareto_ = [(size, error, expr.render(names)) for size, error, expr in front]
        # Without an exact formula, predict with the most accurate one found.
        self._predictor = best if best is not None else front[-1][2]
        return self

    def _search(self, X: np.ndarray, y: np.ndarray) -> tuple[Expr | None, list[Expr]]:
        """The exact formula (affine, enumerated or a tree) and every candidate seen on the way."""
        rng = np.random.default_rng(self.seed)
        rows = _sample_rows(X, y, self.max_rows, rng)
        values, counts = np.unique(y, return_counts=True)
        candidates = [const(values[counts.argmax()])]  # the best constant heads the front
        best = affine_formula(X, y, rows)
        if best is None:
            search = Search(X, y, rows, self.max_size, self.work_budget, rng)
            best = search.run()
            candidates += search.candidates
        if best is None:
            best = decision_tree(X, y, candidates)
        if best is None:
            best = _by_cases(X, y, self.max_rows, rng)
        if best is not None:
            candidates.append(best)
        return best, candidates

    def predict(self, X) -> np.ndarray:
        """Evaluate the fitted formula on the rows of ``X``, vectorised with Python semantics."""
        if not hasattr(self, "exact_"):
            raise RuntimeError("IntegerRegressor is not fitted yet; call fit first")
        X = checked_rows(X, self.n_features_in_, bits=False)
        return self._predictor.evaluate(X)

    def score(self, X, y) -> float:
        """Fraction of rows of ``X`` on which the formula gives exactly ``y``."""
        return float(np.mean(self.predict(X) == checked_array(y, "y", 1, bits=False)))

    def __repr__(self) -> str:
        return (
            f"IntegerRegressor(feature_names={self.feature_names!r}, max_size={self.max_size!r}, "
            f"work_budget={self.work_budget!r}, max_rows={self.max_rows!r}, seed={self.seed!r}, "
            f"tolerance={self.tolerance!r})"
        )

    def __str__(self) -> str:
        if not hasattr(self, "exact_"):
            return repr(self)
        return self._predictor.render(self.feature_names_)


# A column of at most this many values may select a formula per value; each case's formula has
# at most CASE_SIZE nodes and its enumeration at most CASE_WORK cells (as ``work_budget``), so
# that splitting finds the short cases quickly where one formula for every case is beyond the
# enumeration's reach (the cases' modular sums in opposite senses).
MAX_CASES = 4
CASE_SIZE = 5
CASE_WORK = 30_000_000


def _by_cases(X: np.ndarray, y: np.ndarray, max_rows: int, rng: np.random.Generator) -> Expr | None:
    """``e_0 if x_j == v_0 else (e_1 if ... else e_last)``: a small formula for each value of
    one column of few values, the first column for which every case has one; or None."""
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        if not 2 <= len(values) <= MAX_CASES:
            continue
        cases = []
        for v in values:
            case_rows = X[:, j] == v
            Xv, yv = X[case_rows], y[case_rows]
            rows = _sample_rows(Xv, yv, max_rows, rng)
            found = affine_formula(Xv, yv, rows)
            if found is None:
                found = Search(Xv, yv, rows, CASE_SIZE, CASE_WORK, rng).run()
            if found is None:
                break
            cases.append(found)
        else:
            expr = cases[-1]
            for v, case in zip(values[-2::-1], cases[-2::-1], strict=True):
                expr = Expr("cond", (Expr("eq", (var(j), const(int(v)))), case, expr))
            # Small cases over few rows each fit almost any table: a formula must be much
            # shorter than the rows it stands for, or it is a lookup table in disguise.
            if 2 * expr.size <= len(y):
                return expr
    return None


def _pareto_front(candidates: list[Expr], X: np.ndarray, y: np.ndarray, weight: np.ndarray):
    """(size, weighted error rate, expr) of the candidates that lower the error, smallest first."""
    front: list[tuple[int, float, Expr]] = []
    total = weight.sum() or 1.0  # rows that all weigh nothing: every miss is free
    scored = [(e.size, float(weight[e.evaluate(X) != y].sum() / total), e) for e in candidates]
    for size, error, expr in sorted(scored, key=lambda t: t[:2]):
        if not front or error < front[-1][1]:
            front.append((size, error, expr))
    return front


def _distinct_rows(
    X: np.ndarray, y: np.ndarray, weight: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deduplicate rows, adding up their weights; a row seen with two targets makes the table
    inconsistent."""
    rows, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    target = y[first]
    expected = target[inverse.reshape(-1)]
    clash = np.flatnonzero(expected != y)
    if clash.size:
        i = clash[0]
        row = ", ".join(f"{n}={v}" for n, v in zip(names, X[i], strict=True))
        raise ValueError(f"inconsistent table: row ({row}) maps to both {expected[i]} and {y[i]}")
    return rows, target, np.bincount(inverse.reshape(-1), weights=weight, minlength=len(rows))


def _sample_rows(X: np.ndarray, y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices to search on: all if few, else every column's extremes plus a random sample."""
    n = X.shape[0]
    if n <= cap:
        return np.arange(n)
    table = np.column_stack([X, y])
    chosen = set(table.argmin(axis=0).tolist()) | set(table.argmax(axis=0).tolist())
    rest = np.setdiff1d(np.arange(n), list(chosen))
    extra = rng.choice(rest, size=max(0, cap - len(chosen)), replace=False)
    return np.sort(np.concatenate([list(chosen), extra]).astype(np.int64))
