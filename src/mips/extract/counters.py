"""Counter reader: states as integer-weighted counts of the inputs seen so far.

Counters a network stores nonlinearly (a saturating code), which no lattice in hidden space can
read, are read this way, checked against what separates the states at each time step.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from mips.extract.finite import cluster
from mips.extract.trajectory import Trajectory, agreement, machine_from_labels, row_ids
from mips.machine import Reading, StateMachine
from mips.naming import Counts, CountsAndOutput, SeenSets

# A set of seen symbols is one bit per symbol: 2^8 states at most.
MAX_SEEN_SYMBOLS = 8


def time_clusters(traj: Trajectory) -> list[np.ndarray]:
    """Labels (N, T + 1) from clustering the hidden states of each time step on their own, at a
    few radii, coarsest first.

    A counter the network stores in a saturating code (a sigmoid of the count) has states that
    overlap across time, yet at any one step the counts it must tell apart are well separated.
    """
    n, t1, h = traj.hidden.shape
    spread = float(np.ptp(traj.hidden.reshape(-1, h), axis=0).max())
    if spread < 1e-9:
        return []
    out = []
    for frac in (0.05, 0.02, 0.01):
        labels = np.zeros((n, t1), dtype=np.int64)
        offset = 0
        for t in range(t1):
            # Only real states: a padded sequence's repeated last state is not one at step t.
            alive = slice(None) if traj.valid is None or t == 0 else traj.valid[:, t - 1]
            comp = cluster(traj.hidden[alive, t], frac * spread)
            if comp is None:
                break
            labels[alive, t] = comp + offset
            offset += int(comp.max()) + 1
        else:
            out.append(labels)
    return out


def _count_weights(symbols: np.ndarray) -> list[np.ndarray]:
    """Integer weight matrices (symbols, r) to try for the distinct input rows ``symbols``: one
    count first (by symbol, then by value), then several."""
    by_symbol = _symbol_weights(len(symbols))
    one = [w for w in by_symbol if w.shape[1] == 1]
    seen = {tuple(w[:, 0]) for w in one}
    by_value = [w for w in _value_weights(symbols) if tuple(w[:, 0]) not in seen]
    return one + by_value + [w for w in by_symbol if w.shape[1] > 1]


def one_count_weights(symbols: np.ndarray) -> list[np.ndarray]:
    """The weight matrices (symbols, 1) of one count of the distinct input rows ``symbols``."""
    return [w for w in _count_weights(symbols) if w.shape[1] == 1]


def _value_weights(symbols: np.ndarray) -> list[np.ndarray]:
    """One count weighting each symbol by an integer combination of its input values, smallest
    first: a running sum, or a difference of two columns' sums, where per-symbol weights are
    not tried (alphabets of more than 6 symbols) or too small (a sum of the values 0..3)."""
    d_in = symbols.shape[1]
    if d_in > 3 or np.abs(symbols).max() > 64:
        return []
    return [(symbols @ c)[:, None] for c in _primitive_vectors(range(-2, 3), d_in)]


def _symbol_weights(n_symbols: int) -> list[np.ndarray]:
    """Weights per symbol, fewest variables and smallest weights first: one weighted count, then
    each symbol's count relative to the first's, then every count."""
    if n_symbols < 2 or n_symbols > 6:
        return []
    values = range(-2, 3) if n_symbols <= 3 else range(-1, 2)
    out = [a[:, None] for a in _primitive_vectors(values, n_symbols)]
    if n_symbols > 2:
        out.append(
            np.eye(n_symbols, dtype=np.int64)[:, :1] - np.eye(n_symbols, dtype=np.int64)[:, 1:]
        )
    out.append(np.eye(n_symbols, dtype=np.int64))
    return out


# States checked on a sample first, and how far below the thresholds a sample may fall.
SCREEN_ROWS = 4096
SCREEN_MARGIN = 0.05


def count_machines(
    traj: Trajectory,
    label_sets: list[np.ndarray],
    *,
    min_distinguished: float = 0.9,
    source: str = "time-step clusters",
    tolerance: float = 0.0,
    start: np.ndarray | None = None,
) -> list[StateMachine]:
    """A machine whose state is an integer-weighted count of the inputs seen so far, or a count
    of the inputs since the last reset symbol, alone or beside the last output (``start``: the
    output of the state before any input).

    The counts are a hypothesis to check against the network and the data. At every time step
    the count must determine the network's state (its label: a per-step cluster, or what the
    network does next; at >= 99% of states), and the network must tell the counts apart (at
    >= ``min_distinguished`` of states: a saturating code may merge counts that no longer
    matter near the end of a sequence). The machine over the counts must then be deterministic on every observation, or
    on all but ``tolerance`` of them (answers of a network that learned a few wrong labels),
    where the most frequent output stands.
    Counters the network stores nonlinearly, which no lattice in hidden space can read, are
    read this way; their formulas then hold for sequences longer than any the network saw.
    """
    flat_x = traj.x.reshape(-1, traj.x.shape[-1])
    symbols, sym_id = np.unique(flat_x, axis=0, return_inverse=True)
    sym_id = sym_id.reshape(traj.x.shape[:2])
    return checked_machines(
        traj,
        label_sets,
        _hypotheses(traj, symbols, sym_id, start, source),
        min_distinguished=min_distinguished,
        tolerance=tolerance,
    )


def checked_machines(
    traj: Trajectory,
    label_sets: list[np.ndarray],
    candidates: Iterator[tuple[np.ndarray, Reading]],
    *,
    min_distinguished: float,
    tolerance: float,
) -> list[StateMachine]:
    """The machine over the first of ``candidates`` (states (N, T + 1, r) computed from the
    inputs, and their reading) that determines one of ``label_sets`` at every time step, is
    told apart by it at ``min_distinguished`` of the states, and steps deterministically."""
    if not label_sets:
        return []
    n, t1 = label_sets[0].shape
    time = np.broadcast_to(np.arange(t1)[None, :, None], (n, t1, 1))
    label_ids = [row_ids(traj.state_rows(lab.reshape(-1))) for lab in label_sets]
    # Most candidates miss by far; a sample of the states turns them down first. Agreement on
    # a sample is at least the share of its rows that carry their key's majority label over all
    # rows, whose mean is the whole agreement: a candidate that passes on every row fails on a
    # sample of SCREEN_ROWS rows only some dozens of standard deviations below its mean.
    stride = max(1, -(-len(label_ids[0]) // SCREEN_ROWS))
    sampled = [lab[::stride] for lab in label_ids]

    def passes(key_ids: np.ndarray, labels: list[np.ndarray], margin: float) -> bool:
        return any(
            agreement(key_ids, lab) >= 0.99 - margin
            and agreement(lab, key_ids) >= min_distinguished - margin
            for lab in labels
        )

    for z, reading in candidates:
        keys = traj.state_rows(np.concatenate([time, z], axis=2).reshape(n * t1, -1))
        if stride > 1 and not passes(row_ids(keys[::stride]), sampled, SCREEN_MARGIN):
            continue
        if not passes(row_ids(keys), label_ids, 0.0):
            continue
        r = z.shape[-1]
        m = machine_from_labels(
            "lattice", z[:, :-1].reshape(-1, r), traj, z[:, 1:].reshape(-1, r), reading, tolerance
        )
        if m is not None:
            return [m]
    return []


def _hypotheses(
    traj: Trajectory,
    symbols: np.ndarray,
    sym_id: np.ndarray,
    start: np.ndarray | None,
    source: str,
) -> Iterator[tuple[np.ndarray, Reading]]:
    """Candidate states (N, T + 1, r) and their readings, simplest first: one weighted count
    (with a sink), the set of symbols seen, several counts, then counts since a reset symbol,
    alone and beside the last output."""
    n = sym_id.shape[0]
    onehot = np.eye(len(symbols), dtype=np.int64)[sym_id]
    counts = np.concatenate(
        [np.zeros((n, 1, len(symbols)), dtype=np.int64), np.cumsum(onehot, axis=1)], axis=1
    )
    weights = _count_weights(symbols)
    yield from _weighted(counts, symbols, [w for w in weights if w.shape[1] == 1], source)
    # A set of symbols seen is finite where counts are not: tried before several counts, so
    # that a state that remembers only which symbols came is not read as the counts that
    # refine it.
    if 2 <= len(symbols) <= MAX_SEEN_SYMBOLS:
        eye = np.eye(len(symbols), dtype=np.int64)
        naming = SeenSets(symbols=symbols, weights=eye)
        yield np.minimum(counts, 1), Reading("counts", source, naming=naming)
    yield from _weighted(counts, symbols, [w for w in weights if w.shape[1] > 1], source)
    last = None
    if start is not None:
        last = np.concatenate([np.broadcast_to(start, (n, 1, len(start))), traj.y], axis=1)
    for resets in _reset_sets(len(symbols)):
        run = _count_since(np.isin(sym_id, resets))
        kept = np.isin(np.arange(len(symbols)), resets, invert=True)[:, None].astype(np.int64)
        fields = {"symbols": symbols, "weights": kept, "resets": resets}
        yield run, Reading("counts", source, naming=Counts(**fields))
        if last is not None:
            both = np.concatenate([run, last], axis=2)
            yield both, Reading("counts", source, naming=CountsAndOutput(**fields))


def _weighted(
    counts: np.ndarray, symbols: np.ndarray, weights: list[np.ndarray], source: str
) -> Iterator[tuple[np.ndarray, Reading]]:
    """The counts (N, T + 1, S) of each symbol weighted by each of ``weights``, with sinks."""
    for w in weights:
        for z, sink in _sink_variants(counts @ w):
            naming = Counts(symbols=symbols, weights=w, sink=sink)
            yield z, Reading("counts", source, naming=naming)


def _reset_sets(n_symbols: int) -> list[tuple[int, ...]]:
    """Sets of symbols that may set a count back to zero, smallest first: every proper nonempty
    set of a small alphabet, where the runs of the others are few enough to tell apart."""
    if not 2 <= n_symbols <= 4:
        return []
    return [c for k in range(1, n_symbols) for c in itertools.combinations(range(n_symbols), k)]


def _count_since(reset: np.ndarray) -> np.ndarray:
    """(N, T + 1, 1): the number of steps since the last ``reset`` (N, T) step, 0 at the start."""
    n, t = reset.shape
    steps = np.arange(1, t + 1)[None, :]
    last = np.maximum.accumulate(np.where(reset, steps, 0), axis=1)
    run = np.concatenate([np.zeros((n, 1), dtype=np.int64), steps - last], axis=1)
    return run[..., None]


def _primitive_vectors(values: range, n: int) -> list[np.ndarray]:
    """Integer vectors of length n over ``values``, one per line through 0 (first nonzero entry
    positive, entries coprime), smallest absolute sum first."""
    vectors = []
    for v in itertools.product(values, repeat=n):
        a = np.array(v)
        first = a[np.flatnonzero(a)[:1]]
        if len(first) and first[0] > 0 and np.gcd.reduce(np.abs(a)) == 1:
            vectors.append(a)
    vectors.sort(key=lambda a: (int(np.abs(a).sum()), tuple(-a)))
    return vectors


def _sink_variants(z: np.ndarray, reach: int = 3) -> list[tuple[np.ndarray, int | None]]:
    """The count z (N, T + 1, r) itself, then, for one count, z with a sink: once the count has
    left [lo, hi] it stays at the first value outside, whatever comes next.

    A one-counter machine with a dead state (a balance that must never go negative) is stored
    by a network as a count while it is in range and as one region, wherever the count went,
    after. The bound is tried within ``reach`` of the start, nearest first.
    """
    out: list[tuple[np.ndarray, int | None]] = [(z, None)]
    if z.shape[-1] != 1:
        return out
    lowest = np.minimum.accumulate(z, axis=1)
    highest = np.maximum.accumulate(z, axis=1)
    for bound in range(reach + 1):
        for below, run in ((True, lowest), (False, highest)):
            sink = -bound - 1 if below else bound + 1
            dead = run < -bound if below else run > bound
            if dead.any():
                out.append((np.where(dead, sink, z), sink))
    return out
