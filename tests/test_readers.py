"""Canonical forms of linear networks, states named by observables, dead state, pictures."""

import numpy as np

from mips.data import SequenceData
from mips.extract import extract
from mips.network import Architecture, TrainedNetwork
from mips.pictures import hidden_states_png, state_graph_dot
from mips.program import Formula, Program
from mips.regress.machine import regress
from mips.simplify import companion, reparametrise, simplify
from mips.verify import verify


def sum_last2_in_a_random_basis(seed: int = 0) -> tuple[TrainedNetwork, SequenceData]:
    """y_t = x_t + x_{t-1} as a shift register, seen through a random invertible basis change and
    with a bias in f that the readout compensates, as gradient descent leaves it."""
    c = np.array([0.3, -0.2])
    w = {
        "f.0.weight": np.vstack([np.eye(2, k=1), np.eye(1, 2)]),  # h' = (x, h0)
        "f.0.bias": c,
        "g.0.weight": np.ones((2, 1)),
        "g.0.bias": np.array([-2 * c[0] - c[1]]),  # cancels the bias's effect from t = 1 on
    }
    net = TrainedNetwork(Architecture(2), 1, 1, w)
    x = np.random.default_rng(seed).integers(0, 100, (400, 8, 1))
    y = x + np.concatenate([np.zeros((400, 1, 1), dtype=np.int64), x[:, :-1]], axis=1)
    m = np.random.default_rng(seed + 1).normal(size=(2, 2)) + 2 * np.eye(2)
    return reparametrise(net, m), SequenceData(x, y)


def test_companion_form_has_integer_weights_and_states():
    net, data = sum_last2_in_a_random_basis()
    assert net.is_exact(data)
    _, hidden = net.run(data.x)
    assert not np.allclose(hidden, np.rint(hidden))
    canonical = companion(net, data)
    assert canonical is not None and canonical.hidden == 2
    w = canonical.weights["f.0.weight"]
    assert np.array_equal(w, np.rint(w))
    _, hidden = canonical.run(data.x)
    assert np.array_equal(hidden, np.rint(hidden))
    assert canonical.is_exact(data)


def test_jordan_form_reads_a_double_prefix_sum_as_velocity_and_position():
    # The companion form of p_t = p_{t-1} + v_t, v_t = v_{t-1} + x_t is the second-order
    # recurrence s1' = 2 s1 - s0 + x; its Jordan form is a velocity and a running position.
    from mips.simplify import jordan

    w = {
        "f.0.weight": np.array([[0.0, 1.0], [-1.0, 2.0], [1.0, 0.0]]),
        "f.0.bias": np.zeros(2),
        "g.0.weight": np.array([[1.0], [2.0]]),
        "g.0.bias": np.zeros(1),
    }
    net = TrainedNetwork(Architecture(2), 1, 1, w)
    x = np.random.default_rng(0).integers(-10, 11, (300, 8, 1))
    data = SequenceData(x, np.cumsum(np.cumsum(x, axis=1), axis=1))
    assert net.is_exact(data)
    canonical = jordan(net, data)
    assert canonical is not None and canonical.is_exact(data)
    assert canonical.weights["f.0.weight"][:2].tolist() == [[1.0, 1.0], [0.0, 1.0]]
    _, hidden = canonical.run(data.x)
    assert np.array_equal(hidden, np.rint(hidden))
    assert canonical.weights["g.0.weight"].ravel().tolist() == [1.0, 1.0]


def test_companion_drops_directions_the_inputs_never_reach():
    w = {
        "f.0.weight": np.array([[1.0, 0, 0], [0, 0.5, 0], [0, 0, 1], [1, 0, 0]]),
        "f.0.bias": np.zeros(3),
        "g.0.weight": np.array([[1.0], [0.0], [0.0]]),
        "g.0.bias": np.zeros(1),
    }
    net = TrainedNetwork(Architecture(3), 1, 1, w)
    x = np.random.default_rng(0).integers(0, 10, (200, 6, 1))
    data = SequenceData(x, np.cumsum(x, axis=1))
    canonical = companion(net, data)
    assert canonical is not None and canonical.hidden == 1
    assert canonical.weights["f.0.weight"].tolist() == [[1.0], [1.0]]


def relu_net(f_layers, g_layers, hidden: int) -> TrainedNetwork:
    w = {}
    for name, layers in (("f", f_layers), ("g", g_layers)):
        for j, (weight, bias) in enumerate(layers):
            w[f"{name}.{j}.weight"] = np.array(weight, dtype=float)
            w[f"{name}.{j}.bias"] = np.array(bias, dtype=float)
    width = len(f_layers[0][1]) if len(f_layers) > 1 else 0
    return TrainedNetwork(Architecture(hidden, len(f_layers), width), 1, 1, w)


def running_max() -> tuple[TrainedNetwork, SequenceData]:
    # h' = relu(x - h) + relu(h) = max(h, x) for h, x >= 0; y = h.
    net = relu_net(
        [([[-1.0, 1.0], [1.0, 0.0]], [0.0, 0.0]), ([[1.0], [1.0]], [0.0])],
        [([[1.0]], [0.0])],
        hidden=1,
    )
    x = np.random.default_rng(0).integers(0, 10, (500, 8, 1))
    return net, SequenceData(x, np.maximum.accumulate(x, axis=1))


def test_states_named_by_their_outputs_give_a_formula():
    net, data = running_max()
    machines = extract(net, data)
    named = [m for m in machines if m.info.get("encoding") == "output"]
    assert named, [m.info for m in machines]
    program = regress(named[0])
    assert program.form == "formula" and len(program.state) == 1
    assert "max" in program.updates[0].source()
    from mips.program import emit_python

    assert verify(emit_python(program), program, named[0], data).verified


def test_a_network_whose_state_is_never_read_again_is_stateless():
    # h = relu(x) + relu(-x) = |x|, whatever h was: the output depends on the current input only.
    net = relu_net(
        [([[0.0, 0.0], [1.0, -1.0]], [0.0, 0.0]), ([[1.0], [1.0]], [0.5])],
        [([[1.0]], [-0.5])],
        hidden=1,
    )
    x = np.random.default_rng(0).integers(-100, 100, (300, 6, 1))
    data = SequenceData(x, np.abs(x))
    window = [m for m in extract(net, data) if m.info.get("encoding") == "window"]
    assert window and window[0].n_vars == 0
    assert regress(window[0]).outputs[0].source() == "abs(x)"


def test_dead_state_variables_are_removed():
    f = Formula
    p = Program(
        ("x",),
        ("a", "b"),
        (0, 0),
        (f("a_new", ("b",), "b", size=1), f("b_new", ("x",), "x", size=1)),
        (f("y", ("b", "x"), "b + x", size=3),),
    )
    q = p.without_dead_state()
    assert q.state == ("b",)
    seq = [[3], [5], [7]]
    assert q.run(seq) == p.run(seq) == [[3], [8], [12]]
    # A formula offered a variable it does not use keeps nothing alive, and loses the name.
    offered = Program(
        p.inputs, p.state, p.initial, p.updates, (f("y", ("a", "b", "x"), "b + x", size=3),)
    )
    r = offered.without_dead_state()
    assert r.state == ("b",) and r.outputs[0].features == ("b", "x")
    assert r.run(seq) == p.run(seq)


def test_pictures(tmp_path):
    net, data = running_max()
    machine = extract(simplify(net, data), data)[0]
    png = hidden_states_png(net, data, machine, tmp_path / "states.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot = state_graph_dot(machine)
    assert dot is not None and dot.startswith("digraph") and "->" in dot
    assert dot.count("doublecircle") == 1


def test_saturating_counter_is_read_as_a_weighted_count():
    # Majority of 0s and 1s, stored as tanh(B / 3) of the balance B = #0 - #1 plus noise: the
    # states of one balance drift with time and overlap their neighbours', so no lattice or
    # clustering over all steps reads it, but each step's clusters do.
    from mips.extract import _count_machines, _time_clusters, _Trajectory

    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1500, 10, 1))
    balance = np.concatenate([np.zeros((1500, 1)), np.cumsum(1 - 2 * x[..., 0], axis=1)], axis=1)
    t = np.arange(11)[None, :]
    hidden = np.tanh(balance / 3) + 0.004 * t * np.sign(balance) + rng.normal(0, 1e-4, t.shape)
    y = (balance[:, 1:] < 0).astype(np.int64)[..., None]
    traj = _Trajectory(x, y, hidden[..., None])
    machines = _count_machines(traj, _time_clusters(traj))
    assert len(machines) == 1
    m = machines[0]
    assert m.kind == "lattice" and m.info["encoding"] == "counts"
    assert np.abs(np.array(m.info["weights"])).tolist() == [[1], [1]]
    program = regress(m)
    assert program.form == "formula" and len(program.state) == 1
    longer = rng.integers(0, 2, (200, 60, 1))
    want = (np.cumsum(1 - 2 * longer[..., 0], axis=1) < 0).astype(int)
    assert [[o[0] for o in program.run(seq.tolist())] for seq in longer] == want.tolist()


def balanced(x: np.ndarray) -> np.ndarray:
    """1 where the prefix of 0 = "(" and 1 = ")" is balanced and never went negative."""
    b = np.cumsum(1 - 2 * x, axis=-1)
    return ((b == 0) & (np.minimum.accumulate(b, axis=-1) >= 0)).astype(np.int64)


def test_counter_with_a_sink_is_read_as_one_count():
    # Balanced parentheses: the balance B, tanh-coded while it has never gone negative, and one
    # noisy region, wherever B went, after. No plain count explains the dead region's states.
    from mips.extract import _count_machines, _time_clusters, _Trajectory

    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1500, 10, 1))
    b = np.concatenate([np.zeros((1500, 1)), np.cumsum(1 - 2 * x[..., 0], axis=1)], axis=1)
    dead = np.minimum.accumulate(b, axis=1) < 0
    hidden = np.where(dead, 3 + rng.uniform(0, 0.5, b.shape), np.tanh(b / 3))
    traj = _Trajectory(x, balanced(x[..., 0])[..., None], hidden[..., None])
    machines = _count_machines(traj, _time_clusters(traj))
    assert len(machines) == 1 and machines[0].info["sink"] == -1
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
    from mips.extract import _count_machines, _Trajectory

    x = np.random.default_rng(2).integers(0, 2, (800, 8, 1))
    b = np.concatenate([np.zeros((800, 1), dtype=np.int64), np.cumsum(1 - 2 * x[..., 0], 1)], 1)
    traj = _Trajectory(x, (b[:, 1:] < 0).astype(np.int64)[..., None], np.zeros((800, 9, 1)))
    behaviour = np.clip(b, -2, 2)
    assert _count_machines(traj, [behaviour]) == []
    machines = _count_machines(traj, [behaviour], apart=0.0, source="probed states")
    assert len(machines) == 1
    assert np.abs(machines[0].z_next - machines[0].z_prev).max() == 1
    assert machines[0].info["source"] == "probed states, named by weighted input counts"


def test_counter_reader_refuses_an_order_dependent_state():
    # Last input seen (a state no count of inputs determines) gives no counter.
    from mips.extract import _count_machines, _time_clusters, _Trajectory

    x = np.random.default_rng(1).integers(0, 2, (800, 8, 1))
    prev = np.concatenate([np.zeros((800, 1), dtype=np.int64), x[..., 0]], axis=1)
    traj = _Trajectory(x, prev[:, :-1, None], prev[..., None].astype(float))
    assert _count_machines(traj, _time_clusters(traj)) == []


class _RemainderNetwork:
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


def test_horizon_probes_read_a_machine_that_one_step_probes_cannot():
    from mips.extract import (
        ExtractConfig,
        _behaviour_classes,
        _finite_from_labels,
        _horizon_labels,
        _Trajectory,
    )

    net = _RemainderNetwork(0)
    x = np.random.default_rng(2).integers(0, 2, (600, 10, 1))
    h = [np.zeros((600, 28))]
    h[0][:, 0] = 1.0  # r = q = p = 0
    for t in range(10):
        h.append(net.step(h[-1], x[:, t]))
    y = np.stack([net.readout(v) for v in h[1:]], axis=1).astype(np.int64)
    traj = _Trajectory(x, y, np.stack(h, axis=1))
    one_step = _behaviour_classes(net, traj, ExtractConfig())
    assert _finite_from_labels(one_step, traj, ExtractConfig(), {}) is None
    labels = _horizon_labels(net, traj, ExtractConfig())
    assert labels is not None
    machine, _ = _finite_from_labels(labels, traj, ExtractConfig(), {"source": "test"})
    assert machine.info["complete"] and machine.info["n_states"] <= 10
    program = regress(machine)
    for seq in np.random.default_rng(3).integers(0, 2, (100, 40)).tolist():
        r, q, want = 0, 0, []
        for bit in seq:
            want.append(q)
            r, q = (2 * r + bit) % 5, (2 * r + bit) // 5
        assert [o[0] for o in program.run([[b] for b in seq])] == want
