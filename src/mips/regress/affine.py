"""Affine formulas solved from the data, and the affine hints and constants the enumeration starts from.

``affine_formula`` finds ``c0 + c1*x1 + ...`` (least squares on feature subsets, fewest terms
first, rounded and checked exactly; ``(...) // d`` when a small common denominator is needed).
``hints`` proposes affine combinations the target may be a function of; ``constants`` the
literals worth enumerating.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from mips.regress.expr import Expr, const, linear_combination, var

# Enumerated values stay within +-2**31, so one +, - or * of two of them never leaves int64.
BOUND = 2**31 - 1
MAX_DENOMINATOR = 12
MAX_SUBSET_FEATURES = 10  # past this, the affine stage tries subsets of at most 2 features


def design(F: np.ndarray) -> np.ndarray:
    """The least-squares design matrix ``[1, F]`` as float64."""
    return np.column_stack([np.ones(F.shape[0]), F]).astype(np.float64)


def affine_formula(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Expr | None:
    """The affine formula with the fewest terms (then the fewest nodes) that fits every row."""
    k = X.shape[1]
    sizes = range(k + 1) if k <= MAX_SUBSET_FEATURES else [0, 1, 2, k]
    F, t = X[rows], y[rows].astype(np.float64)
    for n_terms in sizes:
        found = []
        for subset in itertools.combinations(range(k), n_terms):
            coef = np.linalg.lstsq(design(F[:, subset]), t, rcond=None)[0]
            expr = _rational_affine(coef, subset, X, y)
            if expr is not None:
                found.append(expr)
        if found:
            return min(found, key=lambda e: e.size)
    return None


def _rational_affine(coef: np.ndarray, subset: tuple[int, ...], X, y) -> Expr | None:
    """Round least-squares coefficients to integers over the smallest denominator d that works."""
    if not np.all(np.isfinite(coef)) or np.abs(coef).max() > BOUND:
        return None
    d = 1
    for c in coef:
        d = math.lcm(d, Fraction(float(c)).limit_denominator(MAX_DENOMINATOR).denominator)
    if d > MAX_DENOMINATOR:
        return None
    scaled = np.rint(coef * d).astype(np.int64)
    if not np.allclose(scaled, coef * d, atol=1e-6):
        return None
    numerator = scaled[0] + X[:, list(subset)] @ scaled[1:]
    if not np.array_equal(numerator, d * y):
        return None
    terms = [(int(c), var(j)) for c, j in zip(scaled[1:], subset, strict=True) if c]
    expr = linear_combination(terms, int(scaled[0]))
    return expr if d == 1 else Expr("floordiv", (expr, const(d)))


def hints(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[list[Expr], list[int]]:
    """Affine combinations of several features that y may be a function of, and their divisors."""
    found, divisors = _direction_hint(X, y, rows)
    modular = _modular_hint(X, y, rows)
    return found + ([modular] if modular is not None else []), divisors


def _direction_hint(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[list[Expr], list[int]]:
    """The least-squares direction w, when y = g(w.x) for a monotone-ish g, and a divisor.

    Least squares of y on the features points along w for thresholds and floor division, up to a
    scale that suggests the divisor.
    """
    found, divisors = [], []
    coef = np.linalg.lstsq(design(X[rows]), y[rows].astype(np.float64), rcond=None)[0][1:]
    top = np.abs(coef).max(initial=0.0)
    for q in range(1, 5) if top > 1e-9 else ():
        v = coef / top * q
        w = np.rint(v).astype(np.int64)
        if np.abs(v - w).max() < 0.2:
            if np.count_nonzero(w) >= 2:
                terms = [(int(c), var(j)) for j, c in enumerate(w) if c]
                found.append(linear_combination(terms, 0))
            d = q / top
            if 2 <= round(d) <= 1000 and abs(d - round(d)) < 0.05 * d:
                divisors.append(round(d))
            break
    return found, divisors


def _modular_hint(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Expr | None:
    """``w.x + c`` with y = (w.x + c) % m on every row, for y in [0, m) and m squarefree.

    Solving over GF(p) for each prime p | m and joining the solutions by the Chinese remainder
    theorem gives the formula exactly, if it holds.
    """
    k = X.shape[1]
    m = int(y.max()) + 1
    if not (y.min() >= 0 and 2 <= m <= 64):
        return None
    factors = [p for p in range(2, m + 1) if m % p == 0 and all(p % f for f in range(2, p))]
    if math.prod(factors) != m:
        return None
    A = np.column_stack([X[rows], np.ones(len(rows), np.int64)])
    w, modulus = np.zeros(k + 1, np.int64), 1
    for p in factors:
        part = solve_mod(A, y[rows], p)
        if part is None:
            return None
        # Chinese remainder: keep w mod `modulus` and make it agree with `part` mod p.
        w = w + modulus * ((part - w) * pow(modulus, -1, p) % p)
        modulus *= p
    w = (w + m // 2) % m - m // 2  # the representatives of smallest magnitude
    if not (np.array_equal((X @ w[:k] + w[k]) % m, y) and np.count_nonzero(w) >= 2):
        return None
    return linear_combination([(int(c), var(j)) for j, c in enumerate(w[:k]) if c], int(w[k]))


def solve_mod(A: np.ndarray, b: np.ndarray, p: int) -> np.ndarray | None:
    """One solution of ``A w = b`` over GF(p) (free unknowns 0), or None."""
    M = np.column_stack([A, b]) % p
    pivots: list[int] = []
    for c in range(A.shape[1]):
        r = len(pivots)
        nonzero = np.flatnonzero(M[r:, c])
        if r == len(M) or not len(nonzero):
            continue
        M[[r, r + nonzero[0]]] = M[[r + nonzero[0], r]]
        M[r] = M[r] * pow(int(M[r, c]), -1, p) % p
        M = (M - np.outer(np.where(np.arange(len(M)) == r, 0, M[:, c]), M[r])) % p
        pivots.append(c)
    if M[len(pivots) :, -1].any():
        return None
    w = np.zeros(A.shape[1], np.int64)
    w[pivots] = M[: len(pivots), -1]
    return w


def constants(X: np.ndarray, y: np.ndarray) -> list[int]:
    """Small literals plus a few the data suggests: moduli, radices, and the range of y."""
    found = [-1, 0, 1, 2, 3, int(y.min()), int(y.max()), int(y.max()) + 1]
    found += [int(m) + 1 for m in X.max(axis=0)]
    step = math.gcd(*(y - y.min()).tolist())
    if step > 1:  # y on a grid, e.g. 2 * (x % 7): the step and the number of levels
        found += [step, int(y.max() - y.min()) // step + 1]
    return sorted({c for c in found if abs(c) <= 1000}, key=lambda c: (abs(c), c < 0))
