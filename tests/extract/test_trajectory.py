"""Row utilities every reader shares: ids, agreement, determinism, where a machine breaks."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.extract.trajectory import (
    Trajectory,
    agreement,
    ambiguity,
    determines,
    machine_from_labels,
    row_ids,
)
from mips.machine import Reading


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.sampled_from([3, 10**6]))
def test_row_ids_are_equal_exactly_for_equal_rows(seed, width, span):
    rows = np.random.default_rng(seed).integers(-span, span, (200, width))
    rows[100:] = rows[:100]  # every row repeats
    ids = row_ids(rows)
    same = (rows[:, None, :] == rows[None, :, :]).all(axis=2)
    assert np.array_equal(ids[:, None] == ids[None, :], same)


def test_agreement_counts_rows_that_follow_their_keys_majority():
    keys = np.array([0, 0, 0, 1, 1])
    labels = np.array([0, 0, 1, 2, 2])
    assert agreement(keys, labels) == 4 / 5
    assert agreement(labels, keys) == 1.0


def test_keys_determine_values_when_equal_keys_give_equal_values():
    keys = np.array([[0], [0], [1]])
    assert determines(keys, np.array([[5], [5], [6]]))
    assert not determines(keys, np.array([[5], [6], [6]]))


def test_ambiguous_transition_is_located():
    x = np.array([[[1], [1]], [[1], [0]]])
    y = np.zeros((2, 2, 1), dtype=np.int64)
    traj = Trajectory(x, y, np.zeros((2, 3, 1)))
    labels = np.array([[0, 1, 2], [0, 1, 3]])  # state 1 on input 1 goes to 2, but 1 on 0 to 3
    prev, nxt = labels[:, :-1].reshape(-1, 1), labels[:, 1:].reshape(-1, 1)
    assert ambiguity(prev, traj, nxt, "s") == "no conflict found"
    x[1, 1, 0] = 1  # now state 1 on input 1 leads to 2 in sequence 0 and to 3 in sequence 1
    message = ambiguity(prev, traj, nxt, "s")
    assert message.startswith("s [1] on input [1] leads to s [2]")
    assert "(sequence 0, step 1)" in message and "(sequence 1, step 1)" in message


def test_within_a_tolerance_each_state_and_input_takes_its_most_frequent_output():
    """A count of ones whose output is the count, but one step in 40 answers otherwise (a
    network that learned a wrong label): refused exactly, read by majority within 5%."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (20, 2, 1))
    count = np.concatenate([np.zeros((20, 1, 1), np.int64), np.cumsum(x, axis=1)], axis=1)
    y = count[:, 1:].copy()
    y[3, 1, 0] += 5
    traj = Trajectory(x, y, np.zeros((20, 3, 1)))
    prev, nxt = count[:, :-1].reshape(-1, 1), count[:, 1:].reshape(-1, 1)
    reading = Reading("test", "test")
    assert machine_from_labels("lattice", prev, traj, nxt, reading) is None
    assert machine_from_labels("lattice", prev, traj, nxt, reading, tolerance=0.01) is None
    m = machine_from_labels("lattice", prev, traj, nxt, reading, tolerance=0.05)
    assert m is not None and np.array_equal(m.y, m.z_next)
