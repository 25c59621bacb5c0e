"""Finite states named by something observable: the last k inputs, the output they emit, or
both together."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from mips.extract.counters import MAX_SEEN_SYMBOLS
from mips.extract.rules import from_rows
from mips.extract.trajectory import (
    ExtractConfig,
    Trajectory,
    agreement,
    machine_from_labels,
    row_ids,
)
from mips.machine import Reading, StateMachine
from mips.naming import Output, Outputs, PhaseOutput, SeenSets, Window, WindowOutput
from mips.network.causal import Readable, horizon_of


def _window(x: np.ndarray, k: int, before: np.ndarray | None = None) -> np.ndarray:
    """(N, T + 1, k * d_in): the last k inputs before each state, newest first; before t = 0,
    ``before`` (d_in,) stands for each missing input (default zeros)."""
    n, t, d = x.shape
    pad = np.zeros(d, dtype=x.dtype) if before is None else before.astype(x.dtype)
    padded = np.concatenate([np.broadcast_to(pad, (n, k, d)), x], axis=1)
    cols = [padded[:, k - i : k - i + t + 1] for i in range(1, k + 1)]
    return np.concatenate(cols, axis=2) if cols else np.zeros((n, t + 1, 0), dtype=x.dtype)


def window_machines(
    network: Readable,
    traj: Trajectory,
    labels: np.ndarray,
    source: str,
    config: ExtractConfig,
) -> list[StateMachine]:
    """The machine whose state is the last k inputs (a shift register of inputs), if the state
    labels (N, T + 1) are a function of them for some k <= ``config.max_window``.

    A name is a hypothesis: it must agree with the labels almost everywhere (a state read near a
    decision boundary may be mislabelled), and the machine it gives must then be consistent with
    every observation (checked when the machine is built).
    """
    n, t1 = labels.shape
    for k in range(config.max_window + 1):
        win = _window(traj.x, k)
        keys = traj.state_rows(win.reshape(n * t1, -1))
        if _seen_about_once(keys):
            return []
        if agreement(row_ids(keys), traj.state_rows(labels.reshape(-1))) < 0.99:
            continue
        r = win.shape[-1]
        reading = Reading("window", source, naming=Window(k), n_states=int(labels.max()) + 1)
        prev = win[:, :-1].reshape(n * (t1 - 1), r)
        m = machine_from_labels("finite", prev, traj, win[:, 1:].reshape(n * (t1 - 1), r), reading)
        return [] if m is None else [_complete_window(network, m, k, config.max_probed_states)]
    return []


def output_machines(
    network: Readable, traj: Trajectory, labels: np.ndarray, source: str
) -> list[StateMachine]:
    """The machine whose state after step t is the output y_t, if the state labels (N, T + 1)
    are in one-to-one correspondence with the outputs (a running minimum, a counter).

    h_{-1} takes the output of the states it behaves like, or its own readout when it behaves
    like none of them.
    """
    n, t1 = labels.shape
    y = traj.y.reshape(n, t1 - 1, -1)
    after = traj.rows(labels[:, 1:].reshape(-1))
    y_rows = traj.rows(y.reshape(n * (t1 - 1), -1))
    if agreement(after, row_ids(y_rows)) < 0.99:
        return []
    like_initial = after == int(labels[0, 0])
    if like_initial.any():
        values, counts = np.unique(y_rows[like_initial], axis=0, return_counts=True)
        code = values[np.argmax(counts)]
    else:
        code = readout_at_start(network)
    named = np.concatenate([np.broadcast_to(code, (n, 1, y.shape[-1])), y], axis=1)
    reading = Reading("output", source, naming=Output(), n_states=int(labels.max()) + 1)
    d = y.shape[-1]
    m = machine_from_labels(
        "finite", named[:, :-1].reshape(-1, d), traj, named[:, 1:].reshape(-1, d), reading
    )
    return [] if m is None else [m]


def seen_machines(traj: Trajectory, labels: np.ndarray, source: str) -> list[StateMachine]:
    """The machine whose state is the set of symbols seen so far, one bit per symbol, if it and
    the state labels (N, T + 1) name each other (a coverage, a count of distinct symbols)."""
    n, t1 = labels.shape
    flat = traj.x.reshape(-1, traj.x.shape[-1])
    symbols, sym_id = np.unique(flat, axis=0, return_inverse=True)
    if not 2 <= len(symbols) <= MAX_SEEN_SYMBOLS:
        return []
    onehot = np.eye(len(symbols), dtype=np.int64)[sym_id.reshape(n, t1 - 1)]
    seen = np.concatenate([np.zeros((n, 1, len(symbols)), dtype=np.int64), onehot], axis=1)
    seen = np.maximum.accumulate(seen, axis=1)
    keys = row_ids(traj.state_rows(seen.reshape(n * t1, -1)))
    named = row_ids(traj.state_rows(labels.reshape(-1)))
    if min(agreement(keys, named), agreement(named, keys)) < 0.99:
        return []
    eye = np.eye(len(symbols), dtype=np.int64)
    naming = SeenSets(symbols=symbols, weights=eye)
    reading = Reading("seen", source, naming=naming, n_states=int(labels.max()) + 1)
    s = len(symbols)
    prev, nxt = seen[:, :-1].reshape(-1, s), seen[:, 1:].reshape(-1, s)
    m = machine_from_labels("finite", prev, traj, nxt, reading)
    return [] if m is None else [m]


def named_machines(
    network: Readable,
    traj: Trajectory,
    labels: np.ndarray,
    source: str,
    config: ExtractConfig,
) -> list[StateMachine]:
    """Machines whose states (labels (N, T + 1)) are named by observables: a window, an output,
    or when neither names them, the set of symbols seen, or both together, or else the output
    and the time modulo a period, or else the last few outputs.

    Each name makes the formulas the regressors look for.
    """
    found = window_machines(network, traj, labels, source, config)
    found += output_machines(network, traj, labels, source)
    found = found or seen_machines(traj, labels, source)
    found = found or window_output_machines(network, traj, labels, source, config)
    found = found or phase_output_machines(network, traj, labels, source, config)
    return found or output_history_machines(network, traj, labels, source, config)


def window_output_machines(
    network: Readable,
    traj: Trajectory,
    labels: np.ndarray,
    source: str,
    config: ExtractConfig,
) -> list[StateMachine]:
    """The machine whose state after step t is (the last k inputs, the output y_t), if that
    pair and the state labels (N, T + 1) name each other, for some k <= ``config.max_window``:
    a finite part and a count read together (the last input and the length of its run).

    Before the first step there is no input: the window holds a value below every symbol, so
    that no rule comparing inputs with it ever holds there, and the output the network's
    readout gives at h = 0.
    """
    n, t1 = labels.shape
    d_out = traj.y.shape[-1]
    y = traj.y.reshape(n, t1 - 1, d_out)
    after = traj.rows(labels[:, 1:].reshape(-1))
    before_any = traj.x.reshape(-1, traj.x.shape[-1]).min(axis=0) - 1
    code = readout_at_start(network)
    for k in range(1, config.max_window + 1):
        win = _window(traj.x, k, before_any)
        pairs = np.concatenate([win[:, 1:], y], axis=2)
        rows = traj.rows(pairs.reshape(n * (t1 - 1), -1))
        if _seen_about_once(rows):
            return []
        if not _name_each_other(row_ids(rows), after):
            continue
        first = np.concatenate([win[:, :1], np.broadcast_to(code, (n, 1, d_out))], axis=2)
        reading = Reading(
            "window+output", source, naming=WindowOutput(k), n_states=int(labels.max()) + 1
        )
        return _named_machine(traj, np.concatenate([first, pairs], axis=1), reading)
    return []


def phase_output_machines(
    network: Readable,
    traj: Trajectory,
    labels: np.ndarray,
    source: str,
    config: ExtractConfig,
) -> list[StateMachine]:
    """The machine whose state after step t is (t + 1 mod p, the output y_t), if that pair and
    the state labels (N, T + 1) name each other, for the smallest period p <= ``config.max_window``
    that does: a clock and a value read together (a sum whose inputs count with alternating
    signs, a value updated on every other step). Before the first step the phase is 0 and the
    output is the one the network's readout gives at h = 0.
    """
    n, t1 = labels.shape
    d_out = traj.y.shape[-1]
    y = traj.y.reshape(n, t1 - 1, d_out)
    after = traj.rows(labels[:, 1:].reshape(-1))
    code = readout_at_start(network)
    clock = np.arange(1, t1)[None, :, None]
    for p in range(2, config.max_window + 1):
        pairs = np.concatenate([np.broadcast_to(clock % p, (n, t1 - 1, 1)), y], axis=2)
        if not _name_each_other(row_ids(traj.rows(pairs.reshape(n * (t1 - 1), -1))), after):
            continue
        first = np.broadcast_to(np.concatenate([[0], code]), (n, 1, 1 + d_out))
        reading = Reading(
            "phase+output", source, naming=PhaseOutput(p), n_states=int(labels.max()) + 1
        )
        return _named_machine(traj, np.concatenate([first, pairs], axis=1), reading)
    return []


def output_history_machines(
    network: Readable,
    traj: Trajectory,
    labels: np.ndarray,
    source: str,
    config: ExtractConfig,
) -> list[StateMachine]:
    """The machine whose state after step t is its last k outputs (y_(t-k+1), ..., y_t), newest
    last, if they and the state labels (N, T + 1) name each other, for the smallest
    2 <= k <= ``config.max_window`` that does: a recurrence of order k over its own outputs.
    Before the first step every missing output is the one the network's readout gives at h = 0.
    """
    n, t1 = labels.shape
    d_out = traj.y.shape[-1]
    after = traj.rows(labels[:, 1:].reshape(-1))
    code = readout_at_start(network)
    for k in range(2, config.max_window + 1):
        start = np.broadcast_to(code, (n, k, d_out))
        y = np.concatenate([start, traj.y.reshape(n, t1 - 1, d_out)], axis=1)
        named = np.concatenate([y[:, i : i + t1] for i in range(k)], axis=2)
        rows = traj.rows(named[:, 1:].reshape(n * (t1 - 1), -1))
        if _seen_about_once(rows):
            return []
        if not _name_each_other(row_ids(rows), after):
            continue
        reading = Reading("outputs", source, naming=Outputs(k), n_states=int(labels.max()) + 1)
        return _named_machine(traj, named, reading)
    return []


def readout_at_start(network: Readable) -> np.ndarray:
    """The rounded output (d_out,) the network's readout gives at h = 0, the start state."""
    return np.rint(network.readout(np.zeros((1, network.hidden))))[0].astype(np.int64)


def _seen_about_once(names: np.ndarray) -> bool:
    """Whether most names (one row per real state) are seen about once: such names explain any
    labelling, and are tried no longer (the longer ones are rarer still)."""
    return len(np.unique(names, axis=0)) * 2 > len(names)


def _name_each_other(ids: np.ndarray, after: np.ndarray) -> bool:
    """Whether names and state labels (one id per real state) determine each other almost
    everywhere: a state read near a decision boundary may be mislabelled."""
    return agreement(ids, after) >= 0.99 and agreement(after, ids) >= 0.99


def _named_machine(traj: Trajectory, named: np.ndarray, reading: Reading) -> list[StateMachine]:
    """The finite machine over the names (N, T + 1, r) of its states, if it is consistent."""
    r = named.shape[-1]
    m = machine_from_labels(
        "finite", named[:, :-1].reshape(-1, r), traj, named[:, 1:].reshape(-1, r), reading
    )
    return [] if m is None else [m]


def _complete_window(
    network: Readable, machine: StateMachine, k: int, max_probes: int
) -> StateMachine:
    """The window machine with a row for every (window, input), read by probing the network.

    A shift register's states are its last k inputs, so each is reached by feeding those inputs:
    the network's output on (window, symbol) is read by running it on the window then the
    symbol. Its transitions are the shift itself. Inputs before t = 0 are zeros; when zero is
    not an input symbol, such windows are reached by the shorter prefix. Kept only when every
    probe agrees with the rows the data showed.
    """
    d = machine.x.shape[1]
    symbols = np.unique(machine.x, axis=0)
    pad_is_symbol = bool((symbols == 0).all(axis=1).any())
    lengths = [k] if pad_is_symbol else list(range(k + 1))
    if k == 0 or sum(len(symbols) ** (j + 1) for j in lengths) > max_probes:
        return machine
    horizon = horizon_of(network)
    if horizon is not None and k + 1 > horizon:
        return machine
    rows = [machine.z_prev, machine.x, machine.z_next, machine.y]
    blocks = [np.concatenate(rows, axis=1)]
    for j in lengths:
        # Chronological inputs: j window symbols (oldest first), then the probed symbol.
        idx = np.array(list(itertools.product(range(len(symbols)), repeat=j + 1)), dtype=np.int64)
        seqs = symbols[idx.reshape(-1, j + 1)].reshape(len(idx), j + 1, d)
        y = np.rint(network.run(seqs.astype(np.float64))[0][:, -1]).astype(np.int64)
        newest_first = seqs[:, ::-1].reshape(len(seqs), -1)
        pad = np.zeros((len(seqs), (k - j) * d), dtype=np.int64)
        z_prev = np.concatenate([newest_first[:, d:], pad], axis=1)
        z_next = np.concatenate([newest_first, pad], axis=1)[:, : k * d]
        blocks.append(np.concatenate([z_prev, seqs[:, -1], z_next, y], axis=1))
    table = np.unique(np.concatenate(blocks), axis=0)
    if len(np.unique(table[:, : (k + 1) * d], axis=0)) < len(table):
        return machine
    reading = replace(machine.reading, naming=Window(k, probed=len(table) - machine.n_rows))
    return from_rows(machine.kind, machine.initial, table, d, reading)
