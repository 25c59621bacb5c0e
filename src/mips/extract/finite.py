"""Finite reader: clusters of hidden states, or any state labels, as a minimised Mealy machine.

States are numbered breadth-first from the initial one, so equal machines print alike.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mips.extract.trajectory import (
    ExtractConfig,
    Refusal,
    Trajectory,
    ambiguity,
    determines,
    machine_from_labels,
)
from mips.machine import Reading, StateMachine
from mips.naming import Numbered


def cluster(points: np.ndarray, radius: float, max_pairs: int = 2_000_000) -> np.ndarray | None:
    """Single-linkage clusters at ``radius``, or None when that would link too many pairs: a
    radius that links most of a large point cloud (a counter's states) cannot separate it.

    Points are first pooled into grid cells a quarter of the radius wide, so that tight clusters
    of many thousand drifting states cost as little as their few cells."""
    cells, pooled = np.unique(np.floor(points / (radius / 4)), axis=0, return_inverse=True)
    reps = (cells + 0.5) * (radius / 4)
    many = len(reps) > 2000
    if many and reps.shape[1] > 8:
        reps = _principal_axes(reps)
    tree = cKDTree(reps)
    if many:
        # Counting every pair costs as much as listing them; a strided sample of 500 cells
        # estimates how many there are.
        sample = reps[:: len(reps) // 500]
        linked = tree.query_ball_point(sample, radius, return_length=True).mean() * len(reps)
        if linked > 2 * max_pairs:
            return None
    pairs = tree.query_pairs(radius, output_type="ndarray")
    n = len(reps)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1][pooled.reshape(-1)]


def _principal_axes(points: np.ndarray) -> np.ndarray:
    """``points`` centred and rotated onto their principal axes, which keeps every distance.

    A k-d tree splits one coordinate at a time: in many dimensions it prunes little unless its
    first splits follow the directions the points spread along (twice as fast on 64-unit GRU
    states, whose first three axes hold half their variance)."""
    centred = points - points.mean(axis=0)
    axes = np.linalg.eigh(centred.T @ centred)[1][:, ::-1]
    return centred @ axes


def minimise(
    n: int, trans: dict[tuple[int, tuple[int, ...]], tuple[int, tuple[int, ...]]]
) -> np.ndarray:
    """Mealy partition refinement; an unobserved transition only matches another unobserved one."""
    symbols = sorted({s for _, s in trans})
    block = np.zeros(n, dtype=np.int64)
    while True:
        sigs = {}
        new = np.empty(n, dtype=np.int64)
        for q in range(n):
            sig = (block[q],) + tuple(
                (trans[(q, s)][1], block[trans[(q, s)][0]]) if (q, s) in trans else None
                for s in symbols
            )
            new[q] = sigs.setdefault(sig, len(sigs))
        if len(sigs) == len(set(block.tolist())):
            return new
        block = new


def bfs_numbering(
    initial: int, trans: dict[tuple[int, tuple[int, ...]], tuple[int, tuple[int, ...]]], n: int
) -> np.ndarray:
    """State numbers in breadth-first order from ``initial``, so equal machines print alike."""
    symbols = sorted({s for _, s in trans})
    number = -np.ones(n, dtype=np.int64)
    number[initial] = 0
    queue, k = deque([initial]), 1
    while queue:
        q = queue.popleft()
        for s in symbols:
            if (q, s) in trans and number[trans[(q, s)][0]] < 0:
                number[trans[(q, s)][0]] = k
                k += 1
                queue.append(trans[(q, s)][0])
    return number


@dataclass(frozen=True)
class FiniteReading:
    """A minimised Mealy machine read from state labels, and the labels (N, T + 1) renumbered
    as its states."""

    machine: StateMachine
    labels: np.ndarray  # (N, T + 1)


@dataclass(frozen=True)
class Ambiguous(Refusal):
    """Labels that give no machine because one of them goes on an input to two next labels or
    outputs: finer labels of the same states may still give one."""


@dataclass(frozen=True, kw_only=True)
class Clusters:
    """The clusters of hidden states at the coarsest radius that reads a finite machine, and
    that machine."""

    machine: StateMachine
    component: np.ndarray  # (U,): the cluster of each distinct hidden state
    inverse: np.ndarray  # (N * (T + 1),): the distinct hidden state at each step
    centres: np.ndarray  # (clusters, H)
    labels: np.ndarray  # (N, T + 1): the machine's state at each step

    def snapped(self) -> np.ndarray:
        """Each step's hidden state moved to its cluster's centre, (N * (T + 1), H)."""
        return self.centres[self.component[self.inverse]]


def finite_from_labels(
    labels: np.ndarray, traj: Trajectory, config: ExtractConfig, reading: Reading
) -> FiniteReading | Refusal:
    """The minimised Mealy machine over state labels (N, T + 1) and the labels renumbered in
    breadth-first order; :class:`Ambiguous` when the labels do not determine each next label
    and output, a plain refusal when the machine has more than ``config.max_states`` states."""
    x = traj.rows(traj.x.reshape(-1, traj.x.shape[-1]))
    prev, nxt = traj.rows(labels[:, :-1].reshape(-1)), traj.rows(labels[:, 1:].reshape(-1))
    y = traj.rows(traj.y.reshape(-1, traj.y.shape[-1]))
    keys = np.concatenate([prev[:, None], x], axis=1)
    if not (determines(keys, nxt[:, None]) and determines(keys, y)):
        return Ambiguous("a state goes on one input to two next states or outputs")
    n_states = int(labels.max()) + 1
    trans = {}
    for p, xx, q, yy in zip(prev.tolist(), x.tolist(), nxt.tolist(), y.tolist(), strict=True):
        trans[(p, tuple(xx))] = (q, tuple(yy))
    block = minimise(n_states, trans)
    min_trans = {(int(block[p]), s): (int(block[q]), o) for (p, s), (q, o) in trans.items()}
    n_min = int(block.max()) + 1
    if n_min > config.max_states:
        return Refusal(f"more than {config.max_states} states")
    number = bfs_numbering(int(block[labels[0, 0]]), min_trans, n_min)
    n_symbols = len(np.unique(x, axis=0))
    reading = replace(reading, n_states=n_min, complete=len(min_trans) == n_min * n_symbols)
    s_prev = number[block[labels[:, :-1].reshape(-1)]][:, None]  # every step: rows() picks
    s_next = number[block[labels[:, 1:].reshape(-1)]][:, None]
    machine = machine_from_labels("finite", s_prev, traj, s_next, reading)
    if machine is None:  # minimised labels stay deterministic: never seen, kept for the type
        return Refusal("the minimised states do not determine each next state and output")
    return FiniteReading(machine, number[block[labels]])


def finite_machine(traj: Trajectory, config: ExtractConfig) -> Clusters | Refusal:
    """The minimised machine over clusters of the states, at the coarsest radius that gives one,
    and the clustering; or what went wrong at the finest radius."""
    n, t1, h = traj.hidden.shape
    flat = traj.hidden.reshape(-1, h)
    uniq, inverse = np.unique(np.round(flat, 9), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    spread = float(np.ptp(uniq, axis=0).max()) if len(uniq) > 1 else 1.0
    x = traj.x.reshape(-1, traj.x.shape[-1])
    symbols = np.unique(x, axis=0)
    if len(symbols) > config.max_symbols:
        return Refusal(f"no finite machine: {len(symbols)} input symbols > {config.max_symbols}")
    miss = "the clusters link too many states"
    ambiguous = None  # the finest clustering that was not deterministic, located only if needed
    for frac in (0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001):
        comp = cluster(uniq, frac * spread) if len(uniq) > 1 else np.zeros(1, dtype=np.int64)
        if comp is None:
            continue
        n_states = int(comp.max()) + 1
        if n_states > config.max_states * 4:
            miss, ambiguous = f"{n_states} clusters at radius {frac} of the spread", None
            break
        labels = comp[inverse].reshape(n, t1)
        found = finite_from_labels(
            labels, traj, config, Reading("finite", "clusters", naming=Numbered(frac))
        )
        if isinstance(found, Ambiguous):
            miss, ambiguous = f"{n_states} clusters at radius {frac} of the spread, ", labels
            continue
        if isinstance(found, Refusal):
            return Refusal(f"no finite machine: {found.why}")
        centres = np.stack([uniq[comp == c].mean(axis=0) for c in range(n_states)])
        return Clusters(
            machine=found.machine,
            component=comp,
            inverse=inverse,
            centres=centres,
            labels=found.labels,
        )
    if ambiguous is not None:
        prev, nxt = ambiguous[:, :-1].reshape(-1, 1), ambiguous[:, 1:].reshape(-1, 1)
        miss += ambiguity(prev, traj, nxt, "cluster")
    return Refusal(f"no finite machine: {miss}")
