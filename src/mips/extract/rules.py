"""Rules a whole transition table obeys: one integer affine map, or one map mod m.

A table only knows the transitions it has seen; a rule pinned down by the table replays the
transitions it has not (sums, shift registers, linear recurrences, running sums mod m).
"""

from __future__ import annotations

import itertools

import numpy as np

from mips.machine import Reading, StateMachine


def from_rows(
    kind: str, initial: tuple[int, ...], rows: np.ndarray, d_in: int, reading: Reading
) -> StateMachine:
    """The machine whose table is ``rows`` = [z_prev, x, z_next, y], with its affine rules."""
    n = len(initial)
    f = rows[:, : n + d_in]
    z_next, y = rows[:, n + d_in : 2 * n + d_in], rows[:, 2 * n + d_in :]
    next_rule, out_rule, modulus = affine_rule(f, z_next), affine_rule(f, y), None
    # A state on a cycle (a running sum mod m) is an integer mod m: one modular map. Only over
    # a complete table (every state seen with every symbol), where it renames what was seen:
    # with m^3 candidates, a few rows could be matched by chance, and the rule would then
    # invent transitions.
    if (
        next_rule is None
        and kind == "finite"
        and n == 1
        and len(rows) == len(np.unique(rows[:, 0])) * len(np.unique(f[:, n:], axis=0))
    ):
        m = int(max(z_next.max(), rows[:, 0].max())) + 1
        if rows[:, :n].min() >= 0 and z_next.min() >= 0 and m >= 2:
            next_rule = modular_rule(f, z_next, m)
            if next_rule is not None:
                modulus, out_rule = m, modular_rule(f, y, m)
    return StateMachine(
        kind=kind,
        initial=initial,
        z_prev=rows[:, :n],
        x=rows[:, n : n + d_in],
        z_next=z_next,
        y=y,
        reading=reading,
        next_rule=next_rule,
        out_rule=out_rule,
        modulus=modulus,
    )


def modular_rule(
    features: np.ndarray, target: np.ndarray, m: int, max_candidates: int = 100_000
) -> np.ndarray | None:
    """Integer M with [features, 1] @ M == target (mod m) on every row, target in [0, m).

    Coefficients mod m are searched outright (m^(F+1) candidates per target column, checked on
    a few rows, then on all); each is written in (-m/2, m/2] so the rule reads simply.
    """
    a = np.concatenate([features, np.ones((len(features), 1), dtype=np.int64)], axis=1)
    if len(a) <= a.shape[1] or target.min() < 0 or target.max() >= m:
        return None
    if m ** a.shape[1] > max_candidates:
        return None
    cands = np.array(list(itertools.product(range(m), repeat=a.shape[1])), dtype=np.int64)
    cands = np.where(cands > m // 2, cands - m, cands)
    few = np.random.default_rng(0).permutation(len(a))[:64]
    columns = []
    for j in range(target.shape[1]):
        fits = cands[((cands @ a[few].T) % m == target[few, j]).all(axis=1)]
        fits = [c for c in fits if np.array_equal((a @ c) % m, target[:, j])]
        if not fits:
            return None
        columns.append(min(fits, key=lambda c: (int(np.abs(c).sum()), tuple(-c))))
    return np.stack(columns, axis=1)


def affine_rule(features: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Integer M with [features, 1] @ M == target on every row, if the rows pin one down.

    The rule must be the only affine map through the rows (full column rank, at least three
    rows per unknown, so a few rows cannot fit it by chance) and exact in integers: then it is
    what the table says, not a guess past it.
    """
    a = np.concatenate([features, np.ones((len(features), 1), dtype=np.int64)], axis=1)
    if len(a) < 3 * a.shape[1] or np.linalg.matrix_rank(a.astype(np.float64)) < a.shape[1]:
        return None
    m = np.rint(np.linalg.lstsq(a.astype(np.float64), target.astype(np.float64), rcond=None)[0])
    if np.abs(m).max(initial=0) > 1_000_000:
        return None
    m = m.astype(np.int64)
    return m if np.array_equal(a @ m, target) else None
