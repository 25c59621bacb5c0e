"""Simplify: reparametrisations keep the function, canonical forms of integer linear counters,
and simplify() keeps an exact network exact."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mips.data import SequenceData
from mips.network import Architecture, TrainedNetwork
from mips.simplify import companion, jordan, reparametrise, simplify


def simplified(result) -> tuple[TrainedNetwork, tuple[str, ...]]:
    """simplify()'s network and the steps it reports."""
    return result.network, tuple(result.steps)


def triple_sum_companion() -> TrainedNetwork:
    """y_t = sum_{s<=t} sum_{r<=s} sum_{q<=r} x_q as the integer shift recurrence
    s2' = s0 - 3 s1 + 3 s2 + x (the characteristic polynomial (z - 1)^3), y = s2."""
    w = np.array([[0, 0, 1], [1, 0, -3], [0, 1, 3]], dtype=float)  # h' = h W (rows read h)
    weights = {
        "f.0.weight": np.vstack([w, [[0.0, 0.0, 1.0]]]),
        "f.0.bias": np.zeros(3),
        "g.0.weight": np.array([[0.0], [0.0], [1.0]]),
        "g.0.bias": np.zeros(1),
    }
    return TrainedNetwork(arch=Architecture(3, hidden_bias=False), d_in=1, d_out=1, weights=weights)


@pytest.fixture(scope="module")
def triple_sum() -> SequenceData:
    x = np.random.default_rng(0).integers(-3, 4, (300, 8, 1))
    return SequenceData(x, np.cumsum(np.cumsum(np.cumsum(x, axis=1), axis=1), axis=1))


@st.composite
def architectures(draw: st.DrawFn) -> Architecture:
    f_depth, g_depth = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return Architecture(
        draw(st.integers(1, 5)),
        hidden_depth=f_depth,
        hidden_width=draw(st.integers(1, 6)),
        output_depth=g_depth,
        output_width=draw(st.integers(1, 6)),
    )


@settings(max_examples=60, deadline=None)
@given(arch=architectures(), seed=st.integers(0, 2**32 - 1))
def test_reparametrise_keeps_the_outputs_and_maps_the_states(
    random_network, arch: Architecture, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    net = random_network(arch, d_in=2, d_out=2, seed=seed)
    m = rng.normal(size=(arch.hidden, arch.hidden))
    assume(np.linalg.cond(m) < 1e3)
    x = rng.integers(-9, 10, (4, 6, 2))
    y, hidden = net.run(x)
    y2, hidden2 = reparametrise(net, m).run(x)
    scale = max(1.0, float(np.abs(y).max()))
    np.testing.assert_allclose(y2, y, rtol=1e-7, atol=1e-7 * scale)
    np.testing.assert_allclose(hidden2, hidden @ m, rtol=1e-7, atol=1e-7 * scale)


def test_companion_turns_a_counter_in_a_random_basis_into_integers(
    running_sum, counter_network
) -> None:
    net = reparametrise(counter_network(), np.array([[-2.7]]))
    assert net.is_exact(running_sum)
    assert not np.array_equal(net.run(running_sum.x)[1], running_sum.y.astype(float))
    canonical = companion(net, running_sum)
    assert canonical is not None and canonical.hidden == 1
    assert canonical.weights["f.0.weight"].ravel().tolist() == [1.0, 1.0]
    _, hidden = canonical.run(running_sum.x)
    assert np.array_equal(hidden, np.rint(hidden))
    assert canonical.is_exact(running_sum)


def test_companion_declines_a_deeper_transition(running_sum, random_network) -> None:
    assert (
        companion(random_network(Architecture(1, hidden_depth=2, hidden_width=3)), running_sum)
        is None
    )


def test_jordan_reads_a_triple_sum_as_one_chain(triple_sum) -> None:
    net = triple_sum_companion()
    assert net.is_exact(triple_sum)
    canonical = jordan(net, triple_sum)
    assert canonical is not None and canonical.is_exact(triple_sum)
    assert canonical.weights["f.0.weight"][:3].tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]
    _, hidden = canonical.run(triple_sum.x)
    assert np.array_equal(hidden, np.rint(hidden))


def test_jordan_declines_what_it_cannot_improve(running_sum, counter_network) -> None:
    # Already in Jordan form (no smaller weights to gain), not integer, complex eigenvalues.
    assert jordan(counter_network(), running_sum) is None
    half = counter_network().replace(
        {**counter_network().weights, "f.0.weight": np.array([[0.5], [1.0]])}
    )
    assert jordan(half, running_sum) is None
    rotation = TrainedNetwork(
        arch=Architecture(2),
        d_in=1,
        d_out=1,
        weights={
            "f.0.weight": np.array([[0.0, 1.0], [-1.0, 0.0], [1.0, 0.0]]),
            "f.0.bias": np.zeros(2),
            "g.0.weight": np.array([[1.0], [0.0]]),
            "g.0.bias": np.zeros(1),
        },
    )
    assert jordan(rotation, running_sum) is None


def test_simplify_makes_a_counter_in_a_random_basis_integer_and_keeps_it_exact(
    triple_sum,
) -> None:
    m = np.random.default_rng(1).normal(size=(3, 3)) + 2 * np.eye(3)
    net = reparametrise(triple_sum_companion(), m)
    assert net.is_exact(triple_sum)
    result, steps = simplified(simplify(net, triple_sum))
    assert result.is_exact(triple_sum)
    assert result.hidden == 3
    w = result.weights["f.0.weight"]
    assert np.array_equal(w, np.rint(w))
    _, hidden = result.run(triple_sum.x)
    assert np.array_equal(hidden, np.rint(hidden))
    assert steps and all(isinstance(s, str) for s in steps)


def test_simplify_prunes_negligible_weights_of_a_relu_network(running_sum) -> None:
    w = {
        "f.0.weight": np.array([[1.0, 1.0, 1e-4], [1.0, 1.0, -1e-4]]),
        "f.0.bias": np.array([0.0, 0.0, 0.0]),
        "f.1.weight": np.array([[0.5], [0.5], [2e-4]]),
        "f.1.bias": np.array([1e-4]),
        "g.0.weight": np.array([[1.0]]),
        "g.0.bias": np.array([-1e-4]),
    }
    net = TrainedNetwork(
        arch=Architecture(1, hidden_depth=2, hidden_width=3), d_in=1, d_out=1, weights=w
    )
    assert net.is_exact(running_sum)
    result, steps = simplified(simplify(net, running_sum))
    assert result.is_exact(running_sum)
    np.testing.assert_allclose(result.run(running_sum.x)[0], running_sum.y, atol=1e-9)
    assert result.weights["f.0.weight"][:, 2].tolist() == [0.0, 0.0]
    assert result.weights["f.1.weight"][2, 0] == 0.0
    assert steps


def test_simplify_leaves_an_inexact_network_alone(running_sum, counter_network) -> None:
    net = counter_network(0.3)
    result, steps = simplified(simplify(net, running_sum))
    assert not steps
    for k, v in net.weights.items():
        np.testing.assert_array_equal(result.weights[k], v)


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
    net = TrainedNetwork(arch=Architecture(2), d_in=1, d_out=1, weights=w)
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
    w = {
        "f.0.weight": np.array([[0.0, 1.0], [-1.0, 2.0], [1.0, 0.0]]),
        "f.0.bias": np.zeros(2),
        "g.0.weight": np.array([[1.0], [2.0]]),
        "g.0.bias": np.zeros(1),
    }
    net = TrainedNetwork(arch=Architecture(2), d_in=1, d_out=1, weights=w)
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
    net = TrainedNetwork(arch=Architecture(3), d_in=1, d_out=1, weights=w)
    x = np.random.default_rng(0).integers(0, 10, (200, 6, 1))
    data = SequenceData(x, np.cumsum(x, axis=1))
    canonical = companion(net, data)
    assert canonical is not None and canonical.hidden == 1
    assert canonical.weights["f.0.weight"].tolist() == [[1.0], [1.0]]
