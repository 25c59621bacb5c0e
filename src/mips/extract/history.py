"""History reader: states as functions of the input history that are neither a window nor a count.

A network that keeps the lowest input so far, the previous input beside it, the two highest
inputs, or a count beside the highest value the count reached, holds integer state that no
window of inputs names (it reaches back to the start) and no weighted count of the inputs names
(it depends on their order). Each such function is a hypothesis computed from the inputs alone;
like the counts (:mod:`~mips.extract.counters`), it is kept when it determines what the network
does at every time step and the machine over it is deterministic on the data. Its formulas then
hold for sequences longer than any the network saw.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mips.extract.counters import checked_machines, one_count_weights
from mips.extract.trajectory import Trajectory
from mips.machine import Reading, StateMachine
from mips.naming import History


def history_machines(
    traj: Trajectory,
    label_sets: list[np.ndarray],
    *,
    min_distinguished: float = 0.9,
    source: str = "time-step clusters",
    tolerance: float = 0.0,
) -> list[StateMachine]:
    """The first machine whose state is one of :func:`_hypotheses`, checked against the labels
    of each time step as :func:`~mips.extract.counters.count_machines` checks counts."""
    return checked_machines(
        traj,
        label_sets,
        _hypotheses(traj, source),
        min_distinguished=min_distinguished,
        tolerance=tolerance,
    )


def number_machines(traj: Trajectory, label_sets: list[np.ndarray]) -> list[StateMachine]:
    """The machine whose state is the inputs read as a number both ways round
    (:func:`_as_numbers`), checked as :func:`history_machines` checks its hypotheses. It names
    every prefix apart, so a network whose states the clusters split finely passes its check
    whatever it holds: it is read apart from the other histories, after the readers of finite
    states (horizon probes), which read such a network as what it does."""
    if traj.x.shape[-1] != 1:
        return []
    v = np.rint(traj.x[..., 0]).astype(np.int64)
    candidates = _readings(_as_numbers(v, int(v.min()), int(v.max())), "time-step clusters")
    return checked_machines(traj, label_sets, candidates, min_distinguished=0.9, tolerance=0.0)


def _hypotheses(traj: Trajectory, source: str) -> Iterator[tuple[np.ndarray, Reading]]:
    """Candidate states (N, T + 1, r), fewest variables first: of the input values (one input
    column of integers), then of a weighted count of the symbols."""
    if traj.x.shape[-1] == 1:
        v = np.rint(traj.x[..., 0]).astype(np.int64)
        yield from _of_values(v, int(v.min()), int(v.max()), source)
    flat = traj.x.reshape(-1, traj.x.shape[-1])
    symbols, sym_id = np.unique(flat, axis=0, return_inverse=True)
    yield from _of_counts(symbols, sym_id.reshape(traj.x.shape[:2]), source)


def _of_counts(
    symbols: np.ndarray, sym_id: np.ndarray, source: str
) -> Iterator[tuple[np.ndarray, Reading]]:
    """Candidate states of one weighted count of the symbols (``sym_id`` (N, T) the symbol of
    each step): the count beside the highest or the lowest it reached, and the count kept from
    going below 0 (either sign: a floor is not symmetric), alone and beside its highest."""
    for w in one_count_weights(symbols):
        count = _from_start(np.cumsum(w[:, 0][sym_id], 1))
        # The highest it reached counting its 0 at the start, or only after the first input
        # (from the lowest first step, which the first count cannot be below).
        after = count.copy()
        after[:, 0] = min(int(w.min()), 0)
        highest = [np.maximum.accumulate(c, 1) for c in (count, after)]
        after[:, 0] = max(int(w.max()), 0)
        lowest = [np.minimum.accumulate(c, 1) for c in (count, after)]
        what = _count_name(w)
        for names, z in (
            *(((what, "the highest it reached"), [count, h]) for h in highest),
            *(((what, "the lowest it reached"), [count, low]) for low in lowest),
        ):
            naming = History(features=names, symbols=symbols, weights=w)
            yield np.stack(z, axis=-1), Reading("history", source, naming=naming)
        for signed in (w, -w):
            floor = _floored(signed[:, 0][sym_id])
            what = _count_name(signed) + ", never below 0"
            for names, z in (
                ((what,), [floor]),
                ((what, "the highest it reached"), [floor, np.maximum.accumulate(floor, 1)]),
            ):
                naming = History(features=names, symbols=symbols, weights=signed)
                yield np.stack(z, axis=-1), Reading("history", source, naming=naming)
    yield from _count_beside_order(symbols, sym_id, source)


def _count_beside_order(
    symbols: np.ndarray, sym_id: np.ndarray, source: str
) -> Iterator[tuple[np.ndarray, Reading]]:
    """Candidate states of one weighted count beside two bits of the inputs' order: whether a
    symbol ``v`` has been seen, and whether another ``u`` came after it (a language of phases,
    some u then some v, whose words a count then measures). Alphabets of 2 or 3 symbols: the
    pairs grow as the square of the alphabet, and each takes every count."""
    if not 2 <= len(symbols) <= 3:
        return
    weights = one_count_weights(symbols)
    counts = [_from_start(np.cumsum(w[:, 0][sym_id], 1)) for w in weights]
    for v in range(len(symbols)):
        seen = _from_start(np.cumsum(sym_id == v, 1) > 0)
        for u in range(len(symbols)):
            if u == v:
                continue
            after = _from_start(np.logical_or.accumulate(seen[:, :-1] & (sym_id == u), 1))
            bits = (
                f"whether {_symbol_name(symbols[v])} was seen",
                f"whether {_symbol_name(symbols[u])} came after it",
            )
            for w, count in zip(weights, counts, strict=True):
                z = [count, seen.astype(np.int64), after.astype(np.int64)]
                naming = History(features=(_count_name(w), *bits), symbols=symbols, weights=w)
                yield np.stack(z, axis=-1), Reading("history", source, naming=naming)


def _symbol_name(row: np.ndarray) -> str:
    return "the input " + ", ".join(str(int(a)) for a in row)


def _count_name(w: np.ndarray) -> str:
    return f"a count weighting the symbols {tuple(int(a) for a in w[:, 0])}"


def _of_values(
    v: np.ndarray, lo: int, hi: int, source: str
) -> Iterator[tuple[np.ndarray, Reading]]:
    """Candidate states of the input values ``v`` (N, T) in ``lo``..``hi``. The lowest so far
    starts at ``hi`` and the highest at ``lo``, so that the first input replaces them; an input
    before the start is taken as ``lo``, then as ``hi`` (an absent input that is never the
    lowest of a window)."""
    top, second = _two_extremes(v, lo, highest=True)
    low, second_low = _two_extremes(v, hi, highest=False)
    candidates = [
        (("the lowest input so far",), [low]),
        (("the highest input so far",), [top]),
        (("the lowest input so far", "the highest input so far"), [low, top]),
    ]
    prev = "the previous input"
    for before in (lo, hi):
        last, earlier = _shifted(v, before, 1), _shifted(v, before, 2)
        low2, high2 = np.minimum(last, earlier), np.maximum(last, earlier)
        candidates += [
            ((prev, "the lowest input so far"), [last, low]),
            ((prev, "the highest input so far"), [last, top]),
            ((prev, "the lowest of the last 2 inputs"), [last, low2]),
            ((prev, "the highest of the last 2 inputs"), [last, high2]),
            (
                ("the lowest of the last 2 inputs", "the highest of the last 2 inputs"),
                [low2, high2],
            ),
        ]
    # A phase of the time beside the previous input: a rule that alternates between steps.
    n, t1 = v.shape[0], v.shape[1] + 1
    for period in (2, 3):
        phase = np.broadcast_to(np.arange(t1) % period, (n, t1))
        candidates.append(((f"the time mod {period}", prev), [phase, _shifted(v, lo, 1)]))
    candidates += [
        (("the highest input so far", "the second highest"), [top, second]),
        (("the lowest input so far", "the second lowest"), [low, second_low]),
    ]
    candidates += _signed_sums(v, lo, hi)
    yield from _readings(candidates, source)


def _readings(
    candidates: list[tuple[tuple[str, ...], list]], source: str
) -> Iterator[tuple[np.ndarray, Reading]]:
    """Each candidate's state (N, T + 1, r), its variables stacked, named by its features."""
    for names, z in candidates:
        yield np.stack(z, axis=-1), Reading("history", source, naming=History(features=names))


def _from_start(a: np.ndarray, first: int = 0) -> np.ndarray:
    """(N, T + 1): the values ``a`` (N, T) after each step, ``first`` before the first."""
    return np.concatenate([np.full((len(a), 1), first, dtype=a.dtype), a], axis=1)


def _signed_sums(v: np.ndarray, lo: int, hi: int) -> list[tuple[tuple[str, ...], list]]:
    """Candidate states of a running sum whose sign flips: at every step, or at each input of
    one value (of up to 10). The state is the sign in effect, +1 or -1 (the sign of the last
    step, -1 before the start for the alternating one, so that the first step adds), beside the
    sum, whose update then multiplies: ``s + p * x``."""
    flips = [("every step", np.ones_like(v, dtype=bool), -1)]
    if hi - lo < 10:
        flips += [(f"each input {a}", v == a, 1) for a in range(lo, hi + 1)]
    out = []
    for when, flip, start in flips:
        sign = start * np.where(np.cumsum(flip, 1) % 2 == 1, -1, 1)
        z = [_from_start(sign, start), _from_start(np.cumsum(sign * v, 1))]
        out.append(((f"a sign flipped at {when}", "the sum of the inputs times the sign"), z))
    return out


def _as_numbers(v: np.ndarray, lo: int, hi: int) -> list[tuple[tuple[str, ...], list]]:
    """Candidate states of binary inputs read as the digits of a number, both ways, beside 2
    to the number of digits: what a check that compares the prefix with its reverse holds
    (every prefix its own state), its updates products (``b + x * p``). Only where the numbers
    of the data's lengths fit in 62 bits. Not over larger alphabets: there a network whose
    states all differ at the coarsest radius is as often one that does not hold what it needs
    (a near-exact network of a recurrence mod 5 over inputs 0..4), which the number reads as
    a table that fails every held-out sequence, in place of the majority's reading."""
    n, t_len = v.shape
    if (lo, hi) != (0, 1) or t_len > 62:
        return []
    power = 2 ** np.arange(t_len + 1, dtype=np.int64)
    ahead = np.zeros((n, t_len + 1), dtype=np.int64)
    behind = ahead.copy()
    for t in range(t_len):
        ahead[:, t + 1] = ahead[:, t] * 2 + v[:, t]
        behind[:, t + 1] = behind[:, t] + v[:, t] * power[t]
    names = (
        "the inputs as a base-2 number, the first input its leading digit",
        "the same digits read the other way",
        "2 to the number of inputs",
    )
    return [(names, [ahead, behind, np.broadcast_to(power, (n, t_len + 1))])]


def _shifted(v: np.ndarray, before: int, k: int) -> np.ndarray:
    """(N, T + 1): the input k steps before each step's next one, ``before`` before the start."""
    n = len(v)
    padded = np.concatenate([np.full((n, k), before, dtype=np.int64), v], axis=1)
    return padded[:, : v.shape[1] + 1]


def _two_extremes(v: np.ndarray, before: int, highest: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N, T + 1) each: the highest (lowest) input so far and the second (repeats counted),
    both ``before`` before the start."""
    sign = 1 if highest else -1
    n, t_len = v.shape
    first = np.full((n, t_len + 1), sign * before, dtype=np.int64)
    second = first.copy()
    for t in range(t_len):
        x = sign * v[:, t]
        a, b = first[:, t], second[:, t]
        first[:, t + 1] = np.maximum(a, x)
        second[:, t + 1] = np.maximum(b, np.minimum(a, x))
    return sign * first, sign * second


def _floored(step: np.ndarray) -> np.ndarray:
    """(N, T + 1): a running sum of ``step`` (N, T) that never goes below 0 (a depth that an
    extra close leaves at 0)."""
    n, t_len = step.shape
    out = np.zeros((n, t_len + 1), dtype=np.int64)
    for t in range(t_len):
        out[:, t + 1] = np.maximum(out[:, t] + step[:, t], 0)
    return out
