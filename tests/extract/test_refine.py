"""Refined probe classes: the states of a Mealy machine over words read from a network's answers."""

import numpy as np
import pytest

from mips.data import SequenceData, Vocabulary
from mips.extract import WORD_READERS, extract
from mips.extract.refine import refined_labels
from mips.extract.trajectory import Trajectory

# A session over words: LOGIN, then up to three SUBs, each answered OK; a fourth SUB is FULL;
# PUB answers ACK once subscribed; LOGOUT ends it. The subscribed states answer every word
# alike except at the limit, so one-step probes lump them and only the data split them.
IN = ("LOGIN", "LOGOUT", "PUB", "SUB")
OUT = ("ACK", "BYE", "FULL", "NO", "OK")
# States: 0 idle, 1 logged in, 2-4 one to three subscriptions.
DELTA = np.array([[1, 0, 0, 0], [1, 0, 1, 2], [2, 0, 2, 3], [3, 0, 3, 4], [4, 0, 4, 4]])
LAM = np.array(
    [
        [4, 3, 3, 3],  # idle: LOGIN ok, the rest refused
        [3, 1, 3, 4],  # logged in: SUB ok, PUB refused
        [3, 1, 0, 4],
        [3, 1, 0, 4],
        [3, 1, 0, 2],  # full: a fourth SUB is refused
    ]
)


class MealyStandIn:
    """A network holding a Mealy machine's state and last output one-hot, each reach of a state
    a little off its place (a function of the path, as in a trained network)."""

    report = None

    def __init__(self, delta: np.ndarray, lam: np.ndarray, drift: float = 0.02) -> None:
        self.delta, self.lam, self.drift = delta, lam, drift
        self.n_states, self.n_out = delta.shape[0], int(lam.max()) + 1
        self.mix = np.random.default_rng(1).normal(size=(self.hidden, self.hidden))

    @property
    def hidden(self) -> int:
        return self.delta.shape[0] + int(self.lam.max()) + 1

    def describe(self) -> str:
        return "Mealy stand-in"

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        state = np.argmax(h[:, : self.n_states], axis=1)
        state[np.abs(h).sum(axis=1) == 0] = 0  # h_{-1} = 0 is the start
        a = np.asarray(x, dtype=np.int64).reshape(len(h), -1)[:, 0]
        new = np.zeros_like(h)
        new[np.arange(len(h)), self.delta[state, a]] = 1.0
        new[np.arange(len(h)), self.n_states + self.lam[state, a]] = 1.0
        return new + self.drift * np.tanh(h @ self.mix)

    def readout(self, h: np.ndarray) -> np.ndarray:
        return np.argmax(h[:, self.n_states :], axis=1)[:, None].astype(float)

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, t_len = x.shape[:2]
        h = np.zeros((n, self.hidden))
        hs, ys = [], []
        for t in range(t_len):
            h = self.step(h, x[:, t])
            hs.append(h)
            ys.append(self.readout(h))
        return np.stack(ys, axis=1), np.stack(hs, axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.rint(self.run(x)[0]).astype(np.int64)


def traces(n: int, seed: int, longest: int = 12) -> SequenceData:
    """``n`` traces of 1..``longest`` random words from the start, as word data."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, longest + 1, n)
    x = rng.integers(0, len(IN), (n, longest, 1))
    y = np.zeros_like(x)
    for i in range(n):
        s = 0
        for t in range(lengths[i]):
            y[i, t, 0] = LAM[s, x[i, t, 0]]
            s = DELTA[s, x[i, t, 0]]
    mask = np.arange(longest)[None, :] < lengths[:, None]
    x[~mask], y[~mask] = 0, 0
    return SequenceData(
        x, y, lengths=lengths, x_vocab=(Vocabulary(IN),), y_vocab=(Vocabulary(OUT),)
    )


@pytest.fixture(scope="module")
def session() -> tuple[MealyStandIn, SequenceData]:
    return MealyStandIn(DELTA, LAM), traces(400, 0)


def test_one_step_probes_lump_the_subscriptions_and_the_data_split_them(session):
    net, data = session
    y, hidden = net.run(data.x)
    hidden = np.concatenate([np.zeros((data.n, 1, net.hidden)), hidden], axis=1)
    traj = Trajectory.padded(data.x, data.y, hidden, data.lengths)
    from mips.extract.probes import probe_classes

    flat = traj.hidden.reshape(-1, net.hidden)
    symbols = np.arange(len(IN), dtype=float)[:, None]
    classes = probe_classes(net, flat, symbols, 1, 50_000).reshape(traj.hidden.shape[:2])
    assert len(np.unique(classes)) < 5  # one and two subscriptions answer alike
    assert refined_labels(traj, classes, max_states=2) is None
    labels = refined_labels(traj, classes, max_states=64)
    assert labels is not None
    # Every (state, input) the data show leads to one state, and the states are the machine's.
    truth = np.zeros_like(labels)
    for i in range(data.n):
        for t in range(data.seq_lengths[i]):
            truth[i, t + 1] = DELTA[truth[i, t], data.x[i, t, 0]]
    real = np.concatenate([np.ones((data.n, 1), dtype=bool), traj.valid], axis=1).reshape(-1)
    pairs = np.unique(np.stack([labels.reshape(-1)[real], truth.reshape(-1)[real]], 1), axis=0)
    assert len(pairs) == len(np.unique(pairs[:, 0])) == len(np.unique(pairs[:, 1])) == 5


def test_words_are_read_as_the_minimal_machine(session):
    net, data = session
    machines = extract(net, data)
    assert machines[0].kind == "finite"
    assert machines[0].reading.n_states == 5
    assert machines[0].check(data) is None


def test_word_data_get_the_word_readers_only(session):
    net, data = session
    read = extract(net, data)
    assert [m.reading.source for m in read] == [
        m.reading.source for m in extract(net, data, readers=WORD_READERS)
    ]


def _door(n: int = 60) -> tuple[Trajectory, np.ndarray, np.ndarray]:
    """A door (0 shut, 1 open; OPEN=1 opens, CLOSE=0 shuts, SEND=2 answers OK=1 while open):
    its trajectory and true state labels (N, T + 1), with input ids (N, T)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, (n, 8, 1))
    state = np.zeros((n, 9), dtype=np.int64)
    y = np.zeros((n, 8, 1), dtype=np.int64)
    for i in range(n):
        for t in range(8):
            a, s = x[i, t, 0], state[i, t]
            y[i, t, 0] = int((a == 1) != s) if a != 2 else s
            state[i, t + 1] = {0: 0, 1: 1, 2: s}[int(a)]
    return Trajectory(x, y, np.zeros((n, 9, 1))), state, x[..., 0]


def test_two_copies_of_a_state_that_nothing_tells_apart_are_merged():
    from mips.extract.refine import _merged

    traj, state, x_ids = _door()
    labels = state.copy()
    labels[: len(labels) // 2][labels[: len(labels) // 2] == 1] = 2  # open, in two copies
    merged = _merged(labels, np.minimum(labels, 1), traj, x_ids)
    assert len(np.unique(merged)) == 2
    assert np.array_equal(merged == merged[0, 0], state == 0)


def test_states_that_answer_a_shared_input_differently_are_not_merged():
    from mips.extract.refine import _merged

    traj, state, x_ids = _door()
    # One probe class for both: only the data's outputs (SEND answered ERR or OK) part them.
    merged = _merged(state, np.zeros_like(state), traj, x_ids)
    assert len(np.unique(merged)) == 2


def _replayed(net: MealyStandIn, n: int, length: int) -> SequenceData:
    """``n`` sequences of ``length`` random bits and ``net``'s answers, as integer data."""
    x = np.random.default_rng(0).integers(0, 2, (n, length, 1))
    return SequenceData(x, net.predict(x))


def test_a_closed_refinement_reads_states_that_differ_two_steps_on():
    from mips.extract import closed_refinement

    # No 000: zero and one trailing zeros answer both bits alike; then two zeros; then dead.
    delta = np.array([[1, 0], [2, 0], [3, 0], [3, 3]])
    lam = np.array([[1, 1], [1, 1], [0, 1], [0, 0]])
    net = MealyStandIn(delta, lam)
    machine = closed_refinement(net, _replayed(net, 400, 12))
    assert machine is not None and machine.reading.n_states == 4 and machine.reading.complete


def test_a_count_the_outputs_show_is_never_closed():
    from mips.extract import closed_refinement

    # The number of 1s so far (up to 20, beyond the data's 8 steps), which each output shows.
    delta = np.minimum(np.arange(21)[:, None] + np.arange(2)[None, :], 20)
    machine = MealyStandIn(delta, delta)
    assert closed_refinement(machine, _replayed(machine, 400, 8)) is None
