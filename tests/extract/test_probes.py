"""States told apart by the network's answers: one-step classes and horizon probes."""

import itertools

import numpy as np

from mips.extract.finite import Ambiguous, finite_from_labels
from mips.extract.probes import (
    behaviour_classes,
    horizon_labels,
    one_step_signatures,
    probe_classes,
    probe_signatures,
)
from mips.extract.trajectory import ExtractConfig, Trajectory
from mips.machine import Reading
from mips.regress import regress


class RemainderNetwork:
    """Stands in for a trained network: binary division by 5, most significant bit first, with
    the quotient bit emitted one step late. The state (r, q, the pending bit p) is one-hot in 20
    units; 8 more units carry large noise, so clusters of hidden vectors mean nothing, and the
    next output (p) says nothing about r: only probes several steps long tell remainders apart."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def encode(self, r: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
        h = np.zeros((len(r), 28))
        h[np.arange(len(r)), 4 * r + 2 * q + p] = 1.0
        h[:, 20:] = self.rng.normal(0, 3, (len(r), 8))
        return h

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        s = h[:, :20].argmax(axis=1)
        c = 2 * (s // 4) + np.asarray(x)[:, 0].astype(int)
        return self.encode(c % 5, c // 5, s // 2 % 2)

    def readout(self, h: np.ndarray) -> np.ndarray:
        return (h[:, :20].argmax(axis=1) % 2)[:, None].astype(float)


def remainder_trajectory(net: RemainderNetwork) -> Trajectory:
    x = np.random.default_rng(2).integers(0, 2, (600, 10, 1))
    h = [np.zeros((600, 28))]
    h[0][:, 0] = 1.0  # r = q = p = 0
    for t in range(10):
        h.append(net.step(h[-1], x[:, t]))
    y = np.stack([net.readout(v) for v in h[1:]], axis=1).astype(np.int64)
    return Trajectory(x, y, np.stack(h, axis=1))


def test_probe_classes_merge_states_the_network_answers_alike():
    net = RemainderNetwork(0)
    states = net.encode(np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([0, 0, 1]))
    classes = probe_classes(net, states, np.array([[0.0], [1.0]]), 1, 100)
    assert classes[0] == classes[1]  # the same (r, q, p), different noise


def test_horizon_probes_read_a_machine_that_one_step_probes_cannot():
    net = RemainderNetwork(0)
    traj = remainder_trajectory(net)
    one_step = behaviour_classes(traj, one_step_signatures(net, traj, ExtractConfig()))
    assert isinstance(
        finite_from_labels(one_step, traj, ExtractConfig(), Reading("t", "t")), Ambiguous
    )
    labels = horizon_labels(net, traj, ExtractConfig())
    assert labels is not None
    machine = finite_from_labels(labels, traj, ExtractConfig(), Reading("t", "t")).machine
    assert machine.reading.complete and machine.reading.n_states <= 10
    program = regress(machine)
    for seq in np.random.default_rng(3).integers(0, 2, (100, 40)).tolist():
        r, q, want = 0, 0, []
        for bit in seq:
            want.append(q)
            r, q = (2 * r + bit) % 5, (2 * r + bit) // 5
        assert [o[0] for o in program.run([[b] for b in seq])] == want


def test_probe_signatures_equal_each_probe_run_on_its_own():
    # Probes that share a prefix share its steps; every answer must still be the one that probe
    # gets when it runs alone, in lexicographic order of its inputs.
    net = RemainderNetwork(1)
    traj = remainder_trajectory(net)
    states = traj.hidden[:40, 3]
    symbols = np.array([[0.0], [1.0]])
    signatures, of_state = probe_signatures(net, states, symbols, 3, 1000, own=True)
    for i, h in enumerate(states):
        naive = [net.readout(h[None])[0]]
        for probe in itertools.product(range(2), repeat=3):
            g = h[None]
            for s in probe:
                g = net.step(g, symbols[[s]])
                naive.append(net.readout(g)[0])
        # The signature holds the own output, then step 0 of every probe, then step 1, ...
        want = np.concatenate([naive[0]] + [np.concatenate(naive[1 + j :: 3]) for j in range(3)])
        assert np.array_equal(signatures[of_state[i]], np.rint(want))


def test_one_step_classes_are_the_probe_classes_of_the_states():
    # Differential: the classes read off the shared signatures (the state's own output, then
    # its answers) equal probe_classes run on the states alone.
    net = RemainderNetwork(0)
    traj = remainder_trajectory(net)
    classes = behaviour_classes(traj, one_step_signatures(net, traj, ExtractConfig()))
    states = traj.hidden.reshape(-1, traj.hidden.shape[-1])
    direct = probe_classes(net, states, np.array([[0.0], [1.0]]), 1, 10**6)
    same = classes.reshape(-1)[:, None] == classes.reshape(-1)[None, :]
    assert np.array_equal(same, direct[:, None] == direct[None, :])
    assert behaviour_classes(traj, None) is None
    assert one_step_signatures(net, traj, ExtractConfig(max_probe_symbols=1)) is None
