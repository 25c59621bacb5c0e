"""Regression stage: a state machine's table in, a Program with one formula per variable out.

Finite machines are tried under several encodings of their state (one integer, or its bits); the
encoding whose program has only formulas and the smallest total size wins. A column no regressor
explains exactly becomes a lookup table, and the program's form says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mips.machine import StateMachine
from mips.program import Formula, Program, new_name
from mips.regress.boolean import BooleanRegressor
from mips.regress.expr import Expr, const
from mips.regress.integer import IntegerRegressor

__all__ = ["RegressConfig", "encodings", "fit_formula", "regress"]


@dataclass(frozen=True)
class RegressConfig:
    """Search budget of the integer regressor, per formula."""

    max_size: int = 9
    time_budget: float = 4.0
    seed: int = 0


def regress(machine: StateMachine, config: RegressConfig | None = None) -> Program:
    """The best program for ``machine`` over its encodings: formulas first, then smallest."""
    config = config or RegressConfig()
    programs = [_program(machine, zp, zn, init, config) for _, zp, zn, init in encodings(machine)]
    best = min(programs, key=lambda p: (p.form != "formula", p.size()))
    return best.without_dead_state()


def fit_formula(
    target: str, features: tuple[str, ...], X: np.ndarray, y: np.ndarray, config: RegressConfig
) -> Formula:
    """The smallest exact formula for ``y`` from ``X`` (Boolean when everything is 0/1), else a table."""
    if len(np.unique(y)) == 1:
        return Formula(target, features, expr=const(int(y[0])), size=1)
    binary = np.isin(X, (0, 1)).all() and np.isin(y, (0, 1)).all()
    # (size, tree): Boolean sizes count Python syntax nodes, integer sizes tree nodes, as always.
    candidates: list[tuple[int, Expr]] = []
    if binary and X.shape[1] > 0:
        b = BooleanRegressor(feature_names=list(features)).fit(X, y)
        candidates.append((b.size_, b.expr_))
    if X.shape[1] > 0:
        r = IntegerRegressor(
            feature_names=list(features),
            max_size=config.max_size,
            time_budget=config.time_budget,
            seed=config.seed,
        ).fit(X, y)
        if r.exact_:
            candidates.append((r.size_, r.expr_))
    if candidates:
        size, expr = min(candidates, key=lambda c: c[0])
        return Formula(target, features, expr=expr, size=int(size))
    rows, idx = np.unique(X, axis=0, return_index=True)
    table = tuple((tuple(int(v) for v in row), int(y[i])) for row, i in zip(rows, idx, strict=True))
    return Formula(target, features, table=table, size=len(table))


def encodings(machine: StateMachine) -> list[tuple[str, np.ndarray, np.ndarray, tuple[int, ...]]]:
    """(name, z_prev, z_next, initial) for each way of writing the machine's state as integers."""
    out = [("as read", machine.z_prev, machine.z_next, machine.initial)]
    if machine.kind == "finite" and machine.reading.encoding == "numbered":
        n_states = int(machine.reading.n_states or 1)
        if n_states == 1:
            empty = np.zeros((machine.n_rows, 0), dtype=np.int64)
            return [("stateless", empty, empty, ())]
        if n_states > 2:
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
) -> Program:
    """One formula per state variable (from the state and input) and per output (from all)."""
    d_in, d_out = machine.x.shape[1], machine.y.shape[1]
    inputs = _names("x", d_in)
    state = _names("s", z_prev.shape[1]) if z_prev.shape[1] else ()
    update_features = (*state, *inputs)
    x_update = np.concatenate([z_prev, machine.x], axis=1)
    updates = tuple(
        fit_formula(new_name(s), update_features, x_update, z_next[:, i], config)
        for i, s in enumerate(state)
    )
    out_features = (*update_features, *(new_name(s) for s in state))
    x_out = np.concatenate([x_update, z_next], axis=1)
    outputs = tuple(
        fit_formula(name, out_features, x_out, machine.y[:, j], config)
        for j, name in enumerate(_names("y", d_out))
    )
    return Program(inputs, state, initial, updates, outputs)
