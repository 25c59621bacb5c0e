"""Simplification keeps the function; the integer autoencoder reads exact state machines."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.data import SequenceData
from mips.extract import StateMachine, extract, find_lattice
from mips.network import Architecture, TrainedNetwork
from mips.simplify import reparametrise, simplify


def random_network(seed: int, hidden: int, depth: int) -> TrainedNetwork:
    rng = np.random.default_rng(seed)
    arch = Architecture(hidden, depth, 5 if depth > 1 else 0)
    f, g = arch.layer_sizes(2, 1)
    w = {}
    for name, sizes in (("f", f), ("g", g)):
        for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w[f"{name}.{j}.weight"] = rng.normal(size=(a, b)) / np.sqrt(a)
            w[f"{name}.{j}.bias"] = rng.normal(size=b) * 0.1
    return TrainedNetwork(arch, 2, 1, w)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3))
def test_reparametrisation_preserves_outputs(seed, hidden, depth):
    net = random_network(seed, hidden, depth)
    rng = np.random.default_rng(seed + 1)
    m = rng.normal(size=(hidden, hidden)) + 2 * np.eye(hidden)
    x = rng.integers(-3, 4, (20, 7, 2))
    np.testing.assert_allclose(reparametrise(net, m).run(x)[0], net.run(x)[0], atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_lattice_round_trip(seed, rank):
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, 8))
    z = rng.integers(-6, 7, (400, rank))
    z[:rank] = np.eye(rank, dtype=np.int64)  # the unit steps are observed, as with counters
    points = np.vstack([np.zeros((1, 8)), z @ basis + rng.normal(0, 1e-7, (400, 8))])
    found = find_lattice(points, 8)
    assert found is not None
    a, coords = found
    assert a.shape[0] == rank
    np.testing.assert_allclose(coords @ a, points, atol=1e-5)


def counter_with_offset() -> tuple[TrainedNetwork, SequenceData]:
    # h_t = h_{t-1} + 0.7 x_t + 1.4 (a lattice step of 0.7 and a per-step offset of 2 steps);
    # y_t = (h_t / 0.7) = sum of x + 2 (t + 1).
    w = {
        "f.0.weight": np.array([[1.0], [0.7]]),
        "f.0.bias": np.array([1.4]),
        "g.0.weight": np.array([[1 / 0.7]]),
        "g.0.bias": np.array([0.0]),
    }
    net = TrainedNetwork(Architecture(1), 1, 1, w)
    x = np.random.default_rng(0).integers(0, 5, (300, 6, 1))
    y = np.cumsum(x, axis=1) + 2 * np.arange(1, 7)[None, :, None]
    return net, SequenceData(x, y)


def test_initial_state_is_exact_with_an_offset():
    net, data = counter_with_offset()
    lattice = [m for m in extract(net, data) if m.kind == "lattice"][0]
    assert lattice.initial == (0,)
    assert np.array_equal(lattice.run(data.x[:50]), data.y[:50])
    # Every transition adds the input plus the offset of 2 lattice steps.
    assert np.array_equal(lattice.z_next, lattice.z_prev + lattice.x + 2)


def test_six_state_variables_are_extracted():
    # A shift register of 6 inputs: the state is (x_t, ..., x_{t-5}).
    h = 6
    rec = np.eye(h, k=1)  # row vector convention: h' = h @ rec shifts every coordinate right
    w = {
        "f.0.weight": np.vstack([rec, np.eye(1, h)]),
        "f.0.bias": np.zeros(h),
        "g.0.weight": np.eye(h)[:, -1:],
        "g.0.bias": np.zeros(1),
    }
    net = TrainedNetwork(Architecture(h, hidden_bias=False), 1, 1, w)
    x = np.random.default_rng(0).integers(0, 50, (500, 12, 1))
    data = SequenceData(x, net.predict(x))
    lattice = [m for m in extract(simplify(net, data), data) if m.kind == "lattice"]
    assert lattice and lattice[0].n_vars == 6


def test_state_machine_json_round_trip():
    net, data = counter_with_offset()
    m = extract(net, data)[0]
    back = StateMachine.from_dict(m.to_dict())
    assert back.initial == m.initial and np.array_equal(back.z_next, m.z_next)


def test_extraction_error_says_why():
    # Continuous states driven by 100 input symbols: no lattice, and too many symbols for a
    # finite machine; the error names both instead of a generic refusal.
    from mips.extract import ExtractionError

    net = random_network(3, 2, 2)
    x = np.random.default_rng(0).integers(0, 10, (200, 6, 2))
    y = np.rint(net.run(x.astype(float))[0]).astype(np.int64)
    try:
        extract(net, SequenceData(x, y))
    except ExtractionError as e:
        message = str(e)
    else:
        raise AssertionError("a random network was read as a state machine")
    assert "no lattice of hidden states:" in message
    assert "100 input symbols > 64" in message


def test_ambiguous_transition_is_located():
    from mips.extract import _ambiguity, _Trajectory

    x = np.array([[[1], [1]], [[1], [0]]])
    y = np.zeros((2, 2, 1), dtype=np.int64)
    traj = _Trajectory(x, y, np.zeros((2, 3, 1)))
    labels = np.array([[0, 1, 2], [0, 1, 3]])  # state 1 on input 1 goes to 2, but 1 on 0 to 3
    assert _ambiguity(labels[:, :-1].reshape(-1, 1), traj, labels[:, 1:].reshape(-1, 1), "s") == (
        "no conflict found"
    )
    x[1, 1, 0] = 1  # now state 1 on input 1 leads to 2 in sequence 0 and to 3 in sequence 1
    message = _ambiguity(labels[:, :-1].reshape(-1, 1), traj, labels[:, 1:].reshape(-1, 1), "s")
    assert message.startswith("s [1] on input [1] leads to s [2]")
    assert "(sequence 0, step 1)" in message and "(sequence 1, step 1)" in message


def test_affine_rule_replays_transitions_the_table_never_saw():
    net, data = counter_with_offset()
    lattice = [m for m in extract(net, data) if m.kind == "lattice"][0]
    # Inputs 0..4 over 6 steps in the table; replay inputs up to 20 over 30 steps.
    x = np.random.default_rng(1).integers(0, 21, (50, 30, 1))
    out, known = lattice.replay(x)
    assert known.all()
    assert np.array_equal(out, np.cumsum(x, axis=1) + 2 * np.arange(1, 31)[None, :, None])
    back = StateMachine.from_dict(lattice.to_dict())
    assert np.array_equal(back.next_rule, lattice.next_rule)
    assert np.array_equal(back.run(x), out)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3))
def test_affine_rule_is_recovered_exactly_or_refused(seed, n_features, n_targets):
    from mips.extract import _affine_rule

    rng = np.random.default_rng(seed)
    m = rng.integers(-5, 6, (n_features + 1, n_targets))
    f = rng.integers(-50, 50, (60, n_features))
    target = np.concatenate([f, np.ones((60, 1), dtype=np.int64)], axis=1) @ m
    assert np.array_equal(_affine_rule(f, target), m)
    # One row off the map, or a feature that never varies: no rule.
    bent = target.copy()
    bent[7, 0] += 1
    assert _affine_rule(f, bent) is None
    f[:, 0] = 3
    assert _affine_rule(f, target) is None


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
    net = TrainedNetwork(Architecture(2, 1, 0, 2, 2), 1, 1, w)

    def abs_diff(x: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(x, axis=1, prepend=0))

    x = np.random.default_rng(0).integers(low, low + 40, (200, 6, 1))
    window = [m for m in extract(net, SequenceData(x, abs_diff(x))) if m.info.get("probed")]
    assert window and window[0].n_vars == 1
    # Every (x_{t-1}, x_t), and (zero pad, x_0) where 0 is not a symbol.
    assert window[0].n_rows == 40 * 40 + (40 if low > 0 else 0)
    fresh = np.random.default_rng(1).integers(low, low + 40, (200, 15, 1))
    out, known = window[0].replay(fresh)
    assert known.all() and np.array_equal(out, abs_diff(fresh))


def test_a_running_sum_mod_m_is_an_integer_mod_m():
    from mips.extract import _from_rows

    z, x = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    z, x = z.reshape(-1, 1), x.reshape(-1, 1)
    rows = np.concatenate([z, x, (z + x) % 5, (z + x) % 5], axis=1)
    m = _from_rows("finite", (0,), rows, 1, {})
    assert m.modulus == 5 and m.next_rule[:, 0].tolist() == [1, 1, 0]
    seqs = np.random.default_rng(0).integers(0, 5, (20, 40, 1))
    assert np.array_equal(StateMachine.from_dict(m.to_dict()).run(seqs), np.cumsum(seqs, 1) % 5)
    # A state that is no map mod m (the larger of two inputs) gets no rule.
    rows[:, 2] = rows[:, 3] = np.maximum(z, x)[:, 0]
    assert _from_rows("finite", (0,), rows, 1, {}).modulus is None


def test_check_says_why_a_machine_does_not_replay():
    from mips.extract import _from_rows

    # max(z, x) over inputs 0..2 only: neither an affine map nor complete for input 3.
    z, x = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    z, x = z.reshape(-1, 1), x.reshape(-1, 1)
    rows = np.concatenate([z, x, np.maximum(z, x), np.maximum(z, x)], axis=1)
    m = _from_rows("finite", (0,), rows, 1, {})
    seqs = np.array([[[1], [2], [0]], [[2], [3], [1]]])
    data = SequenceData(seqs, np.maximum.accumulate(seqs, axis=1))
    assert m.check(data).startswith("1 of 2 sequences meet a transition never observed")
    assert "sequence 1 step 1: state [2] on input [3]" in m.check(data)
    y = np.maximum.accumulate(seqs, axis=1)
    y[0, 2, 0] = 0
    assert m.check(SequenceData(seqs, y)).startswith(
        "1 of 2 sequences replay wrong, e.g. sequence 0 step 2"
    )
    assert m.check(SequenceData(seqs[:1], np.maximum.accumulate(seqs[:1], axis=1))) is None
