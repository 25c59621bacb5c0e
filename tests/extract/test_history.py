"""The history reader: functions of the input history that reach back to the start, checked
against the network, and formulas that hold past the data's length."""

import numpy as np

from mips.extract.counters import time_clusters
from mips.extract.history import history_machines, number_machines
from mips.extract.trajectory import Trajectory
from mips.regress import regress


def scan(seqs: np.ndarray, step, state) -> tuple[np.ndarray, np.ndarray]:
    """The states (N, T + 1, r) a plain loop goes through, ``state`` first, and its outputs
    (N, T): ``step(state, x) -> (state, y)``."""
    states = np.zeros((*seqs.shape, len(state)), dtype=np.int64)
    y = np.zeros_like(seqs)
    for i, seq in enumerate(seqs.tolist()):
        s = state
        for t, x in enumerate(seq):
            s, y[i, t] = step(s, x)
            states[i, t] = s
    start = np.broadcast_to(np.array(state, dtype=np.int64), (len(seqs), 1, len(state)))
    return np.concatenate([start, states], axis=1), y


def loop(seqs: np.ndarray, step, state) -> list[list[int]]:
    """Each sequence's outputs by a plain loop: ``step(state, x) -> (state, y)``, whatever the
    state is (a number, a tuple)."""
    out = []
    for seq in seqs.tolist():
        s, ys = state, []
        for x in seq:
            s, y = step(s, x)
            ys.append(y)
        out.append(ys)
    return out


def run(program, seqs: np.ndarray) -> list[list[int]]:
    return [[o[0] for o in program.run(seq[:, None].tolist())] for seq in seqs]


def trajectory(x: np.ndarray, y: np.ndarray, state: np.ndarray, seed: int) -> Trajectory:
    """Hidden states that hold ``state`` (N, T + 1, r) in a saturating code, with noise."""
    noise = np.random.default_rng(seed).normal(0, 1e-4, state.shape)
    return Trajectory(x[..., None], y[..., None], np.tanh(state / 4) + noise)


def min_of_last3(state, x):
    prev, low = state
    return (x, min(prev, x)), min(low, x)


def test_the_previous_input_beside_the_lowest_of_the_last_two_is_read():
    # The minimum of the last three inputs (of those that exist): its state is the previous
    # input and the lowest of the two before, not a window, and no count.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (1500, 10))
    states = np.zeros((1500, 11, 2), dtype=np.int64)
    states[:, 0] = 9
    y = np.zeros_like(x)
    for t in range(10):
        (p, low), y[:, t] = (
            (x[:, t], np.minimum(states[:, t, 0], x[:, t])),
            np.minimum(states[:, t, 1], x[:, t]),
        )
        states[:, t + 1] = np.stack([p, low], axis=1)
    traj = trajectory(x, y, states, 0)
    machines = history_machines(traj, [states[..., 0] * 10 + states[..., 1]], min_distinguished=0)
    assert len(machines) == 1
    reading = machines[0].reading
    assert reading.encoding == "history"
    assert reading.naming.features == ("the previous input", "the lowest of the last 2 inputs")
    program = regress(machines[0])
    assert program.form == "formula" and len(program.state) == 2
    longer = rng.integers(0, 10, (200, 40))
    assert run(program, longer) == loop(longer, min_of_last3, (9, 9))


def test_a_count_beside_the_highest_it_reached_after_the_first_input_is_read():
    # The highest running sum of steps -1, 0, +1 (inputs 0, 1, 2), over the sums after each
    # input: from the start it is the first sum, which may be -1, not the 0 before any input.
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, (2000, 10))
    sums = np.cumsum(x - 1, axis=1)
    y = np.maximum.accumulate(sums, axis=1)
    state = np.concatenate([np.zeros((2000, 1, 2)), np.stack([sums, y], axis=-1)], axis=1)
    traj = trajectory(x, y, state, 1)
    machines = history_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    assert machines[0].reading.naming.features[1] in (
        "the highest it reached",
        "the lowest it reached",  # of the count weighted the other way
    )
    program = regress(machines[0])
    assert program.form == "formula"
    longer = rng.integers(0, 3, (200, 50))
    want = np.maximum.accumulate(np.cumsum(longer - 1, axis=1), axis=1)
    assert run(program, longer) == want.tolist()


def test_a_depth_that_never_goes_below_zero_is_read():
    # 1 opens, 0 closes, and a close at depth 0 leaves it at 0.
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, (1500, 10))
    depth = np.zeros((1500, 11), dtype=np.int64)
    for t in range(10):
        depth[:, t + 1] = np.maximum(depth[:, t] + 2 * x[:, t] - 1, 0)
    traj = trajectory(x, depth[:, 1:], depth[..., None], 2)
    machines = history_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    assert machines[0].reading.naming.features[0].endswith("never below 0")
    program = regress(machines[0])
    longer = rng.integers(0, 2, (200, 60))

    def step(d, a):
        d = max(d + 2 * a - 1, 0)
        return d, d

    assert run(program, longer) == loop(longer, step, 0)


def test_a_state_no_history_function_names_gives_nothing():
    # The input three steps back: a window, which none of these functions is.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, (1500, 10))
    back = np.concatenate([np.zeros((1500, 3), dtype=np.int64), x], axis=1)[:, :11]
    traj = trajectory(x, back[:, :-1], back[..., None], 3)
    assert history_machines(traj, time_clusters(traj)) == []


def test_a_phase_of_the_time_beside_the_previous_input_is_read():
    # x_t + x_(t-1) at even steps, x_t - x_(t-1) at odd ones: the state is the phase and the
    # previous input, a product of a clock and a window that neither names alone.
    rng = np.random.default_rng(4)
    x = rng.integers(0, 10, (1500, 10))
    prev = np.concatenate([np.zeros((1500, 1), dtype=np.int64), x], axis=1)
    phase = np.broadcast_to(np.arange(11) % 2, (1500, 11))
    y = np.where(phase[:, :-1] == 0, x + prev[:, :-1], x - prev[:, :-1])
    traj = trajectory(x, y, np.stack([phase, prev], axis=-1).astype(float), 4)
    machines = history_machines(traj, [phase * 10 + prev], min_distinguished=0)
    assert len(machines) == 1
    assert machines[0].reading.naming.features == ("the time mod 2", "the previous input")
    program = regress(machines[0])
    assert program.form == "formula"
    longer = rng.integers(0, 10, (200, 45))

    def step(state, a):
        t, p = state
        return (t + 1, a), a + p if t % 2 == 0 else a - p

    assert run(program, longer) == loop(longer, step, (0, 0))


def test_the_lowest_and_highest_inputs_so_far_are_read_together():
    # Whether the range of the inputs so far passes 3.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 10, (1500, 10))
    low = np.minimum.accumulate(np.concatenate([np.full((1500, 1), 9), x], axis=1), axis=1)
    high = np.maximum.accumulate(np.concatenate([np.zeros((1500, 1), dtype=int), x], axis=1), 1)
    y = (high[:, 1:] - low[:, 1:] > 3).astype(np.int64)
    traj = trajectory(x, y, np.stack([low, high], axis=-1).astype(float), 5)
    machines = history_machines(traj, [low * 10 + high], min_distinguished=0)
    assert len(machines) == 1
    features = machines[0].reading.naming.features
    assert features == ("the lowest input so far", "the highest input so far")
    program = regress(machines[0])
    longer = rng.integers(0, 10, (200, 40))

    def step(state, a):
        lo, hi = min(state[0], a), max(state[1], a)
        return (lo, hi), int(hi - lo > 3)

    assert run(program, longer) == loop(longer, step, (9, 0))


def anbn(state, x):
    count, seen_b, a_after_b = state
    seen_b, a_after_b = seen_b or x == 1, a_after_b or (x == 0 and seen_b)
    count += 1 if x == 0 else -1
    return (count, seen_b, a_after_b), int(count >= 0 and not a_after_b)


def test_a_count_beside_the_order_of_its_symbols_is_read():
    # Prefixes of a^k b^j with j <= k: a count of a's less b's beside two phase bits (a b seen,
    # an a after it), which no count alone and no window names.
    rng = np.random.default_rng(3)
    # Runs of each symbol, so that long prefixes stay in the language.
    x = (rng.random((2000, 12)) < np.linspace(0.1, 0.9, 12)).astype(np.int64)
    state, y = scan(x, anbn, (0, False, False))
    traj = trajectory(x, y, state, 3)
    machines = history_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    features = machines[0].reading.naming.features
    assert features[1:] == ("whether the input 1 was seen", "whether the input 0 came after it")
    program = regress(machines[0])
    assert program.form == "formula"
    longer = (rng.random((300, 50)) < np.linspace(0.1, 0.9, 50)).astype(np.int64)
    assert run(program, longer) == loop(longer, anbn, (0, False, False))


def sign_flip_sum(state, x):
    sign, total = state
    sign = -sign if x == 0 else sign
    return (sign, total + sign * x), total + sign * x


def test_a_sum_whose_sign_flips_at_one_input_is_read_with_its_product():
    # y = the running sum of the inputs, its sign flipped at every 0: the update multiplies
    # two state variables, which no count and no lattice of fixed weights holds.
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, (2000, 10))
    state, y = scan(x, sign_flip_sum, (1, 0))
    # Sums reach 30: a saturating code would merge the largest, so the network holds them linearly.
    noise = np.random.default_rng(4).normal(0, 1e-4, state.shape)
    traj = Trajectory(x[..., None], y[..., None], state / 10 + noise)
    machines = history_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    assert machines[0].reading.naming.features[0] == "a sign flipped at each input 0"
    program = regress(machines[0])
    assert program.form == "formula"
    longer = rng.integers(0, 4, (300, 50))
    assert run(program, longer) == loop(longer, sign_flip_sum, (1, 0))


def palindrome(state, x):
    ahead, behind, power = state
    ahead, behind = 2 * ahead + x, behind + x * power
    return (ahead, behind, 2 * power), int(ahead == behind)


def test_a_prefix_compared_with_its_reverse_is_read_as_two_numbers_and_a_power():
    # Every prefix is its own state, and the reading that names it is the number both ways
    # round: updates that multiply.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, (3000, 10))
    x[:1000, 5:] = x[:1000, 4::-1]  # some long palindromes
    state, y = scan(x, palindrome, (0, 0, 1))
    # A random vector for each prefix (its number and length).
    prefix = state[..., 0] * 16 + np.arange(11)[None, :]
    held = rng.normal(size=(int(prefix.max()) + 1, 6))[prefix]
    traj = Trajectory(x[..., None], y[..., None], held)
    machines = number_machines(traj, time_clusters(traj))
    assert len(machines) == 1
    assert machines[0].reading.naming.features[2] == "2 to the number of inputs"
    program = regress(machines[0])
    assert program.form == "formula"
    longer = rng.integers(0, 2, (300, 40))
    longer[:100, 20:] = longer[:100, 19::-1]
    assert run(program, longer) == loop(longer, palindrome, (0, 0, 1))
    # Not a history like the others: a network whose clusters split its states finely would
    # pass any check of it, so the reader of finite states comes first.
    assert history_machines(traj, time_clusters(traj)) == []
