"""The counter reader: integer-weighted counts of the inputs, checked against the network."""

import numpy as np

from mips.extract.counters import count_machines, time_clusters
from mips.extract.trajectory import Trajectory
from mips.regress import regress


def balanced(x: np.ndarray) -> np.ndarray:
    """1 where the prefix of 0 = "(" and 1 = ")" is balanced and never went negative."""
    b = np.cumsum(1 - 2 * x, axis=-1)
    return ((b == 0) & (np.minimum.accumulate(b, axis=-1) >= 0)).astype(np.int64)


def test_saturating_counter_is_read_as_a_weighted_count():
    # Majority of 0s and 1s, stored as tanh(B / 3) of the balance B = #0 - #1 plus noise: the
    # states of one balance drift with time and overlap their neighbours', so no lattice or
    # clustering over all steps reads it, but each step's clusters do.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1500, 10, 1))
    balance = np.concatenate([np.zeros((1500, 1)), np.cumsum(1 - 2 * x[..., 0], axis=1)], axis=1)
    t = np.arange(11)[None, :]
    hidden = np.tanh(balance / 3) + 0.004 * t * np.sign(balance) + rng.normal(0, 1e-4, t.shape)
    y = (balance[:, 1:] < 0).astype(np.int64)[..., None]
    traj = Trajectory(x, y, hidden[..., None])
    machines = count_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    m = machines[0]
    assert m.kind == "lattice" and m.reading.encoding == "counts"
    assert np.abs(np.array(m.reading.naming.weights)).tolist() == [[1], [1]]
    program = regress(m)
    assert program.form == "formula" and len(program.state) == 1
    longer = rng.integers(0, 2, (200, 60, 1))
    want = (np.cumsum(1 - 2 * longer[..., 0], axis=1) < 0).astype(int)
    assert [[o[0] for o in program.run(seq.tolist())] for seq in longer] == want.tolist()


def test_a_difference_of_two_columns_sums_is_read_over_many_symbols():
    # Sign of sum(a) - sum(b) over 16 (a, b) symbols, stored saturated as tanh(D / 4): too many
    # symbols to weight one by one, but the weights a - b are a combination of the values.
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, (1500, 10, 2))
    diff = np.concatenate([np.zeros((1500, 1)), np.cumsum(x[..., 0] - x[..., 1], axis=1)], axis=1)
    hidden = np.tanh(diff / 4) + rng.normal(0, 1e-5, diff.shape)
    traj = Trajectory(x, np.sign(diff[:, 1:]).astype(np.int64)[..., None], hidden[..., None])
    machines = count_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    symbols = np.array(machines[0].reading.naming.symbols)
    weights = np.array(machines[0].reading.naming.weights)[:, 0]
    assert np.array_equal(np.abs(weights), np.abs(symbols[:, 0] - symbols[:, 1]))
    program = regress(machines[0])
    longer = rng.integers(0, 4, (200, 50, 2))
    want = np.sign(np.cumsum(longer[..., 0] - longer[..., 1], axis=1))
    assert [[o[0] for o in program.run(seq.tolist())] for seq in longer] == want.tolist()


def test_a_sum_of_few_values_is_read_as_one_count_before_a_count_of_each():
    # A running sum of the values 0..3 passing 10, stored saturated: per-symbol weights in
    # -1..1 cannot weight the symbols 0, 1, 2, 3; one count of each symbol would read it as four
    # counts, which no formula of the output's size combines.
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, (1500, 10, 1))
    total = np.concatenate([np.zeros((1500, 1)), np.cumsum(x[..., 0], axis=1)], axis=1)
    hidden = np.tanh(total / 20) + rng.normal(0, 1e-5, total.shape)
    traj = Trajectory(x, (total[:, 1:] > 10).astype(np.int64)[..., None], hidden[..., None])
    machines = count_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    assert np.array(machines[0].reading.naming.weights).tolist() == [[0], [1], [2], [3]]
    program = regress(machines[0])
    assert program.form == "formula"
    longer = rng.integers(0, 4, (200, 50, 1))
    want = (np.cumsum(longer[..., 0], axis=1) > 10).astype(int)
    assert [[o[0] for o in program.run(seq.tolist())] for seq in longer] == want.tolist()


def test_counter_with_a_sink_is_read_as_one_count():
    # Balanced parentheses: the balance B, tanh-coded while it has never gone negative, and one
    # noisy region, wherever B went, after. No plain count explains the dead region's states.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1500, 10, 1))
    b = np.concatenate([np.zeros((1500, 1)), np.cumsum(1 - 2 * x[..., 0], axis=1)], axis=1)
    dead = np.minimum.accumulate(b, axis=1) < 0
    hidden = np.where(dead, 3 + rng.uniform(0, 0.5, b.shape), np.tanh(b / 3))
    traj = Trajectory(x, balanced(x[..., 0])[..., None], hidden[..., None])
    machines = count_machines(traj, time_clusters(traj))
    assert len(machines) == 1 and machines[0].reading.naming.sink == -1
    program = regress(machines[0])
    assert program.form == "formula" and len(program.state) == 1
    longer = rng.integers(0, 2, (300, 60, 1))
    assert [[o[0] for o in program.run(seq.tolist())] for seq in longer] == balanced(
        longer[..., 0]
    ).tolist()


def test_counts_are_read_from_behaviour_that_merges_counts():
    # What the network does next tells balances apart only near zero (the far ones no longer
    # matter within its horizon): such labels determine no clusters to split, but they are a
    # function of the balance, so the balance is read once counts need not be told apart.
    x = np.random.default_rng(2).integers(0, 2, (800, 8, 1))
    b = np.concatenate([np.zeros((800, 1), dtype=np.int64), np.cumsum(1 - 2 * x[..., 0], 1)], 1)
    traj = Trajectory(x, (b[:, 1:] < 0).astype(np.int64)[..., None], np.zeros((800, 9, 1)))
    behaviour = np.clip(b, -2, 2)
    assert count_machines(traj, [behaviour]) == []
    machines = count_machines(traj, [behaviour], min_distinguished=0.0, source="probed states")
    assert len(machines) == 1
    assert np.abs(machines[0].z_next - machines[0].z_prev).max() == 1
    assert machines[0].reading.describe() == "probed states, named by weighted input counts"


def test_counter_reader_refuses_an_order_dependent_state():
    # Last input seen (a state no count of inputs determines) gives no counter.
    x = np.random.default_rng(1).integers(0, 2, (800, 8, 1))
    prev = np.concatenate([np.zeros((800, 1), dtype=np.int64), x[..., 0]], axis=1)
    traj = Trajectory(x, prev[:, :-1, None], prev[..., None].astype(float))
    assert count_machines(traj, time_clusters(traj)) == []


def longest_run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(run, best) after each step (N, T): the current run of 1s and the longest so far."""
    run = np.zeros(x.shape, dtype=np.int64)
    for t in range(x.shape[1]):
        run[:, t] = np.where(x[:, t] == 1, (run[:, t - 1] if t else 0) + 1, 0)
    return run, np.maximum.accumulate(run, axis=1)


def test_a_count_since_a_reset_beside_the_last_output_is_read():
    # Longest run of 1s: the state is the current run, which a 0 sets back to 0, and the best
    # run, which is the output. Neither alone is a count of the inputs; the pair is.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, (1500, 10))
    run, best = longest_run(x)
    pair = np.concatenate([np.zeros((1500, 1, 2)), np.stack([run, best], axis=-1)], axis=1)
    hidden = np.tanh(pair / 3) + rng.normal(0, 1e-4, pair.shape)
    traj = Trajectory(x[..., None], best[..., None], hidden)
    labels = pair[..., 0] * 11 + pair[..., 1]  # what the network does next tells pairs apart
    # No count without the output.
    assert count_machines(traj, [labels], min_distinguished=0.0) == []
    machines = count_machines(traj, [labels], min_distinguished=0.0, start=np.array([0]))
    assert len(machines) == 1
    reading = machines[0].reading
    assert reading.encoding == "counts+output" and reading.naming.resets == (0,)
    assert reading.describe().endswith("a count of inputs since a reset and the last output")
    program = regress(machines[0])
    assert program.form == "formula" and len(program.state) == 2
    longer = rng.integers(0, 2, (200, 40))
    want = longest_run(longer)[1]
    assert [[o[0] for o in program.run(seq[:, None].tolist())] for seq in longer] == want.tolist()


def test_a_set_of_seen_symbols_is_read_as_bits_before_the_counts_that_refine_it():
    # Number of distinct symbols of 0..3 seen so far, with hidden states that hold the count of
    # each symbol: the counts determine the state, but what the network does next only tells
    # the sets of seen symbols apart, so the set is the reading (finite, unlike the counts).
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, (1500, 8))
    counts = np.concatenate(
        [np.zeros((1500, 1, 4)), np.cumsum(np.eye(4)[x], axis=1)], axis=1
    ).astype(np.int64)
    seen = np.minimum(counts, 1)
    hidden = np.tanh(counts / 3) + rng.normal(0, 1e-4, counts.shape)
    traj = Trajectory(x[..., None], seen[:, 1:].sum(-1, keepdims=True), hidden)
    labels = seen @ np.array([1, 2, 4, 8])
    machines = count_machines(traj, [labels], min_distinguished=0.0)
    assert len(machines) == 1
    reading = machines[0].reading
    assert reading.encoding == "seen"
    assert reading.describe().endswith("named by the set of inputs seen so far")
    assert set(np.unique(machines[0].z_next).tolist()) == {0, 1}
    program = regress(machines[0])
    assert program.form == "formula" and len(program.state) == 4
    longer = rng.integers(0, 4, (200, 30))

    def distinct(seq: np.ndarray) -> list[int]:
        return [len(set(seq[: t + 1].tolist())) for t in range(len(seq))]

    assert [[o[0] for o in program.run(s[:, None].tolist())] for s in longer] == [
        distinct(s) for s in longer
    ]


def test_the_sample_screen_keeps_the_reading_of_every_row(monkeypatch):
    """Differential: with candidates turned down on a sample of the states first (these
    trajectories hold 12,000-16,500 states, the sample 4,096), the reading is the one the
    check of every state gives, found or refused."""
    import mips.extract.counters as counters

    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, (1500, 10))
    run, best = longest_run(x)
    pair = np.concatenate([np.zeros((1500, 1, 2)), np.stack([run, best], axis=-1)], axis=1)
    runs = Trajectory(x[..., None], best[..., None], np.tanh(pair / 3))
    balance = np.concatenate([np.zeros((1500, 1)), np.cumsum(1 - 2 * x, axis=1)], axis=1)
    majority = Trajectory(
        x[..., None], (balance[:, 1:] < 0)[..., None], np.tanh(balance / 3)[..., None]
    )
    prev = np.concatenate([np.zeros((1500, 1), dtype=np.int64), x], axis=1)
    last = Trajectory(x[..., None], prev[:, :-1, None], prev[..., None].astype(float))
    cases = [
        (
            runs,
            [pair[..., 0] * 11 + pair[..., 1]],
            {"min_distinguished": 0.0, "start": np.array([0])},
        ),
        (majority, None, {}),
        (last, None, {}),
    ]

    def readings():
        out = []
        for traj, labels, kwargs in cases:
            found = count_machines(traj, labels or time_clusters(traj), **kwargs)
            out.append([(m.reading.describe(), m.z_prev.tolist(), m.y.tolist()) for m in found])
        return out

    screened = readings()
    monkeypatch.setattr(counters, "SCREEN_ROWS", 10**9)
    assert screened == readings()
    assert [len(r) for r in screened] == [1, 1, 0]
