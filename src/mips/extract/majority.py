"""Near-exact networks: states told apart by what the network does next, transitions by majority.

A network that is right on nearly every sequence may already hold the right machine: its few
errors come from hidden states that drifted towards a decision boundary. Such a state answers
one of the probes differently from the states around it, so it forms a class of its own that is
seldom visited; it is read as the frequent class whose answers it shares most. Each (class,
input) then takes the next class and output it has most often, and the machine so read must
replay every observed sequence with the data's outputs: a few wrong steps of the network are
outvoted, a wrong machine is refused. The program read from it is verified like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mips.extract.probes import probe_signatures, replay
from mips.extract.trajectory import ExtractConfig, Trajectory
from mips.network.causal import Readable

# A class seen on fewer than this share of the states (and never on fewer than 3) is a drifted
# copy of a frequent one, not a state of its own.
RARE = 0.002


@dataclass(frozen=True)
class MajorityLabels:
    """The states of a machine read by majority and what it answers: its outputs stand in for
    the answers it outvoted."""

    labels: np.ndarray  # (N, T + 1)
    outputs: np.ndarray  # (N, T, d_out)


def majority_labels(
    network: Readable,
    traj: Trajectory,
    config: ExtractConfig,
    one_step: tuple[np.ndarray, np.ndarray] | None = None,
) -> MajorityLabels | None:
    """The states and outputs of a machine read by majority from a near-exact network, or None
    when none replays the data: its outputs may differ from the data's on at most
    ``config.majority_tolerance`` of the real steps (0: none). ``one_step``, when given, is
    what :func:`~mips.extract.probes.one_step_signatures` gives for these states, and stands in
    for the one-step probes."""
    n, t1, h = traj.hidden.shape
    # Padding repeats a sequence's last input, so every symbol here is a real one.
    symbols, x_ids = np.unique(traj.x.reshape(-1, traj.x.shape[-1]), axis=0, return_inverse=True)
    if len(symbols) > config.max_probe_symbols:
        return None
    x_ids = x_ids.reshape(n, t1 - 1)
    # The machine's outputs are the network's own; the data only confirm them (in _read).
    y_net = np.rint(network.readout(traj.hidden[:, 1:].reshape(-1, h))).astype(np.int64)
    # The shortest probes that tell the states apart: states that answer alike on the next
    # input may still differ one input later (both parities even, or both odd).
    for k in range(1, config.max_window + 1):
        if len(symbols) ** k > config.max_probe_symbols:
            break
        known = one_step if k == 1 else None
        read = _read(network, traj, config, symbols, x_ids, y_net, k, known)
        if read is not None:
            return read
    return None


def _read(
    network: Readable,
    traj: Trajectory,
    config: ExtractConfig,
    symbols: np.ndarray,
    x_ids: np.ndarray,
    y_net: np.ndarray,
    k: int,
    known: tuple[np.ndarray, np.ndarray] | None = None,
) -> MajorityLabels | None:
    """The majority machine over states classed by their answers to every k-step probe
    (``known``: those signatures, already computed)."""
    n, t1, h = traj.hidden.shape
    # Every state runs |symbols|^k probes: fewer states are probed as k grows, so that the
    # probe runs stay within what one-step probes of max_probed_states would take.
    budget = config.max_probed_states // len(symbols) ** (k - 1)
    # A state's own output is part of what tells it apart: where a state's next answers depend
    # on its last two outputs (an order-2 recurrence), the one-step probes see only their
    # combination, and probes two steps long are too many for every state.
    states, probes = traj.hidden.reshape(-1, h), symbols.astype(np.float64)
    found = known or probe_signatures(
        network, states, probes, k, budget, own=True, prefixes=traj.prefixes()
    )
    if found is None:
        return None
    signatures, of_state = found
    classes = _merge_rare(signatures, of_state, traj).reshape(n, t1)
    trans = _majority_transitions(classes, x_ids, y_net, traj)
    found = replay(trans, classes[:, 0], x_ids, traj.lengths)
    if found is None:
        return None
    labels, outputs = found
    differ = traj.rows((outputs != traj.y).any(axis=2).reshape(-1))
    if differ.sum() > config.majority_tolerance * len(differ):
        return None
    return MajorityLabels(np.unique(labels, return_inverse=True)[1].reshape(n, t1), outputs)


def _merge_rare(signatures: np.ndarray, of_state: np.ndarray, traj: Trajectory) -> np.ndarray:
    """A class per state: its signature's, or for a rarely seen signature the frequent one it
    agrees with on most probes (ties: the more frequent)."""
    sig_classes, of_sig = np.unique(signatures, axis=0, return_inverse=True)
    labels = of_sig.reshape(-1)[of_state]
    support = np.bincount(traj.state_rows(labels), minlength=len(sig_classes))
    frequent = np.flatnonzero(support >= max(3, RARE * support.sum()))
    if len(frequent) == 0:
        return labels
    agree = (sig_classes[:, None, :] == sig_classes[None, frequent, :]).sum(axis=2)
    score = agree * (support.max() + 1) + support[frequent][None, :]
    nearest = frequent[np.argmax(score, axis=1)]
    nearest[frequent] = frequent
    return nearest[labels]


def _majority_transitions(
    classes: np.ndarray, x_ids: np.ndarray, y_net: np.ndarray, traj: Trajectory
) -> dict[tuple[int, int], tuple[int, tuple[int, ...]]]:
    """(class, symbol) -> the (next class, network output) seen most often after it."""
    prev = traj.rows(classes[:, :-1].reshape(-1))
    nxt = traj.rows(classes[:, 1:].reshape(-1))
    sym = traj.rows(x_ids.reshape(-1))
    y = traj.rows(y_net)
    rows, counts = np.unique(np.column_stack([prev, sym, nxt, y]), axis=0, return_counts=True)
    trans: dict[tuple[int, int], tuple[int, tuple[int, ...]]] = {}
    best: dict[tuple[int, int], int] = {}
    for row, count in zip(rows.tolist(), counts.tolist(), strict=True):
        key = (row[0], row[1])
        if count > best.get(key, 0):
            best[key], trans[key] = count, (row[2], tuple(row[3:]))
    return trans
