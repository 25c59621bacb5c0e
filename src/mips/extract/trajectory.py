"""What every reader reads: the hidden-state trajectory, the reading config, and row utilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mips.extract.rules import from_rows
from mips.machine import Reading, StateMachine


@dataclass(frozen=True)
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
    seed: int = 0


class ExtractionError(RuntimeError):
    """No reading of the hidden states gave a state machine consistent with the data."""


@dataclass(frozen=True)
class Trajectory:
    """A network run on data: inputs, outputs and hidden states, h_{-1} = 0 first."""

    x: np.ndarray  # (N, T, d_in)
    y: np.ndarray  # (N, T, d_out)
    hidden: np.ndarray  # (N, T + 1, H), index 0 is h_{-1} = 0


def functional(keys: np.ndarray, values: np.ndarray) -> bool:
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
) -> StateMachine | None:
    # labels_*: (N*T, n_vars) integer state vectors before and after each step.
    x = traj.x.reshape(-1, traj.x.shape[-1])
    y = traj.y.reshape(-1, traj.y.shape[-1])
    keys = np.concatenate([labels_prev, x], axis=1)
    if not functional(keys, labels_next) or not functional(keys, y):
        return None
    rows = np.unique(np.concatenate([labels_prev, x, labels_next, y], axis=1), axis=0)
    initial = tuple(int(v) for v in labels_prev[0]) if len(labels_prev) else ()
    return from_rows(kind, initial, rows, x.shape[1], reading)


def ambiguity(prev: np.ndarray, traj: Trajectory, nxt: np.ndarray, noun: str) -> str:
    """Where state labels (N*T, r) before and after each step fail to be a machine: the first
    (state, input) seen to lead to two different next states or outputs."""
    x = traj.x.reshape(-1, traj.x.shape[-1])
    y = traj.y.reshape(-1, traj.y.shape[-1])
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
            f"(sequence {k // t_len}, step {k % t_len})"
        )

    return (
        f"{noun} {prev[i].tolist()} on input {x[i].tolist()} leads to {where(i)} and to {where(j)}"
    )
