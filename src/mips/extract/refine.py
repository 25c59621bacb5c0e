"""States that answer alike, split only where the data show them lead apart: a Mealy machine of many
states read from what the network does next.

A network that mimics a system of many states (a protocol over words) answers every input word
from each hidden state; hidden states that answer every word alike start as one state (the
one-step probe classes). Two states that answer alike now may still differ later: where one
state's members are seen, in the data, to go on the same input into different states, it is
split by where they go (Moore's partition refinement, over the transitions the data show). A
member the data never show on that input joins the part whose members lie nearest to it in the
network's hidden space: the network's own geometry says which of the states it is. The split
repeats until every (state, input) the data show leads to one state.

Clusters of hidden states need every state the data visit to sit apart from the others; a state
the traces reach a few times sits wherever the network left it. Probing reads it all the same.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from mips.extract.finite import FiniteReading, finite_from_labels
from mips.extract.trajectory import ExtractConfig, Trajectory
from mips.machine import Reading, StateMachine

# Splits between merges of the states the data cannot tell apart (at least).
MERGE_EVERY = 64
# The most probe classes, and states, a closed machine is read from (:func:`closed_machine`).
CLOSED_STATES = 64


def refined_machine(
    traj: Trajectory, classes: np.ndarray, config: ExtractConfig, max_states: int
) -> StateMachine | None:
    """The minimised machine over probe ``classes`` (N, T + 1) split where the data show their
    members lead apart (:func:`refined_labels`), or None when the splits do not settle within
    ``max_states`` states."""
    labels = refined_labels(traj, classes, max_states)
    if labels is None:
        return None
    reading = Reading("finite", "probed states, refined by the data's transitions")
    read = finite_from_labels(labels, traj, config, reading)
    return read.machine if isinstance(read, FiniteReading) else None


def closed_machine(
    traj: Trajectory, classes: np.ndarray | None, config: ExtractConfig
) -> StateMachine | None:
    """:func:`refined_machine` when it is closed (every state seen on every input), else None.

    Its states may fold the top of a count the data seldom reach into one, so it is offered
    only beside an unbounded reading whose program it matches: the smallest form of a count
    that nothing reads past a bound (zeros since the last 1, once a string has died)."""
    # Each merge of the refinement tries the square of its states: a network whose hidden
    # states drift into hundreds of probe classes took minutes. The fewest states are few.
    if classes is None or int(classes.max()) >= CLOSED_STATES:
        return None
    machine = refined_machine(traj, classes, config, CLOSED_STATES)
    return machine if machine is not None and machine.reading.complete else None


def refined_labels(
    traj: Trajectory, classes: np.ndarray, max_states: int, max_rounds: int = 10_000
) -> np.ndarray | None:
    """State labels (N, T + 1) that refine ``classes`` (N, T + 1) until every (label, input)
    seen in ``traj`` leads to one label; None when the labels do not settle within
    ``max_rounds`` rounds of splits, or when more than ``max_states`` states stay apart after
    a merge (hidden states that drift along the traces split without end, and each merge
    costs the square of the states)."""
    n, t1, h = traj.hidden.shape
    flat = traj.hidden.reshape(-1, h)
    # One node per distinct hidden vector (to the probes' precision): the network steps a
    # vector the same way each time.
    scale = max(float(np.abs(flat).max()), 1.0)
    _, first, node = np.unique(
        np.round(flat / scale, 6), axis=0, return_index=True, return_inverse=True
    )
    node = node.reshape(n, t1)
    points = flat[first]
    block = np.zeros(len(first), dtype=np.int64)
    block[node.reshape(-1)] = classes.reshape(-1)
    x_ids = np.unique(traj.x.reshape(-1, traj.x.shape[-1]), axis=0, return_inverse=True)[1]
    x_ids = x_ids.reshape(n, t1 - 1)
    real = np.ones((n, t1 - 1), dtype=bool) if traj.valid is None else traj.valid
    edges = np.unique(
        np.stack([node[:, :-1][real], x_ids[real], node[:, 1:][real]], axis=1), axis=0
    )  # (E, 3): node, input, next node
    # Vectors within the rounding of each other may step to two nodes: keep one (the first).
    edges = edges[np.unique(edges[:, :2], axis=0, return_index=True)[1]]
    splits = 0
    for _ in range(max_rounds):
        conflicts = _conflicts(edges, block)
        if not conflicts:
            merged = _merged(block[node], classes, traj, x_ids)
            return merged if len(np.unique(merged)) <= max_states else None
        for b, a in conflicts:  # one input per block, so no split undoes another
            block = _split(block, b, a, edges, points)
        splits += len(conflicts)
        if splits >= MERGE_EVERY:
            # A split on the wrong side of a drifted state cascades into its predecessors;
            # merging what the data cannot tell apart stops the cascade early.
            splits = 0
            merged = _merged(block[node], classes, traj, x_ids)
            if len(np.unique(merged)) > max_states:
                return None
            block[node.reshape(-1)] = merged.reshape(-1)
    return None


def _merged(
    labels: np.ndarray, classes: np.ndarray, traj: Trajectory, x_ids: np.ndarray
) -> np.ndarray:
    """``labels`` (N, T + 1) with states merged wherever the data allow it: on every input both
    are seen on, the same output, and next states that merge too.

    A split follows the members the data show on one input; a member of a state the traces
    reach rarely can land on the wrong side, and its state then has two copies, each knowing
    only the inputs its own members were seen on. The copies answer alike (one probe class)
    and nothing the data show tells them apart, so they are one state."""
    n, t1 = labels.shape
    real = np.ones((n, t1 - 1), dtype=bool) if traj.valid is None else traj.valid
    y_ids = np.unique(traj.y.reshape(-1, traj.y.shape[-1]), axis=0, return_inverse=True)[1]
    rows = np.stack(
        [
            labels[:, :-1][real],
            x_ids[real],
            labels[:, 1:][real],
            y_ids.reshape(n, t1 - 1)[real],
        ],
        axis=1,
    )
    table: dict[int, dict[int, tuple[int, int]]] = {}
    for b, a, nxt, y in np.unique(rows, axis=0).tolist():
        table.setdefault(b, {})[a] = (nxt, y)
    class_of = dict(zip(labels.reshape(-1).tolist(), classes.reshape(-1).tolist(), strict=True))
    # The most visited states first: each later one is tried against those kept before it.
    ids, counts = np.unique(labels[:, :-1][real], return_counts=True)
    order = [int(b) for b in ids[np.argsort(-counts, kind="stable")]]
    order += sorted(set(class_of) - set(order))
    parent = {b: b for b in class_of}
    kept: list[int] = []
    for b in order:
        # Its own probe class first; then any state that shares two inputs with it in the data
        # (the network's answer on an input the data never showed from a state is a guess).
        if _root(parent, b) != b:  # merged by an earlier fold
            continue
        roots = list(dict.fromkeys(_root(parent, r) for r in kept))
        shown = set(table.get(b, {}))
        same = [r for r in roots if class_of[r] == class_of[b]]
        other = [
            r
            for r in roots
            if class_of[r] != class_of[b] and len(shown & set(table.get(r, {}))) >= 2
        ]
        if not any(_fold(parent, table, r, b) for r in same + other):
            kept.append(b)
    return np.vectorize(lambda b: _root(parent, b))(labels)


def _root(parent: dict[int, int], b: int) -> int:
    while parent[b] != b:
        b = parent[b]
    return b


def _fold(
    parent: dict[int, int], table: dict[int, dict[int, tuple[int, int]]], r: int, b: int
) -> bool:
    """Merge ``b`` into ``r`` in ``parent`` and ``table``, and every pair of next states the
    merge forces; when two merged states answer an input differently, undo it all and return
    False. In place, with a log to undo: copying the tables for each trial costs the square of
    the number of states."""
    undo: list = []
    pending = [(r, b)]
    while pending:
        u, v = (_root(parent, s) for s in pending.pop())
        if u == v:
            continue
        parent[v] = u
        undo.append(lambda v=v: parent.__setitem__(v, v))
        if u not in table:
            table[u] = {}
            undo.append(lambda u=u: table.pop(u))
        into = table[u]
        other = table.pop(v, None)
        if other is None:
            continue
        undo.append(lambda v=v, other=other: table.__setitem__(v, other))
        for a, (nxt, y) in other.items():
            if a not in into:
                into[a] = (nxt, y)
                undo.append(lambda into=into, a=a: into.pop(a))
            elif into[a][1] != y:
                for step in reversed(undo):
                    step()
                return False
            else:
                pending.append((into[a][0], nxt))
    return True


def _conflicts(edges: np.ndarray, block: np.ndarray) -> list[tuple[int, int]]:
    """For each block whose members are seen going on one input into different blocks, the
    first such (block, input)."""
    keys = np.stack([block[edges[:, 0]], edges[:, 1], block[edges[:, 2]]], axis=1)
    keys = np.unique(keys, axis=0)
    pair = keys[:, :2]
    repeated = pair[np.flatnonzero((pair[1:] == pair[:-1]).all(axis=1))]
    if not len(repeated):
        return []
    first = np.unique(repeated[:, 0], return_index=True)[1]
    return [(int(b), int(a)) for b, a in repeated[first]]


def _split(block: np.ndarray, b: int, a: int, edges: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``block`` with block ``b`` split by where its members go on input ``a``; members not
    seen on ``a`` join the part of their nearest seen member."""
    members = np.flatnonzero(block == b)
    on_a = edges[(edges[:, 1] == a) & (block[edges[:, 0]] == b)]
    seen, target = on_a[:, 0], block[on_a[:, 2]]
    parts = np.unique(target, return_inverse=True)[1].reshape(-1)
    part = np.full(len(block), -1, dtype=np.int64)
    part[seen] = parts
    unseen = members[part[members] < 0]
    if len(unseen):
        _, nearest = cKDTree(points[seen]).query(points[unseen])
        part[unseen] = parts[nearest]
    new = block.copy()
    # Part 0 keeps the block's number; the others get new ones.
    moved = members[part[members] > 0]
    new[moved] = block.max() + part[moved]
    return new
