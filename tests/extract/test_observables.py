"""Finite states named by observables: the last k inputs, the output they emit."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.emit import emit_python
from mips.extract import extract
from mips.naming import Window
from mips.network import Architecture, TrainedNetwork
from mips.regress import regress
from mips.verify import verify


def test_states_named_by_their_outputs_give_a_formula(running_max):
    net, data = running_max
    named = [m for m in extract(net, data) if m.reading.encoding == "output"]
    assert named and named[0].reading.reader == "output"
    program = regress(named[0])
    assert program.form == "formula" and len(program.state) == 1
    assert "max" in emit_python(program)
    assert verify(emit_python(program), program, named[0], data).verified


def test_a_network_whose_state_is_never_read_again_is_stateless(stateless_abs):
    net, data = stateless_abs
    window = [m for m in extract(net, data) if m.reading.encoding == "window"]
    assert window and window[0].n_vars == 0 and window[0].reading.naming.length == 0
    assert "abs(x)" in emit_python(regress(window[0]))


@pytest.mark.parametrize("low", [-20, 1])
def test_window_machine_is_completed_by_probing_the_network(low):
    # h_t = (x_t, x_{t-1}); y_t = relu(h0 - h1) + relu(h1 - h0) = |x_t - x_{t-1}|: the output is
    # no affine map of the state, so unseen (state, input) pairs are read from the network.
    w = {
        "f.0.weight": np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]),
        "f.0.bias": np.zeros(2),
        "g.0.weight": np.array([[1.0, -1.0], [-1.0, 1.0]]),
        "g.0.bias": np.zeros(2),
        "g.1.weight": np.array([[1.0], [1.0]]),
        "g.1.bias": np.zeros(1),
    }
    net = TrainedNetwork(
        arch=Architecture(2, hidden_depth=1, hidden_width=0, output_depth=2, output_width=2),
        d_in=1,
        d_out=1,
        weights=w,
    )

    def abs_diff(x: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(x, axis=1, prepend=0))

    x = np.random.default_rng(0).integers(low, low + 40, (200, 6, 1))
    machines = extract(net, SequenceData(x, abs_diff(x)))
    window = [
        m for m in machines if isinstance(m.reading.naming, Window) and m.reading.naming.probed
    ]
    assert window and window[0].n_vars == 1
    # Every (x_{t-1}, x_t), and (zero pad, x_0) where 0 is not a symbol.
    assert window[0].n_rows == 40 * 40 + (40 if low > 0 else 0)
    fresh = np.random.default_rng(1).integers(low, low + 40, (200, 15, 1))
    out, known = window[0].replay(fresh)
    assert known.all() and np.array_equal(out, abs_diff(fresh))


class RunLengthStandIn:
    """Stands in for a network holding the last input and the length of its run: one random
    code per (symbol, run) in 16 units, the run read out. Neither the last input nor the output
    names the states alone."""

    hidden = 16

    def __init__(self) -> None:
        self.codes = np.random.default_rng(0).normal(size=(3, 12, 16))

    def _decode(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = ((h[:, None, None, :] - self.codes[None]) ** 2).sum(axis=3).reshape(len(h), -1)
        symbol, run = np.divmod(d.argmin(axis=1), 12)
        start = np.abs(h).sum(axis=1) == 0
        return np.where(start, -1, symbol), np.where(start, 0, run)

    def readout(self, h: np.ndarray) -> np.ndarray:
        return self._decode(h)[1][:, None].astype(float)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, hs = np.zeros((len(x), self.hidden)), []
        for t in range(x.shape[1]):
            symbol, run = self._decode(h)
            xt = x[:, t, 0].astype(int)
            h = self.codes[xt, np.where(symbol == xt, run + 1, 1)]
            hs.append(h)
        hidden = np.stack(hs, axis=1)
        return self.readout(hidden.reshape(-1, self.hidden)).reshape(*x.shape[:2], 1), hidden


def run_lengths(x: np.ndarray) -> np.ndarray:
    y = np.ones(x.shape[:2], dtype=np.int64)
    for t in range(1, x.shape[1]):
        y[:, t] = np.where(x[:, t, 0] == x[:, t - 1, 0], y[:, t - 1] + 1, 1)
    return y[..., None]


def test_states_named_by_the_last_input_and_their_output_give_a_formula_for_any_run():
    x = np.random.default_rng(1).integers(0, 3, (600, 8, 1))
    machines = extract(RunLengthStandIn(), SequenceData(x, run_lengths(x)))
    named = [m for m in machines if m.reading.encoding == "window+output"]
    assert named and named[0].reading.naming.length == 1
    assert named[0].initial[0] == -1  # before any input: a value below every symbol
    program = regress(named[0])
    assert program.form == "formula" and len(program.state) == 2
    longer = np.zeros((1, 30, 1), dtype=np.int64)  # a run of 30, beyond any the data showed
    longer[0, 20:] = 2
    assert program.run(longer[0].tolist()) == run_lengths(longer)[0].tolist()


class PairCodeStandIn:
    """Stands in for a network holding a pair (a, b) of small values: one random code per pair
    in 16 units, decoded as the nearest; h = 0 is the start, decoded as (0, 0)."""

    hidden = 16
    shape = (1, 1)

    def __init__(self) -> None:
        self.codes = np.random.default_rng(0).normal(size=(*self.shape, 16))

    def _decode(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = ((h[:, None, None, :] - self.codes[None]) ** 2).sum(axis=3).reshape(len(h), -1)
        a, b = np.divmod(d.argmin(axis=1), self.shape[1])
        start = np.abs(h).sum(axis=1) == 0
        return np.where(start, 0, a), np.where(start, 0, b)

    def readout(self, h: np.ndarray) -> np.ndarray:
        return self._decode(h)[1][:, None].astype(float)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, hs = np.zeros((len(x), self.hidden)), []
        for t in range(x.shape[1]):
            h = self.step(h, x[:, t])
            hs.append(h)
        hidden = np.stack(hs, axis=1)
        return self.readout(hidden.reshape(-1, self.hidden)).reshape(*x.shape[:2], 1), hidden


class AlternatingSumMod5StandIn(PairCodeStandIn):
    """Holds the time's parity and x_0 - x_1 + x_2 - ... mod 5, the sum read out. The output
    does not name the states alone (each sum comes at both parities), nor does any window of
    inputs."""

    shape = (2, 5)

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        parity, total = self._decode(h)
        sign = np.where(parity == 0, 1, -1)
        return self.codes[1 - parity, (total + sign * x[:, 0].astype(int)) % 5]


def alternating_sum_mod_5(x: np.ndarray) -> np.ndarray:
    signs = np.where(np.arange(x.shape[1]) % 2 == 0, 1, -1)[None, :, None]
    return np.cumsum(signs * x, axis=1) % 5


def test_states_named_by_the_time_parity_and_their_output_give_a_formula():
    x = np.random.default_rng(1).integers(0, 5, (600, 8, 1))
    machines = extract(AlternatingSumMod5StandIn(), SequenceData(x, alternating_sum_mod_5(x)))
    named = [m for m in machines if m.reading.encoding == "phase+output"]
    assert named and named[0].reading.naming.period == 2 and named[0].initial == (0, 0)
    program = regress(named[0])
    assert program.form == "formula" and len(program.state) == 2
    longer = np.random.default_rng(2).integers(0, 5, (50, 40, 1))
    assert [program.run(s.tolist()) for s in longer] == alternating_sum_mod_5(longer).tolist()


class PellMod5StandIn(PairCodeStandIn):
    """Holds y_t = (2 y_(t-1) + y_(t-2) + x_t) mod 5 as its last two outputs, the newer read
    out. Neither the output nor any window of inputs or phase names the states; the last two
    outputs do."""

    shape = (5, 5)

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        older, newer = self._decode(h)
        return self.codes[newer, (2 * newer + older + x[:, 0].astype(int)) % 5]


def pell_mod_5(x: np.ndarray) -> np.ndarray:
    y, older, newer = np.zeros_like(x), 0, 0
    for t in range(x.shape[1]):
        older, newer = newer, (2 * newer + older + x[:, t]) % 5
        y[:, t] = newer
    return y


def test_states_named_by_their_last_two_outputs_give_a_formula():
    x = np.random.default_rng(1).integers(0, 5, (1000, 8, 1))
    machines = extract(PellMod5StandIn(), SequenceData(x, pell_mod_5(x)))
    named = [m for m in machines if m.reading.encoding == "outputs"]
    assert named and named[0].reading.naming.history == 2 and named[0].initial == (0, 0)
    assert "named by their last 2 outputs" in named[0].reading.describe()
    program = regress(named[0])
    assert program.form == "formula" and len(program.state) == 2
    longer = np.random.default_rng(2).integers(0, 5, (50, 40, 1))
    assert [program.run(s.tolist()) for s in longer] == pell_mod_5(longer).tolist()


def test_states_named_by_the_symbols_seen_give_a_formula_for_a_count_of_distinct_symbols():
    # Sixteen finite states, one per set of the symbols 0..3 seen so far, which no window or
    # output names: named by one bit per symbol, the output is their sum.
    from mips.extract.observables import seen_machines
    from mips.extract.trajectory import Trajectory

    rng = np.random.default_rng(6)
    x = rng.integers(0, 4, (1200, 8))
    seen = np.concatenate([np.zeros((1200, 1, 4), dtype=int), np.eye(4, dtype=int)[x]], axis=1)
    seen = np.maximum.accumulate(seen, axis=1)
    labels = seen @ np.array([1, 2, 4, 8])
    traj = Trajectory(x[..., None], seen[:, 1:].sum(-1, keepdims=True), labels[..., None] * 1.0)
    machines = seen_machines(traj, labels, "clusters")
    assert len(machines) == 1
    assert machines[0].reading.describe() == "clusters, named by the set of inputs seen so far"
    program = regress(machines[0])
    assert program.form == "formula" and len(program.state) == 4
    longer = rng.integers(0, 4, (200, 30))
    got = [[o[0] for o in program.run(seq[:, None].tolist())] for seq in longer]
    assert got == [[len(set(seq[: t + 1].tolist())) for t in range(30)] for seq in longer]
    # States that are not the sets (the last input) are not named by them.
    last = np.concatenate([np.zeros((1200, 1), dtype=int), x], axis=1)
    assert seen_machines(traj, last, "clusters") == []
