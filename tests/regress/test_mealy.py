"""A finite machine over words as a Mealy table: named states, the unseen policy, DOT, checks."""

import re

import numpy as np
import pytest

from mips.data import SequenceData, Vocabulary
from mips.emit import emit_python
from mips.machine import Reading, StateMachine
from mips.pictures import mealy_dot
from mips.regress.mealy import mealy_program
from mips.verify import load_program, verify

IN = ("CLOSE", "OPEN", "SEND")
OUT = ("ERR", "OK")
# idle --OPEN/OK--> open --SEND/OK--> open --CLOSE/OK--> idle; anything else ERR, same state.
# (idle, CLOSE) never appears in the table: the logs never showed it.
ROWS = [
    (0, 1, 1, 1),
    (0, 2, 0, 0),
    (1, 0, 0, 1),
    (1, 1, 1, 0),
    (1, 2, 1, 1),
]


def machine(rows: list[tuple[int, int, int, int]] = ROWS, n_states: int = 2) -> StateMachine:
    """The finite machine of ``rows`` (state, input, next state, output) from state 0."""
    table = np.array(rows)
    reading = Reading("finite", "given", n_states=n_states, complete=False)
    return StateMachine(
        kind="finite",
        initial=(0,),
        z_prev=table[:, :1],
        x=table[:, 1:2],
        z_next=table[:, 2:3],
        y=table[:, 3:4],
        reading=reading,
    )


def program(unseen: str = "error"):
    return mealy_program(machine(), (IN,), (OUT,), unseen)


def test_states_are_named_by_the_shortest_words_that_reach_them():
    assert program().state_names == ("start", "after_OPEN")


def test_states_reached_by_words_that_join_alike_get_distinct_names():
    # SYN then ACK, and SYN_ACK, both spell after_SYN_ACK.
    chain = machine([(0, 0, 1, 0), (0, 2, 2, 0), (1, 1, 3, 0), (2, 0, 0, 0), (3, 0, 0, 0)], 4)
    names = mealy_program(chain, (("SYN", "ACK", "SYN_ACK"),), (("OK",),), "error").state_names
    assert sorted(names) == ["after_SYN", "after_SYN_ACK", "after_SYN_ACK_2", "start"]


def test_the_source_is_a_readable_table_of_words_and_runs_like_the_ir():
    ir = program()
    source = emit_python(ir)
    assert "('after_OPEN', 'CLOSE'): ('start', 'OK')," in source
    run = load_program(source)
    seq = [["OPEN"], ["SEND"], ["OPEN"], ["CLOSE"], ["SEND"]]
    assert run(seq) == [["OK"], ["OK"], ["ERR"], ["OK"], ["ERR"]]
    codes = [[IN.index(w[0])] for w in seq]
    assert ir.symbols_out(ir.run(codes)) == run(seq)


def test_an_unseen_step_raises_by_default_and_follows_the_declared_policy_otherwise():
    with pytest.raises(LookupError, match="never seen in the logs"):
        load_program(emit_python(program()))([["CLOSE"]])
    kept = load_program(emit_python(program("keep")))
    assert kept([["CLOSE"], ["OPEN"]]) == [[None], ["OK"]]
    valued = load_program(emit_python(program("NIL")))
    assert valued([["CLOSE"], ["OPEN"]]) == [["NIL"], ["OK"]]


def test_the_dot_names_states_and_carries_the_words_as_automata_tools_read_them():
    dot = mealy_dot(program())
    nodes = dict(re.findall(r'^(s\d+) \[label="([^"]+)"\];$', dot, re.M))
    assert nodes == {"s0": "start", "s1": "after_OPEN"}
    edges = re.findall(r'^(s\d+) -> (s\d+)  \[label="(\w+)/(\w+)"\];$', dot, re.M)
    table = {(nodes[a], i): (nodes[b], o) for a, b, i, o in edges}
    assert len(table) == len(ROWS)
    assert table[("after_OPEN", "CLOSE")] == ("start", "OK")
    assert "__start0 -> s0" in dot


def test_aalpy_loads_the_dot_back_with_the_same_outputs(tmp_path):
    loader = pytest.importorskip("aalpy.utils")
    path = tmp_path / "machine.dot"
    path.write_text(mealy_dot(program()))
    learned = loader.load_automaton_from_file(str(path), automaton_type="mealy")
    assert learned.execute_sequence(learned.initial_state, ["OPEN", "SEND", "CLOSE"]) == [
        "OK",
        "OK",
        "OK",
    ]


def heldout(rows: list[list[tuple[int, int]]]) -> SequenceData:
    """Traces of (input code, output code) steps, as word data."""
    longest = max(map(len, rows))
    x = np.zeros((len(rows), longest, 1), dtype=np.int64)
    y = np.zeros_like(x)
    for i, r in enumerate(rows):
        x[i, : len(r), 0] = [a for a, _ in r]
        y[i, : len(r), 0] = [b for _, b in r]
    lengths = np.array([len(r) for r in rows])
    return SequenceData(
        x, y, lengths=lengths, x_vocab=(Vocabulary(IN),), y_vocab=(Vocabulary(OUT),)
    )


def test_held_out_traces_are_judged_up_to_their_first_unseen_step():
    ir = program()
    # OPEN CLOSE CLOSE: the second CLOSE meets (idle, CLOSE), which the table lacks.
    data = heldout([[(1, 1), (0, 1), (0, 0)], [(1, 1), (2, 1)]])
    report = verify(emit_python(ir), ir, machine(), data)
    assert report.verified
    assert (report.heldout_unseen, report.judged_steps, report.heldout_steps) == (1, 4, 5)
    wrong = heldout([[(1, 1), (0, 0), (0, 0)], [(1, 1), (2, 1)]])  # CLOSE answered ERR: wrong
    assert not verify(emit_python(ir), ir, machine(), wrong).verified


def test_a_table_that_judges_under_half_the_held_out_steps_is_not_verified():
    ir = program()
    data = heldout([[(0, 0), (1, 1), (2, 1)], [(0, 0), (2, 0)]])  # cut at their first step
    report = verify(emit_python(ir), ir, machine(), data)
    assert report.judged_steps == 0
    assert not report.verified


def test_each_unseen_step_comes_with_the_shortest_trace_that_would_test_it():
    from mips.regress.mealy import UnseenStep, unseen_steps

    assert unseen_steps(program()) == [UnseenStep("start", ("CLOSE",), (("CLOSE",),))]
    rows = [r for r in ROWS if r[:2] != (1, 2)]  # and (after_OPEN, SEND)
    m = machine()
    lacking = StateMachine(
        kind="finite",
        initial=(0,),
        z_prev=np.array(rows)[:, :1],
        x=np.array(rows)[:, 1:2],
        z_next=np.array(rows)[:, 2:3],
        y=np.array(rows)[:, 3:4],
        reading=m.reading,
    )
    found = unseen_steps(mealy_program(lacking, (IN,), (OUT,)))
    assert found[-1] == UnseenStep("after_OPEN", ("SEND",), (("OPEN",), ("SEND",)))
