"""Readers that do not depend on the hidden size: a 64-unit network holding 9 states."""

import numpy as np

from mips.data import SequenceData
from mips.extract import extract


class StandIn:
    """What the readers use of a network: ``hidden``, ``step``, ``readout`` and ``run``."""

    hidden: int

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.zeros((x.shape[0], self.hidden))
        hs = []
        for t in range(x.shape[1]):
            h = self.step(h, x[:, t])
            hs.append(h)
        hidden = np.stack(hs, axis=1)
        out = self.readout(hidden.reshape(-1, self.hidden)).reshape(*x.shape[:2], 1)
        return out, hidden


class NineStatesIn64Units(StandIn):
    """Stands in for a trained 64-unit network holding a running sum mod 9: each state is a code
    in an 8-dimensional subspace, plus large noise in the other 56 directions that differs on
    every visit, so clusters of hidden vectors mean nothing; the readout is exact. Only what the
    network does next tells the 9 states apart."""

    hidden = 64

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        basis = np.linalg.qr(rng.normal(size=(64, 64)))[0]
        self.inside, self.outside = basis[:, :8], basis[:, 8:]
        self.codes = rng.normal(0, 1, (9, 8)) @ self.inside.T
        self.noise = np.random.default_rng(seed + 1)

    def _state(self, h: np.ndarray) -> np.ndarray:
        inside = h @ self.inside @ self.inside.T
        return np.argmin(((inside[:, None, :] - self.codes[None]) ** 2).sum(axis=2), axis=1)

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        s = np.where(np.abs(h).sum(axis=1) == 0, 0, self._state(h))
        nxt = (s + np.asarray(x)[:, 0].astype(int)) % 9
        return self.codes[nxt] + self.noise.normal(0, 2.0, (len(h), 56)) @ self.outside.T

    def readout(self, h: np.ndarray) -> np.ndarray:
        return self._state(h)[:, None].astype(float)


def test_a_64_unit_network_holding_9_states_is_read_as_9_states():
    net = NineStatesIn64Units(0)
    x = np.random.default_rng(1).integers(0, 9, (600, 10, 1))
    data = SequenceData(x, np.cumsum(x, axis=1) % 9)
    finite = [m for m in extract(net, data) if m.kind == "finite"]
    assert finite and all(m.reading.n_states == 9 for m in finite)
    assert all(m.reading.source == "probed states" for m in finite)  # no cluster reads them
    assert finite[-1].modulus == 9  # and the numbered machine is a sum mod 9
    longer = np.random.default_rng(2).integers(0, 9, (100, 40, 1))
    assert np.array_equal(finite[0].run(longer), np.cumsum(longer, axis=1) % 9)


class SumIn32Units(StandIn):
    """Stands in for a trained 32-unit network holding a running sum: the sum along one random
    direction, large noise in the other 31 that differs on every visit (so no lattice of hidden
    states exists), and a readout along the sum's direction."""

    hidden = 32

    def __init__(self, seed: int) -> None:
        basis = np.linalg.qr(np.random.default_rng(seed).normal(size=(32, 32)))[0]
        self.along, self.across = basis[:, 0], basis[:, 1:]
        self.noise = np.random.default_rng(seed + 1)

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        total = h @ self.along + 0.7 * np.asarray(x, dtype=float)[:, 0]
        return np.outer(total, self.along) + self.noise.normal(0, 3.0, (len(h), 31)) @ self.across.T

    def readout(self, h: np.ndarray) -> np.ndarray:
        return (h @ self.along / 0.7)[:, None]


def test_a_32_unit_network_holding_a_sum_is_read_as_one_integer_variable():
    net = SumIn32Units(0)
    x = np.random.default_rng(1).integers(0, 10, (600, 10, 1))
    data = SequenceData(x, np.cumsum(x, axis=1))
    machine = extract(net, data)[0]
    assert machine.n_vars == 1 and machine.next_rule is not None  # z' = z + x: unbounded
    assert machine.reading.source == "probed states"
    longer = np.random.default_rng(2).integers(0, 50, (100, 40, 1))
    assert np.array_equal(machine.run(longer), np.cumsum(longer, axis=1))
