"""Regression stage: a state machine's table in, a Program with one formula per variable out.

Finite machines are tried under several encodings of their state (one integer, or its bits); the
encoding whose program has only formulas and the smallest total size wins. A column no regressor
explains exactly becomes a lookup table, and the program's form says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mips.machine import StateMachine
from mips.program import Formula, Program, new_name
from mips.regress.boolean import BooleanRegressor
from mips.regress.expr import Expr, const
from mips.regress.integer import IntegerRegressor

__all__ = ["RegressConfig", "encodings", "fit_formula", "regress"]


@dataclass(frozen=True, kw_only=True)
class RegressConfig:
    """Search budget of the integer regressor, per formula, and the share of steps it may miss.

    ``work_budget`` is counted in cells of the enumeration (one candidate expression evaluated
    on one search row; see ``IntegerRegressor``), 2 to 4 seconds of one core by default. It is
    work, not time, so that data, seed, config and code fix the program on any machine.
    """

    max_size: int = 9
    work_budget: int = 120_000_000
    seed: int = 0
    # The share of the data's steps a formula may get wrong (labels that may be wrong), where
    # regress is given how often each row was taken; 0: every row exactly.
    tolerance: float = 0.0
    # What a Mealy table over words does on a (state, input) its logs never showed: "error"
    # (raise), "keep" (keep the state, answer None) or a value to answer (keeping the state).
    unseen: str = "error"

    def __post_init__(self) -> None:
        if not self.unseen:
            raise ValueError("unseen must be error, keep or a value to answer")


def regress(
    machine: StateMachine, config: RegressConfig | None = None, counts: np.ndarray | None = None
) -> Program:
    """The best program for ``machine`` over its encodings: formulas first, then smallest. With
    ``config.tolerance``, ``counts`` says how often the data took each row of the machine, and a
    formula may miss rows taken up to that share of the time."""
    config = config or RegressConfig()
    programs = [
        _program(machine, zp, zn, init, config, counts) for _, zp, zn, init in encodings(machine)
    ]
    best = min(programs, key=lambda p: (p.form != "formula", p.size()))
    return best.without_dead_state()


def fit_formula(
    target: str,
    features: tuple[str, ...],
    X: np.ndarray,
    y: np.ndarray,
    config: RegressConfig,
    counts: np.ndarray | None = None,
) -> Formula:
    """The smallest exact formula for ``y`` from ``X`` (Boolean when everything is 0/1), else a
    table. With ``config.tolerance`` and ``counts`` (how often the data took each row), the
    smallest formula that misses rows taken at most that share of the time."""
    if len(np.unique(y)) == 1:
        return Formula(target, features, expr=const(int(y[0])), size=1)
    binary = np.isin(X, (0, 1)).all() and np.isin(y, (0, 1)).all()
    tolerant = bool(config.tolerance) and counts is not None
    # (size, tree): Boolean sizes count Python syntax nodes, integer sizes tree nodes, as always.
    candidates: list[tuple[int, Expr]] = []
    if binary and X.shape[1] > 0:
        b = BooleanRegressor(feature_names=list(features)).fit(X, y)
        candidates.append((b.size_, b.expr_))
    if X.shape[1] > 0:
        r = IntegerRegressor(
            feature_names=list(features),
            max_size=config.max_size,
            work_budget=config.work_budget,
            seed=config.seed,
            tolerance=config.tolerance if tolerant else 0.0,
        ).fit(X, y, sample_weight=counts if tolerant else None)
        if r.expr_ is not None:
            candidates.append((r.size_, r.expr_))
    if tolerant:
        candidates += _without_rarest(target, features, X, y, config, counts)
    if candidates:
        size, expr = min(candidates, key=lambda c: c[0])
        return Formula(target, features, expr=expr, size=int(size))
    rows, idx = np.unique(X, axis=0, return_index=True)
    table = tuple((tuple(int(v) for v in row), int(y[i])) for row, i in zip(rows, idx, strict=True))
    return Formula(target, features, table=table, size=len(table))


def _without_rarest(
    target: str,
    features: tuple[str, ...],
    X: np.ndarray,
    y: np.ndarray,
    config: RegressConfig,
    counts: np.ndarray,
) -> list[tuple[int, Expr]]:
    """The exact formula for the table without its rarest rows, as many as the tolerance
    allows: a transition a network learned from one wrong label is taken once or twice, where
    the rule it breaks is taken throughout the data."""
    order = np.argsort(counts, kind="stable")
    dropped = order[np.cumsum(counts[order]) <= config.tolerance * counts.sum()]
    if not 0 < len(dropped) < len(y):
        return []
    keep = np.ones(len(y), dtype=bool)
    keep[dropped] = False
    formula = fit_formula(target, features, X[keep], y[keep], replace(config, tolerance=0.0))
    return [] if formula.expr is None else [(formula.size, formula.expr)]


# A finite machine's states are numbered in the order they were read, so the bits of a large
# numbering mean nothing: formulas over them are tables in disguise (a decision tree per bit), and
# on a 511-state machine their search took 60 s a reading. Small machines are where bits name
# something (a phase beside a flag).
MAX_BITS_STATES = 16


def encodings(machine: StateMachine) -> list[tuple[str, np.ndarray, np.ndarray, tuple[int, ...]]]:
    """(name, z_prev, z_next, initial) for each way of writing the machine's state as integers."""
    out = [("as read", machine.z_prev, machine.z_next, machine.initial)]
    if machine.kind == "finite" and machine.reading.encoding == "numbered":
        n_states = int(machine.reading.n_states or 1)
        if n_states == 1:
            empty = np.zeros((machine.n_rows, 0), dtype=np.int64)
            return [("stateless", empty, empty, ())]
        if 2 < n_states <= MAX_BITS_STATES:
            bits = int(np.ceil(np.log2(n_states)))

            def split(z: np.ndarray) -> np.ndarray:
                return (z[:, :1] >> np.arange(bits)[None, :]) & 1

            init = tuple(int(b) for b in split(np.array([machine.initial]))[0])
            out.append(("bits", split(machine.z_prev), split(machine.z_next), init))
    return out


def _names(prefix: str, n: int) -> tuple[str, ...]:
    return (prefix,) if n == 1 else tuple(f"{prefix}{i}" for i in range(n))


def _program(
    machine: StateMachine,
    z_prev: np.ndarray,
    z_next: np.ndarray,
    initial: tuple[int, ...],
    config: RegressConfig,
    counts: np.ndarray | None,
) -> Program:
    """One formula per state variable (from the state and input) and per output (from all)."""
    d_in, d_out = machine.x.shape[1], machine.y.shape[1]
    inputs = _names("x", d_in)
    state = _names("s", z_prev.shape[1]) if z_prev.shape[1] else ()
    tables = 0

    def fit(target: str, features: tuple[str, ...], X: np.ndarray, y: np.ndarray) -> Formula:
        nonlocal tables
        # One table makes the program a table: past it, only the formulas found at once
        # (affine ones, cases) are looked for, not the ones each search spends its budget on.
        formula = fit_formula(
            target, features, X, y, replace(config, work_budget=0) if tables else config, counts
        )
        tables += formula.is_table
        return formula

    update_features = (*state, *inputs)
    x_update = np.concatenate([z_prev, machine.x], axis=1)
    updates = tuple(
        fit(new_name(s), update_features, x_update, z_next[:, i]) for i, s in enumerate(state)
    )
    out_features = (*update_features, *(new_name(s) for s in state))
    x_out = np.concatenate([x_update, z_next], axis=1)
    outputs = tuple(
        fit(name, out_features, x_out, machine.y[:, j]) for j, name in enumerate(_names("y", d_out))
    )
    return Program(inputs=inputs, state=state, initial=initial, updates=updates, outputs=outputs)
