"""Boolean regression: the smallest formula that reproduces a partial truth table.

Each bit-valued state variable or output of the extracted state machine comes with a truth table
from input bits to a 0/1 value, observed on some rows only; unobserved rows are don't-cares. The
regressor tries, from simplest to most general, a constant, a single literal, a parity (XOR of a
subset, solved over GF(2)), a symmetric threshold of a subset ("at least / at most / exactly t of
S", inputs possibly negated), and a two-level sum of products (Espresso, plus exact Quine-McCluskey
for few inputs), and keeps the candidate with the fewest literals.

Example:
    >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    >>> str(BooleanRegressor(feature_names=["a", "b"]).fit(X, [0, 1, 1, 0]))
    'a ^ b'
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from pyeda.boolalg.espresso import FTYPE, RTYPE, espresso, set_config
from pyeda.boolalg.minimization import CONFIG as ESPRESSO_CONFIG

from mips.regress.expr import Expr, const, var
from mips.regress.inputs import checked_array, checked_rows, checked_table

KINDS = ("constant", "literal", "parity", "threshold", "sop")
# Count comparisons a threshold formula may use, most preferred first (operator names).
_COUNT_OPS = ("ge", "le", "eq", "ne")

# Enumerating the GF(2) solution space beyond 2**16 members costs more than a shorter parity can
# save; past that the echelon-form solution is used as it is.
_MAX_PARITY_NULLITY = 16
# Symmetric functions of more inputs than this are rare in state machines and their subsets many.
_MAX_SYMMETRIC_INPUTS = 6
# Cap on (observed rows x subsets) per subset size, so wide sparse tables stay fast.
_SYMMETRIC_BUDGET = 20_000_000
# Longest chain of `|` kept flat; longer covers are nested (see `_join_or`).
_MAX_OR_CHAIN = 64
# Branch-and-bound nodes for the exact cover; past that the best cover found so far is kept.
_COVER_BUDGET = 20_000

# A cube is (value, mask): mask bits are the inputs it leaves free, value holds the others.
Cube = tuple[int, int]
# A candidate formula: (literals, tree, kind).
Candidate = tuple[int, Expr, str]


class BooleanRegressor:
    """Fit the formula with the fewest literals that agrees with every observed row of a table.

    Parameters:
        feature_names: Python identifiers naming the input bits; default ``x0, x1, ...``.
        max_exact_inputs: tables with at most this many inputs are also minimised exactly
            (Quine-McCluskey with a branch-and-bound cover, within a node budget); wider ones by
            Espresso alone.

    Fitted attributes:
        expr_: the formula as an ``Expr`` tree over the input columns.
        expression_: ``expr_`` as a Python expression over the feature names that evaluates to
            int 0 or 1.
        formula_: the formula as printed (the same text as ``expression_``).
        kind_: one of ``KINDS``.
        n_literals_: occurrences of input variables in the formula.
        size_: nodes in the expression's syntax tree.
        n_features_in_: number of input bits.
    """

    def __init__(
        self, *, feature_names: Sequence[str] | None = None, max_exact_inputs: int = 8
    ) -> None:
        self.feature_names = feature_names
        self.max_exact_inputs = max_exact_inputs

    def fit(self, X: ArrayLike, y: ArrayLike) -> BooleanRegressor:
        """Find the smallest formula consistent with the rows of ``X`` (n, k) and ``y`` (n,)."""
        X, y, names = checked_table(X, y, self.feature_names, bits=True)
        k = X.shape[1]
        rows, values = _distinct_rows(X, y, names)

        candidates = _trivial(rows, values)
        if not candidates:
            candidates = _parity(rows, values)
            candidates += _sop(rows, values, exact=k <= self.max_exact_inputs)
            best = min(n for n, _, _ in candidates)
            candidates += _symmetric(rows, values, max_inputs=best)
        texts = [expr.render(names) for _, expr, _ in candidates]
        ranked = [
            (n, _size(text), KINDS.index(kind), text, i)
            for i, ((n, _, kind), text) in enumerate(zip(candidates, texts, strict=True))
        ]
        n_literals, size, _, expression, i = min(ranked)

        self.n_features_in_ = k
        self.feature_names_ = names
        self.expr_ = candidates[i][1]
        self.expression_ = expression
        self.formula_ = expression
        self.kind_ = candidates[i][2]
        self.n_literals_ = n_literals
        self.size_ = size
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Evaluate the fitted formula on the rows of ``X``, vectorised over rows."""
        if not hasattr(self, "expression_"):
            raise RuntimeError("BooleanRegressor is not fitted yet; call fit first")
        X = checked_rows(X, self.n_features_in_, bits=True)
        return self.expr_.evaluate(X.astype(np.int64))

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of rows of ``X`` on which the formula gives ``y``."""
        return float(np.mean(self.predict(X) == checked_array(y, "y", 1, bits=True)))

    def __repr__(self) -> str:
        return (
            f"BooleanRegressor(feature_names={self.feature_names!r}, "
            f"max_exact_inputs={self.max_exact_inputs!r})"
        )

    def __str__(self) -> str:
        return getattr(self, "formula_", repr(self))


def _distinct_rows(X: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicate rows; a row seen with both outputs makes the table inconsistent."""
    rows, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    ones = np.bincount(inverse, weights=y, minlength=len(rows))
    seen = np.bincount(inverse, minlength=len(rows))
    clash = np.flatnonzero((ones > 0) & (ones < seen))
    if clash.size:
        row = ", ".join(f"{n}={v}" for n, v in zip(names, rows[clash[0]], strict=True))
        raise ValueError(f"inconsistent truth table: row ({row}) maps to both 0 and 1")
    return rows, (ones > 0).astype(np.uint8)


def _size(expression: str) -> int:
    # Nodes of Python's syntax tree of the text: the measure formulas are compared by.
    return sum(isinstance(n, ast.expr) for n in ast.walk(ast.parse(expression, mode="eval")))


def _literal(j: int, negated: bool) -> Expr:
    return Expr("not", (var(j),)) if negated else var(j)


def _chain(op: str, items: list[Expr]) -> Expr:
    """``a op b op c ...`` grouped from the left, as Python reads it."""
    return functools.reduce(lambda a, b: Expr(op, (a, b)), items)


def _trivial(rows: np.ndarray, values: np.ndarray) -> list[Candidate]:
    """A constant or a single literal; nothing else can be smaller, so these end the search."""
    if values.min() == values.max():
        return [(0, const(int(values[0])), "constant")]
    for negated in (False, True):
        for j in range(rows.shape[1]):
            if np.array_equal(rows[:, j] ^ int(negated), values):
                return [(1, _literal(j, negated), "literal")]
    return []


def _parity(rows: np.ndarray, values: np.ndarray) -> list[Candidate]:
    """The affine GF(2) function (XOR of inputs, maybe ^ 1) with the smallest support, if any."""
    k = rows.shape[1]
    system = np.concatenate([rows, np.ones((len(rows), 1), np.uint8)], axis=1).astype(bool)
    solved = _gf2_solve(system, values.astype(bool))
    if solved is None:
        return []
    particular, basis = solved
    if 0 < len(basis) <= _MAX_PARITY_NULLITY:
        coeffs = (np.arange(1 << len(basis))[:, None] >> np.arange(len(basis))) & 1
        solutions = particular ^ ((coeffs @ basis.astype(np.int64)) % 2).astype(bool)
        # Smallest support first, then prefer no trailing "^ 1".
        particular = solutions[np.argmin(2 * solutions[:, :k].sum(axis=1) + solutions[:, k])]
    support = np.flatnonzero(particular[:k])
    terms = [var(j) for j in support] + ([const(1)] if particular[k] else [])
    return [(len(support), _chain("xor", terms), "parity")]


def _gf2_solve(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Solve ``A x = b`` over GF(2): a particular solution and a null-space basis, or None."""
    M = np.concatenate([A, b[:, None]], axis=1)
    n_rows, n_cols = A.shape
    pivots: list[int] = []
    for c in range(n_cols):
        r = len(pivots)
        if r == n_rows:
            break
        hits = np.flatnonzero(M[r:, c])
        if hits.size == 0:
            continue
        M[[r, r + hits[0]]] = M[[r + hits[0], r]]
        others = M[:, c].copy()
        others[r] = False
        M[others] ^= M[r]
        pivots.append(c)
    r = len(pivots)
    if M[r:, -1].any():
        return None
    x = np.zeros(n_cols, bool)
    x[pivots] = M[:r, -1]
    free = [c for c in range(n_cols) if c not in pivots]
    basis = np.zeros((len(free), n_cols), bool)
    for i, f in enumerate(free):
        basis[i, f] = True
        basis[i, pivots] = M[:r, f]
    return x, basis


def _symmetric(rows: np.ndarray, values: np.ndarray, max_inputs: int) -> list[Candidate]:
    """A comparison of a count of (maybe negated) inputs of the smallest subset, if any."""
    m, k = rows.shape
    for s in range(2, min(k, _MAX_SYMMETRIC_INPUTS, max_inputs) + 1):
        subsets = np.array(list(itertools.combinations(range(k), s)))
        if m * len(subsets) > _SYMMETRIC_BUDGET:
            break
        # Per subset, which of its 2**s input patterns were seen giving 1 and giving 0: the subset
        # can carry the function only where no pattern gave both.
        codes = np.zeros((m, len(subsets)), np.uint8)
        for j in range(s):
            codes |= rows[:, subsets[:, j]] << j
        column = np.arange(len(subsets))
        seen = np.zeros((2, len(subsets), 1 << s), bool)
        for v in (0, 1):
            seen[v, column, codes[values == v]] = True
        best = None
        for i in np.flatnonzero(~(seen[0] & seen[1]).any(axis=1)):
            found = _count_rule(seen[1, i], seen[0, i], s)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], subsets[i], *found[1:])
        if best is not None:
            _, subset, signs, op, t = best
            terms = [_literal(j, bool(signs >> i & 1)) for i, j in enumerate(subset)]
            return [(s, Expr(op, (_chain("add", terms), const(t))), "threshold")]
    return []


def _count_rule(
    seen1: np.ndarray, seen0: np.ndarray, s: int
) -> tuple[tuple[int, int], int, str, int] | None:
    """The simplest (fewest negations) count comparison separating the 1- from the 0-patterns.

    Returns ((negations, operator rank), sign mask, operator, threshold) or None.
    """
    ones, zeros = np.flatnonzero(seen1), np.flatnonzero(seen0)
    signs = np.arange(1 << s)[:, None]
    # pop[sign ^ pattern]: how many literals hold on a pattern when input i is negated exactly
    # where bit i of sign is set.
    pop = np.array([bin(c).count("1") for c in range(1 << s)])
    c1, c0 = pop[signs ^ ones], pop[signs ^ zeros]
    lo1, hi1, lo0, hi0 = c1.min(1), c1.max(1), c0.min(1), c0.max(1)
    rules = (
        (lo1 > hi0, hi0 + 1),
        (hi1 < lo0, lo0 - 1),
        ((lo1 == hi1) & ~(c0 == lo1[:, None]).any(1), lo1),
        ((lo0 == hi0) & ~(c1 == lo0[:, None]).any(1), lo0),
    )
    best = None
    for rank, (valid, threshold) in enumerate(rules):
        for sign in np.flatnonzero(valid):
            key = (int(pop[sign]), rank)
            if best is None or key < best[0]:
                best = (key, int(sign), _COUNT_OPS[rank], int(threshold[sign]))
    return best


def _sop(rows: np.ndarray, values: np.ndarray, exact: bool) -> list[Candidate]:
    """Two-level covers of the function and of its complement (rendered as ``1 - (...)``)."""
    k = rows.shape[1]
    codes = rows.astype(object) @ [1 << j for j in range(k)]
    ones, zeros = [int(c) for c in codes[values == 1]], [int(c) for c in codes[values == 0]]
    out = []
    for on, off, complement in ((ones, zeros, False), (zeros, ones, True)):
        covers = [_espresso(on, off, k)] + ([_quine_mccluskey(on, off, k)] if exact else [])
        for cover in covers:
            expr = _cover_expr(cover, k)
            if complement:
                expr = Expr("sub", (const(1), expr))
            out.append((_n_literals(cover, k), expr, "sop"))
    return out


def _n_literals(cover: list[Cube], k: int) -> int:
    return sum(k - bin(mask).count("1") for _, mask in cover)


def _cover_expr(cover: list[Cube], k: int) -> Expr:
    """The or of the cover's terms, shortest first, each the and of its literals."""
    terms = []
    for value, mask in cover:
        literals = [(j, bool(value >> j & 1)) for j in range(k) if not mask >> j & 1]
        terms.append(literals)
    terms.sort(key=lambda t: (len(t), t))
    return _join_or([_chain("and", [_literal(j, not pos) for j, pos in t]) for t in terms])


def _join_or(terms: list[Expr]) -> Expr:
    # Python parses `a | b | ...` as a left-leaning chain that overflows the parser past a few
    # hundred terms; huge covers are therefore grouped into a balanced tree of short chains.
    if len(terms) <= _MAX_OR_CHAIN:
        return _chain("or", terms)
    half = len(terms) // 2
    return Expr("or", (_join_or(terms[:half]), _join_or(terms[half:])))


def _espresso(on: list[int], off: list[int], k: int) -> list[Cube]:
    # Espresso's "fr" input: on-set and off-set minterms; everything unlisted is a don't-care.
    def cube(code: int, out: int):
        return tuple(2 if code >> j & 1 else 1 for j in range(k)), (out,)

    set_config(**ESPRESSO_CONFIG)
    cover = espresso(k, 1, {cube(c, 1) for c in on} | {cube(c, 0) for c in off}, FTYPE | RTYPE)
    result = []
    for invec, outvec in cover:
        if outvec[0] == 1:
            value = sum(1 << j for j, v in enumerate(invec) if v == 2)
            mask = sum(1 << j for j, v in enumerate(invec) if v == 3)
            result.append((value, mask))
    return result


def _quine_mccluskey(on: list[int], off: list[int], k: int) -> list[Cube]:
    """Prime implicants of on + don't-care, then a minimum-literal cover of the on-set."""
    forbidden = set(off)
    level = {(v, 0) for v in range(1 << k) if v not in forbidden}
    primes = []
    while level:
        merged, used = set(), set()
        for v, mask in level:
            for j in range(k):
                bit = 1 << j
                if not (v | mask) & bit and (v | bit, mask) in level:
                    merged.add((v, mask | bit))
                    used.update(((v, mask), (v | bit, mask)))
        primes.extend(level - used)
        level = merged
    covers = [sum(1 << i for i, t in enumerate(on) if t & ~m == v) for v, m in primes]
    useful = [i for i, c in enumerate(covers) if c]
    primes, covers = [primes[i] for i in useful], [covers[i] for i in useful]
    # Literals first, then terms: a term costs less than one extra literal.
    costs = [(k - bin(m).count("1")) * (len(on) + 1) + 1 for _, m in primes]
    return [primes[i] for i in _min_cover(covers, costs, len(on))]


def _min_cover(sets: list[int], costs: list[int], n: int) -> list[int]:
    """Cheapest choice of ``sets`` (bitsets over n elements) covering all; budgeted B&B."""
    options = [
        sorted((p for p in range(len(sets)) if sets[p] >> e & 1), key=costs.__getitem__)
        for e in range(n)
    ]
    chosen, uncovered = [], (1 << n) - 1
    while uncovered:
        p = max(range(len(sets)), key=lambda p: bin(sets[p] & uncovered).count("1") / costs[p])
        chosen.append(p)
        uncovered &= ~sets[p]
    best = (sum(costs[p] for p in chosen), chosen)
    nodes = 0

    def search(uncovered: int, chosen: list[int], cost: int) -> None:
        nonlocal best, nodes
        if not uncovered:
            best = min(best, (cost, chosen))
            return
        nodes += 1
        if nodes > _COVER_BUDGET:
            return
        e = min((e for e in range(n) if uncovered >> e & 1), key=lambda e: len(options[e]))
        for p in options[e]:
            if cost + costs[p] >= best[0]:
                break
            search(uncovered & ~sets[p], chosen + [p], cost + costs[p])

    search((1 << n) - 1, [], 0)
    return best[1]
