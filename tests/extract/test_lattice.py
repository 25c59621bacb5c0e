"""The lattice reader: LLL round trips, exact initial states, many variables."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.data import SequenceData
from mips.extract import extract
from mips.extract.lattice import find_lattice, fit_lattice
from mips.extract.trajectory import Refusal
from mips.network import Architecture, TrainedNetwork
from mips.simplify import simplify


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
    assert found.basis.shape[0] == rank
    np.testing.assert_allclose(found.coords @ found.basis, points, atol=1e-5)


def test_fit_lattice_says_why_it_fails():
    # A state at 1.235 steps: no fraction with a denominator up to 12 is near enough.
    points = np.array([[0.0], [1.0], [1.235], [2.0]])
    assert "no fraction with denominator <= 12" in fit_lattice(points, 1, 0, 100_000).why
    wide = np.random.default_rng(0).normal(size=(50, 3))
    assert fit_lattice(wide, 2, 0, 100_000) == Refusal("the states span more than 2 directions")
    assert find_lattice(wide, 2) is None


def test_initial_state_is_exact_with_an_offset(counter_with_offset):
    net, data = counter_with_offset
    lattice = [m for m in extract(net, data) if m.kind == "lattice"][0]
    assert lattice.initial == (0,)
    assert lattice.reading.encoding == "lattice" and len(lattice.reading.naming.basis) == 1
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
    net = TrainedNetwork(arch=Architecture(h, hidden_bias=False), d_in=1, d_out=1, weights=w)
    x = np.random.default_rng(0).integers(0, 50, (500, 12, 1))
    data = SequenceData(x, net.predict(x))
    lattice = [m for m in extract(simplify(net, data).network, data) if m.kind == "lattice"]
    assert lattice and lattice[0].n_vars == 6


def test_affine_rule_replays_transitions_the_table_never_saw(counter_with_offset):
    net, data = counter_with_offset
    lattice = [m for m in extract(net, data) if m.kind == "lattice"][0]
    # Inputs 0..4 over 6 steps in the table; replay inputs up to 20 over 30 steps.
    x = np.random.default_rng(1).integers(0, 21, (50, 30, 1))
    out, known = lattice.replay(x)
    assert known.all()
    assert np.array_equal(out, np.cumsum(x, axis=1) + 2 * np.arange(1, 31)[None, :, None])
