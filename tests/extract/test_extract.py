"""extract(): the readers in registry order, and why nothing read the states."""

import numpy as np
import pytest

from mips.data import SequenceData
from mips.extract import READERS, ExtractionError, Reader, extract
from mips.network import Architecture


def test_extraction_error_says_why(random_network):
    # Continuous states driven by 100 input symbols: no lattice, and too many symbols for a
    # finite machine; the error names both instead of a generic refusal.
    net = random_network(Architecture(2, hidden_depth=2, hidden_width=5), d_in=2, seed=3)
    x = np.random.default_rng(0).integers(0, 10, (200, 6, 2))
    y = np.rint(net.run(x.astype(float))[0]).astype(np.int64)
    with pytest.raises(ExtractionError) as error:
        extract(net, SequenceData(x, y))
    assert "no lattice of hidden states:" in str(error.value)
    assert "100 input symbols > 64" in str(error.value)


def test_a_network_wrong_on_every_sequence_is_refused(counter_with_offset):
    net, data = counter_with_offset
    y = data.y.copy()
    y[:, 0, 0] += 1
    with pytest.raises(ExtractionError, match="no machine read by majority .* replays the data"):
        extract(net, SequenceData(data.x, y))


def test_a_network_wrong_on_a_few_sequences_is_read_on_the_others(counter_with_offset):
    # A counter is unbounded: no finite majority reads it, but the sequences the network answers
    # right still hold it, and the machine read there keeps the network's answer, not the label.
    net, data = counter_with_offset
    y = data.y.copy()
    y[0, 2, 0] += 1
    machines = extract(net, SequenceData(data.x, y))
    share = f"{(data.n - 1) / data.n:.1%}"
    assert all(
        f"on the {share} of sequences the network answers right" in m.reading.source
        for m in machines
    )
    assert any(np.array_equal(m.run(data.x), data.y) for m in machines)


def test_readers_are_unique_and_named():
    names = [r.name for r in READERS]
    assert len(set(names)) == len(names)


def test_machines_come_in_registry_order(parity_network):
    net, data = parity_network
    machines = extract(net, data)
    readers = [m.reading.reader for m in machines]
    # Output-named states (the parity is the output) come before the numbered finite machine.
    assert readers.index("output") < readers.index("finite")
    assert all(np.array_equal(m.run(data.x), data.y) for m in machines)


def test_a_reader_sees_what_came_before(parity_network):
    net, data = parity_network
    seen = []

    def spy(ctx, found):
        seen.append([m.reading.reader for m in found])
        return []

    extract(net, data, readers=(*READERS[:3], Reader("spy", spy)))
    assert seen == [[m.reading.reader for m in extract(net, data, readers=READERS[:3])]]


def test_no_padding_step_is_read_as_a_transition(counter_network, running_sum):
    # A sequence's padding repeats its last input and state: read as data, that would be the
    # transition (s, x) -> s, contradicting s + x. Only real steps make rows.
    lengths = np.arange(len(running_sum)) % 6 + 1
    data = SequenceData(running_sum.x, running_sum.y, lengths=lengths)
    machines = extract(counter_network(), data)
    assert machines
    for m in machines:
        out, known = m.replay(running_sum.x)  # full sequences: what a program would meet
        assert known.any() and (out[known] == running_sum.y[known]).all()
        if m.kind == "lattice":
            assert known.all() and (m.z_next == m.z_prev + m.x).all()


def test_trajectory_rows_keep_real_steps_only():
    from mips.extract.trajectory import Trajectory

    x = np.arange(6).reshape(2, 3, 1)
    hidden = np.arange(8, dtype=float).reshape(2, 4, 1)
    traj = Trajectory.padded(x, x, hidden, np.array([1, 3]))
    assert traj.x[0, :, 0].tolist() == [0, 0, 0] and traj.hidden[0, :, 0].tolist() == [0, 1, 1, 1]
    assert traj.rows(traj.x.reshape(-1, 1))[:, 0].tolist() == [0, 3, 4, 5]
    assert traj.state_rows(traj.hidden.reshape(-1, 1))[:, 0].tolist() == [0, 1, 4, 5, 6, 7]
