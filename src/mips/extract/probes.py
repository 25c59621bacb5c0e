"""States told apart by what the network does next: its outputs on probe inputs from them."""

from __future__ import annotations

import itertools

import numpy as np

from mips.extract.trajectory import ExtractConfig, Prefixes, Trajectory, determines
from mips.network.causal import Causal, Readable, horizon_of


def probe_classes(
    network: Readable,
    states: np.ndarray,
    symbols: np.ndarray,
    k: int,
    max_states: int,
    prefixes: Prefixes | None = None,
) -> np.ndarray | None:
    """A class for each row of ``states`` (M, H): the network's rounded outputs along every input
    sequence of length k from it. None when there are more than ``max_states`` distinct states,
    or when a causal network would run past its horizon (``prefixes`` say what reaches each
    state; a recurrent network steps from the state itself)."""
    found = probe_signatures(network, states, symbols, k, max_states, prefixes=prefixes)
    if found is None:
        return None
    signatures, of_state = found
    _, classes = np.unique(signatures, axis=0, return_inverse=True)
    return classes.reshape(-1)[of_state]


def probe_signatures(
    network: Readable,
    states: np.ndarray,
    symbols: np.ndarray,
    k: int,
    max_states: int,
    *,
    own: bool = False,
    prefixes: Prefixes | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The network's rounded outputs along every input sequence of length k from each distinct
    row of ``states`` (M, H), after, with ``own``, the row's own output; and which distinct row
    each state is. None when there are more than ``max_states`` distinct rows, or when a causal
    network (one without ``step``) would run past its horizon; its probes run the ``prefixes``
    that reach the states, then the probe."""
    scale = max(float(np.abs(states).max()), 1.0)
    _, first, inverse = np.unique(
        np.round(states / scale, 5), axis=0, return_index=True, return_inverse=True
    )
    if len(first) > max_states:
        return None
    m, s = len(first), len(symbols)
    h = states[first]
    outs = [np.rint(network.readout(h))] if own else []
    horizon = horizon_of(network)
    if horizon is not None:
        if prefixes is None:
            raise ValueError("a network without a recurrence is probed from prefixes")
        answers = _continued(network, prefixes.take(first), symbols, k, horizon)
        if answers is None:
            return None
        for j in range(k):
            outs.append(np.rint(answers[:, :, j]).reshape(m, -1))
        return np.concatenate(outs, axis=1), inverse.reshape(-1)
    # Probes in lexicographic order of their inputs; those that share a prefix share its steps,
    # so step j runs once per prefix of length j + 1, not once per probe.
    for j in range(k):
        h = network.step(np.repeat(h, s, axis=0), np.tile(symbols, (len(h), 1)))
        answers = np.rint(network.readout(h)).reshape(m, s ** (j + 1), -1)
        outs.append(np.repeat(answers, s ** (k - j - 1), axis=1).reshape(m, -1))
    return np.concatenate(outs, axis=1), inverse.reshape(-1)


def _continued(
    network: Causal, prefixes: Prefixes, symbols: np.ndarray, k: int, horizon: int
) -> np.ndarray | None:
    """Real outputs (M, s^k, k, d_out) of a causal network along every probe of k symbols (in
    lexicographic order) after each prefix; None when a prefix and a probe pass ``horizon``."""
    if len(prefixes.length) and int(prefixes.length.max()) + k > horizon:
        return None
    s, d = len(symbols), symbols.shape[1]
    probes = symbols[np.array(list(itertools.product(range(s), repeat=k)))]  # (s^k, k, d)
    out = None
    # Prefixes of one length run together, without padding.
    for length in np.unique(prefixes.length).tolist():
        rows = np.flatnonzero(prefixes.length == length)
        heads = prefixes.x[prefixes.seq[rows], :length].astype(np.float64)  # (r, L, d)
        x = np.concatenate(
            [
                np.repeat(heads, len(probes), axis=0),
                np.tile(probes, (len(rows), 1, 1)).astype(np.float64),
            ],
            axis=1,
        ).reshape(len(rows) * len(probes), length + k, d)
        y = network.run(x)[0][:, length:]  # (r * s^k, k, d_out)
        if out is None:
            out = np.empty((len(prefixes.length), len(probes), k, y.shape[-1]))
        out[rows] = y.reshape(len(rows), len(probes), k, -1)
    return out


def one_step_signatures(
    network: Readable, traj: Trajectory, config: ExtractConfig
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each distinct hidden state's own output and its answers to every input symbol one step
    on (:func:`probe_signatures` with ``own``), and which distinct state each state (N * (T + 1))
    is; None when there are too many symbols or states to probe. Computed once for the probe
    classes and the majority reading, which both start from it."""
    symbols = np.unique(traj.x.reshape(-1, traj.x.shape[-1]), axis=0).astype(np.float64)
    if len(symbols) > config.max_probe_symbols:
        return None
    states = traj.hidden.reshape(-1, traj.hidden.shape[-1])
    budget = config.max_probed_states
    return probe_signatures(network, states, symbols, 1, budget, own=True, prefixes=traj.prefixes())


def behaviour_classes(
    traj: Trajectory, signatures: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray | None:
    """Label every hidden state (N, T + 1) by what the network does from it, from its
    :func:`one_step_signatures` (None: no labels).

    Two hidden vectors are one state when the network answers every input symbol the same from
    both. Hidden vectors that differ only in directions the network never reads again (a ReLU
    feature of an input that no later output uses, the transient of h_{-1} = 0) thereby
    collapse to one state. One step only: longer probes leave the horizon the network was
    trained on, where its answers drift and would split states it treats alike on the data.
    """
    if signatures is None:
        return None
    rows, of_state = signatures
    n, t1, _ = traj.hidden.shape
    # The state's own output comes first: it is not what the state does next.
    _, classes = np.unique(rows[:, traj.y.shape[-1] :], axis=0, return_inverse=True)
    return classes.reshape(-1)[of_state].reshape(n, t1)


def replay(
    trans: dict[tuple[int, int], tuple[int, tuple[int, ...]]],
    start: np.ndarray,
    x_ids: np.ndarray,
    lengths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Labels (N, T + 1) and outputs (N, T, d_out) from running ``trans`` from ``start`` on
    symbol ids (N, T); None if a transition is missing. A sequence shorter than T
    (``lengths``) keeps its last label and output over its padding."""
    n, t_len = x_ids.shape
    labels = np.empty((n, t_len + 1), dtype=np.int64)
    labels[:, 0] = start
    d_out = len(next(iter(trans.values()))[1]) if trans else 0
    outputs = np.zeros((n, t_len, d_out), dtype=np.int64)
    ends = [t_len] * n if lengths is None else lengths.tolist()
    for i, seq in enumerate(x_ids.tolist()):
        c = int(start[i])
        for t, s in enumerate(seq[: ends[i]]):
            step = trans.get((c, s))
            if step is None:
                return None
            c = labels[i, t + 1] = step[0]
            outputs[i, t] = step[1]
        labels[i, ends[i] + 1 :] = c
        outputs[i, ends[i] :] = outputs[i, ends[i] - 1]
    return labels, outputs


def replay_labels(
    trans: dict[tuple[int, int], tuple[int, tuple[int, ...]]],
    start: np.ndarray,
    x_ids: np.ndarray,
    y: np.ndarray,
    lengths: np.ndarray | None = None,
) -> np.ndarray | None:
    """The labels of :func:`replay`; None if a transition is missing or emits other outputs
    than ``y`` (N, T, d_out) at a real step."""
    found = replay(trans, start, x_ids, lengths)
    if found is None:
        return None
    labels, outputs = found
    if lengths is None:
        return labels if np.array_equal(outputs, y) else None
    real = np.arange(x_ids.shape[1])[None, :] < lengths[:, None]
    return labels if np.array_equal(outputs[real], y[real]) else None


def horizon_labels(network: Readable, traj: Trajectory, config: ExtractConfig) -> np.ndarray | None:
    """Labels (N, T + 1) from probing the network k steps ahead, staying inside its horizon.

    A state's class is what the network outputs along every input sequence of length k from
    it; only states early enough for k more steps to stay within the training length are
    probed, since beyond it a network's answers drift. The classes and their observed
    transitions form a machine, which must replay every training sequence to the end with the
    data's outputs: the later states are then labelled by that replay. The shortest k that
    does so is used. This reads finite machines whose states the network keeps apart only in
    what they do several steps later (a remainder, whose next output is a quotient bit).
    """
    n, t1, h = traj.hidden.shape
    symbols, x_ids = np.unique(traj.x.reshape(-1, traj.x.shape[-1]), axis=0, return_inverse=True)
    x_ids = x_ids.reshape(n, t1 - 1)
    for k in range(2, t1 - 1):
        # The probes of one state are |symbols|^k sequences: the symbol limit bounds them too.
        if len(symbols) ** k > config.max_probe_symbols:
            break
        early = t1 - k  # positions whose k-step continuations stay in the data's length
        budget = 50 * config.max_probed_states // len(symbols) ** k
        states = traj.hidden[:, :early].reshape(-1, h)
        classes = probe_classes(network, states, symbols, k, budget, traj.prefixes(early))
        if classes is None:
            break
        early_labels = classes.reshape(n, early)
        keys = np.stack(
            [early_labels[:, :-1].reshape(-1), x_ids[:, : early - 1].reshape(-1)], axis=1
        )
        nxt = early_labels[:, 1:].reshape(-1)
        outs = traj.y[:, : early - 1].reshape(len(nxt), -1)
        if traj.valid is not None:  # real steps only
            real = traj.valid[:, : early - 1].reshape(-1)
            keys, nxt, outs = keys[real], nxt[real], outs[real]
        if not determines(keys, np.column_stack([nxt, outs])):
            continue
        trans = {
            (c, s): (c2, tuple(o))
            for (c, s), c2, o in zip(keys.tolist(), nxt.tolist(), outs.tolist(), strict=True)
        }
        labels = replay_labels(trans, early_labels[:, 0], x_ids, traj.y, traj.lengths)
        if labels is not None:
            return labels
    return None
