"""What every reader reads: the hidden-state trajectory, the reading config, and row utilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mips.extract.rules import from_rows
from mips.machine import Reading, StateMachine


@dataclass(frozen=True, kw_only=True)
class ExtractConfig:
    """Tolerances and limits of the state readers."""

    max_sequences: int = 3000
    max_states: int = 512
    max_symbols: int = 64
    max_coordinate: int = 100_000
    # Behaviour reader: distinct hidden states it probes, input symbols, longest input window.
    max_probed_states: int = 50_000
    max_probe_symbols: int = 256
    max_window: int = 4
    # Share of steps where a machine read by majority may answer otherwise than the data it is
    # read from: 0 when those are labels (synth); above 0 when they are the answers of a network
    # that is itself not quite a machine (explain), whose deviations are then reported.
    majority_tolerance: float = 0.0
    seed: int = 0


class ExtractionError(RuntimeError):
    """No reading of the hidden states gave a state machine consistent with the data."""


@dataclass(frozen=True)
class Refusal:
    """Why a reading of the hidden states gave no machine, in words for the extraction log and
    for :class:`ExtractionError`."""

    why: str

    def __post_init__(self) -> None:
        if not self.why:
            raise ValueError("a refusal says why")


@dataclass(frozen=True)
class Trajectory:
    """A network run on data: inputs, outputs and hidden states, h_{-1} = 0 first.

    For sequences shorter than T, ``valid`` (N, T) marks the steps that hold data. Past its end
    a sequence's inputs, outputs and state repeat its last ones, so padding adds no state and no
    symbol to what readers see; rows built from (N, T) arrays go through :meth:`rows` (and
    states through :meth:`state_rows`), which keep only real steps.
    """

    x: np.ndarray  # (N, T, d_in)
    y: np.ndarray  # (N, T, d_out)
    hidden: np.ndarray  # (N, T + 1, H), index 0 is h_{-1} = 0
    valid: np.ndarray | None = None  # (N, T) bool; None: every step holds data

    @classmethod
    def padded(
        cls, x: np.ndarray, y: np.ndarray, hidden: np.ndarray, lengths: np.ndarray
    ) -> Trajectory:
        """The trajectory of sequences of ``lengths`` (N,) padded to T: each sequence's last
        step (and the state after it) repeated over its padding."""
        n, t_len = x.shape[:2]
        step = np.minimum(np.arange(t_len)[None, :], lengths[:, None] - 1)  # (N, T)
        state = np.minimum(np.arange(t_len + 1)[None, :], lengths[:, None])  # (N, T + 1)
        return cls(
            np.take_along_axis(x, step[:, :, None], axis=1),
            np.take_along_axis(y, step[:, :, None], axis=1),
            np.take_along_axis(hidden, state[:, :, None], axis=1),
            np.arange(t_len)[None, :] < lengths[:, None],
        )

    @property
    def lengths(self) -> np.ndarray | None:
        """Each sequence's number of real steps (N,); None when every step is real."""
        return None if self.valid is None else self.valid.sum(axis=1)

    def rows(self, a: np.ndarray) -> np.ndarray:
        """The rows of ``a`` (N * T, ...), one per step, that are real steps."""
        return a if self.valid is None else a[self.valid.reshape(-1)]

    def prefixes(self, until: int | None = None) -> Prefixes:
        """The prefixes of the states ``hidden[:, :until]``, flattened in that order: the state
        at index t follows the first t steps (no more than a sequence's real ones)."""
        n, t1 = self.hidden.shape[:2]
        t = np.arange(t1 if until is None else until)
        seq = np.repeat(np.arange(n), len(t))
        length = np.tile(t, n)
        if self.valid is not None:
            length = np.minimum(length, self.lengths[seq])
        return Prefixes(self.x, seq, length)

    def state_rows(self, a: np.ndarray) -> np.ndarray:
        """The rows of ``a`` (N * (T + 1), ...), one per state, that are real states."""
        if self.valid is None:
            return a
        first = np.ones((len(self.valid), 1), dtype=bool)
        return a[np.concatenate([first, self.valid], axis=1).reshape(-1)]


@dataclass(frozen=True)
class Prefixes:
    """The inputs that reach each of M states: ``x[seq[m], :length[m]]``. A causal model without
    a recurrence is probed from a state by running its prefix and then the probe."""

    x: np.ndarray  # (N, T, d_in)
    seq: np.ndarray  # (M,)
    length: np.ndarray  # (M,)

    def take(self, rows: np.ndarray) -> Prefixes:
        """The prefixes of the states ``rows`` (indices into the M states)."""
        return Prefixes(self.x, self.seq[rows], self.length[rows])


def determines(keys: np.ndarray, values: np.ndarray) -> bool:
    """True when equal rows of ``keys`` always map to equal rows of ``values``."""
    kv = np.unique(np.concatenate([keys, values], axis=1), axis=0)
    return len(np.unique(kv[:, : keys.shape[1]], axis=0)) == len(kv)


def agreement(key_id: np.ndarray, label_id: np.ndarray) -> float:
    """Fraction of rows whose label is the most common label among rows with the same key; both
    are given as non-negative integer ids per row (:func:`row_ids`)."""
    n_labels = int(label_id.max()) + 1
    pairs, counts = np.unique(key_id * n_labels + label_id, return_counts=True)
    # pairs are sorted by key: each key's run of counts starts where the key changes.
    starts = np.flatnonzero(np.diff(pairs // n_labels, prepend=-1))
    return float(np.maximum.reduceat(counts, starts).sum() / len(label_id))


def row_ids(a: np.ndarray) -> np.ndarray:
    """An id per row of ``a``, equal for equal rows (ids of sorted distinct rows)."""
    a = np.asarray(a).reshape(len(a), -1)
    if a.dtype.kind in "iu" and a.shape[1] and len(a):
        # Integer rows: one mixed-radix code per row sorts far faster than rows compared whole.
        lo = a.min(axis=0)
        span = (a.max(axis=0) - lo + 1).astype(np.float64)
        if float(np.prod(span)) < 2.0**62:
            radix = np.concatenate([np.cumprod(span[::-1])[::-1][1:], [1.0]]).astype(np.int64)
            return np.unique((a - lo) @ radix, return_inverse=True)[1].reshape(-1)
    return np.unique(a, axis=0, return_inverse=True)[1].reshape(-1)


def machine_from_labels(
    kind: str,
    labels_prev: np.ndarray,
    traj: Trajectory,
    labels_next: np.ndarray,
    reading: Reading,
    tolerance: float = 0.0,
) -> StateMachine | None:
    """The machine whose states before and after each step are ``labels_prev`` and
    ``labels_next`` (N*T, n_vars), or None when they do not determine next state and output.
    Within ``tolerance`` (a share of the steps), each (state, input) takes its most frequent
    output: the answers read may be a network's that learned a few wrong labels."""
    x = traj.rows(traj.x.reshape(-1, traj.x.shape[-1]))
    y = traj.rows(traj.y.reshape(-1, traj.y.shape[-1]))
    labels_prev, labels_next = traj.rows(labels_prev), traj.rows(labels_next)
    keys = np.concatenate([labels_prev, x], axis=1)
    if not determines(keys, labels_next):
        return None
    if not determines(keys, y):
        key_id, y_id = row_ids(keys), row_ids(y)
        if 1.0 - agreement(key_id, y_id) > tolerance:
            return None
        y = _most_frequent(key_id, y_id, y)
    rows = np.unique(np.concatenate([labels_prev, x, labels_next, y], axis=1), axis=0)
    initial = tuple(int(v) for v in labels_prev[0]) if len(labels_prev) else ()
    return from_rows(kind, initial, rows, x.shape[1], reading)


def _most_frequent(key_id: np.ndarray, value_id: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` with each row replaced by the most frequent value among rows of its key."""
    n_values = int(value_id.max()) + 1
    pairs, first, counts = np.unique(
        key_id * n_values + value_id, return_index=True, return_counts=True
    )
    keys = pairs // n_values
    by_count = np.lexsort((counts, keys))  # each key's pairs together, most frequent last
    last = by_count[np.append(keys[by_count][1:] != keys[by_count][:-1], True)]
    best = np.zeros(int(key_id.max()) + 1, dtype=np.int64)
    best[keys[last]] = first[last]
    return values[best[key_id]]


def ambiguity(prev: np.ndarray, traj: Trajectory, nxt: np.ndarray, noun: str) -> str:
    """Where state labels (N*T, r) before and after each step fail to be a machine: the first
    (state, input) seen to lead to two different next states or outputs."""
    x = traj.rows(traj.x.reshape(-1, traj.x.shape[-1]))
    y = traj.rows(traj.y.reshape(-1, traj.y.shape[-1]))
    prev, nxt = traj.rows(prev), traj.rows(nxt)
    step_of = np.arange(traj.x.shape[0] * traj.x.shape[1])  # row -> its place in (N, T)
    step_of = traj.rows(step_of)
    keys = np.concatenate([prev, x], axis=1)
    rows = np.concatenate([keys, nxt, y], axis=1)
    _, first = np.unique(rows, axis=0, return_index=True)
    _, key_of_first = np.unique(keys[first], axis=0, return_inverse=True)
    ids, counts = np.unique(key_of_first, return_counts=True)
    if not (counts > 1).any():
        return "no conflict found"
    i, j = np.sort(first[key_of_first.reshape(-1) == ids[counts > 1][0]])[:2]
    t_len = traj.x.shape[1]

    def where(k: int) -> str:
        return (
            f"{noun} {nxt[k].tolist()} and output {y[k].tolist()} "
            f"(sequence {step_of[k] // t_len}, step {step_of[k] % t_len})"
        )

    return (
        f"{noun} {prev[i].tolist()} on input {x[i].tolist()} leads to {where(i)} and to {where(j)}"
    )
