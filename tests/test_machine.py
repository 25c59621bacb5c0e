"""The StateMachine artifact and its Reading: invariants, replay, JSON, and why it fails."""

import json

import numpy as np
import pytest

from mips.data import SequenceData
from mips.extract.rules import from_rows
from mips.machine import Reading, StateMachine
from mips.naming import (
    Counts,
    CountsAndOutput,
    History,
    LatticeCoordinates,
    Numbered,
    Output,
    Outputs,
    PhaseOutput,
    SeenSets,
    Window,
    WindowOutput,
)

TEST = Reading("test", "test")


def max_machine() -> StateMachine:
    """max(z, x) over inputs 0..2 only: neither an affine map nor complete for input 3."""
    z, x = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    z, x = z.reshape(-1, 1), x.reshape(-1, 1)
    rows = np.concatenate([z, x, np.maximum(z, x), np.maximum(z, x)], axis=1)
    return from_rows("finite", (0,), rows, 1, TEST)


def test_check_says_why_a_machine_does_not_replay():
    m = max_machine()
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


def test_run_raises_on_an_unknown_transition():
    with pytest.raises(KeyError, match="never observed"):
        max_machine().run(np.array([[[3]]]))


def test_json_round_trip_keeps_table_rules_and_reading():
    reading = Reading("counts", "clusters", naming=Counts(symbols=[[0], [1]], weights=[[1], [-1]]))
    z = np.arange(6)[:, None]
    x = np.ones((6, 1), dtype=np.int64)
    m = StateMachine(
        kind="lattice",
        initial=(0,),
        z_prev=z,
        x=x,
        z_next=z + 1,
        y=z + 1,
        reading=reading,
        next_rule=np.array([[1], [1], [0]]),
        out_rule=None,
    )
    back = StateMachine.from_dict(m.to_dict())
    assert back.reading == m.reading and back.initial == m.initial
    assert np.array_equal(back.z_next, m.z_next) and np.array_equal(back.next_rule, m.next_rule)


def test_invariants_are_checked():
    z = np.zeros((2, 1), dtype=np.int64)
    with pytest.raises(ValueError, match="state width"):
        StateMachine(kind="finite", initial=(0, 0), z_prev=z, x=z, z_next=z, y=z, reading=TEST)
    with pytest.raises(ValueError, match="kind"):
        StateMachine(kind="table", initial=(0,), z_prev=z, x=z, z_next=z, y=z, reading=TEST)
    with pytest.raises(ValueError, match="encoding"):
        Reading.from_dict({"reader": "x", "source": "y", "encoding": "bits"})
    with pytest.raises(ValueError, match="naming"):
        Reading("x", "y", naming="window")


def test_reading_describes_how_states_are_named():
    assert Reading("w", "clusters", naming=Window(2)).describe() == (
        "clusters, named by the last 2 inputs"
    )
    assert Reading("f", "probed states").describe() == "probed states"


NAMINGS = [
    Numbered(0.2),
    LatticeCoordinates(np.array([[0.7, 0.1], [0.0, -1.25]])),
    Window(2, probed=5),
    Output(),
    Outputs(2),
    WindowOutput(1),
    PhaseOutput(2),
    Counts(symbols=[[0], [1]], weights=[[1], [-1]], sink=-1),
    CountsAndOutput(symbols=[[0], [1]], weights=[[0], [1]], resets=[0]),
    SeenSets(symbols=[[0], [1], [2]], weights=np.eye(3, dtype=int)),
    History(features=("the previous input", "the lowest input so far")),
]


@pytest.mark.parametrize("naming", NAMINGS, ids=lambda n: n.encoding)
def test_every_encoding_writes_one_flat_record_and_reads_it_back(naming):
    reading = Reading("r", "s", naming=naming, n_states=3)
    record = reading.to_dict()
    own = ["features"] if naming.encoding == "history" else []
    assert list(record) == [
        "reader", "source", "encoding", "n_states", "complete", "radius", "window", "basis",
        "symbols", "weights", "sink", "probed", "period", "history", "resets", *own,
    ]  # fmt: skip
    assert record["encoding"] == naming.encoding
    assert Reading.from_dict(json.loads(json.dumps(record))) == reading


def test_a_window_record_is_written_as_before():
    record = Reading("window", "clusters", naming=Window(2, probed=5), n_states=4).to_dict()
    assert json.dumps(record) == (
        '{"reader": "window", "source": "clusters", "encoding": "window", "n_states": 4, '
        '"complete": null, "radius": null, "window": 2, "basis": [], "symbols": [], '
        '"weights": [], "sink": null, "probed": 5, "period": null, "history": null, "resets": []}'
    )


def test_trace_gives_the_state_after_each_step_and_stops_where_replay_stops():
    m = max_machine()
    seqs = np.array([[[1], [0], [2], [1]], [[0], [3], [1], [2]]])
    states, out, known = m.trace(seqs)
    assert states[0, :, 0].tolist() == [1, 1, 2, 2] and known.tolist() == [True, False]
    assert states[1, :, 0].tolist() == [0, 0, 0, 0]  # stopped at input 3, never observed
    replayed, replay_known = m.replay(seqs)
    assert np.array_equal(out, replayed) and np.array_equal(known, replay_known)


def test_row_counts_count_each_row_taken_within_each_sequence_up_to_an_unknown_one():
    m = max_machine()
    seqs = np.array([[[1], [0], [2], [1]], [[0], [3], [1], [2]], [[2], [2], [0], [0]]])
    data = SequenceData(seqs, np.maximum.accumulate(seqs, axis=1), lengths=np.array([4, 4, 2]))
    counts = dict(zip(m.table(), m.row_counts(data).tolist(), strict=True))
    # (state, input) -> times taken: sequence 1 stops at input 3; sequence 2 is 2 steps long.
    taken = {((0,), (1,)): 1, ((1,), (0,)): 1, ((1,), (2,)): 1, ((2,), (1,)): 1}
    taken |= {((0,), (0,)): 1, ((0,), (2,)): 1, ((2,), (2,)): 1}
    assert {k: v for k, v in counts.items() if v} == taken
    assert sum(counts.values()) == 7
