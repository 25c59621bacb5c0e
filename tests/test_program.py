"""Program IR: formulas hold trees or tables, the IR runs itself, dead state is dropped."""

import numpy as np
import pytest

from mips.program import Formula, Program
from mips.regress.expr import Expr, const, var


def parity_program() -> Program:
    # s' = s ^ x, y = s'
    upd = Formula("s_new", ("s", "x"), expr=Expr("xor", (var(0), var(1))))
    out = Formula("y", ("s", "x", "s_new"), expr=var(2))
    return Program(inputs=("x",), state=("s",), initial=(0,), updates=(upd,), outputs=(out,))


def test_formula_needs_exactly_one_body():
    with pytest.raises(ValueError, match="exactly one"):
        Formula("y", ("x",))
    with pytest.raises(ValueError, match="exactly one"):
        Formula("y", ("x",), expr=var(0), table=(((0,), 1),))


def test_formula_checks_its_body_against_its_features():
    with pytest.raises(ValueError, match="beyond its features"):
        Formula("y", ("x",), expr=Expr("add", (var(0), var(1))))
    with pytest.raises(ValueError, match="one value per feature"):
        Formula("y", ("x", "z"), table=(((0,), 1),))


def test_size_defaults_to_tree_nodes_or_table_entries_and_may_be_given():
    assert Formula("y", ("x",), expr=Expr("neg", (var(0),))).size == 2
    assert Formula("y", ("x",), table=(((0,), 3), ((1,), 7))).size == 2
    assert Formula("y", ("x",), expr=Expr("not", (var(0),)), size=3).size == 3


def test_reads_comes_from_the_tree():
    f = Formula("y", ("a", "b", "c"), expr=Expr("mul", (var(2), const(3))))
    assert f.reads() == {"c"}
    assert Formula("y", ("a", "b"), table=(((0, 0), 1),)).reads() == {"a", "b"}


def test_the_ir_runs_itself():
    x = np.random.default_rng(0).integers(0, 2, (20, 15, 1))
    want = np.cumsum(x, axis=1) % 2
    program = parity_program()
    for seq, y in zip(x.tolist(), want.tolist(), strict=True):
        assert program.run(seq) == y
    assert program.form == "formula" and program.size() == 4


def test_a_table_runs_by_lookup_and_fails_on_an_unseen_row():
    f = Formula("y", ("x",), table=(((0,), 3), ((1,), 7)))
    program = Program(inputs=("x",), state=(), initial=(), updates=(), outputs=(f,))
    assert program.form == "table" and program.tables() == {"TABLE_Y": {(0,): 3, (1,): 7}}
    assert program.run([[1], [0]]) == [[7], [3]]
    with pytest.raises(KeyError):
        program.run([[2]])


def test_unknown_names_and_mismatched_state_are_refused():
    with pytest.raises(ValueError, match="unknown names"):
        Program(
            inputs=("x",),
            state=(),
            initial=(),
            updates=(),
            outputs=(Formula("y", ("z",), expr=var(0)),),
        )
    with pytest.raises(ValueError, match="one entry per state"):
        Program(inputs=("x",), state=("s",), initial=(), updates=(), outputs=())


def test_dead_state_is_removed_and_the_trees_follow_their_columns():
    # a is a counter nobody reads; b is the previous input; y = b + x.
    f = Formula
    program = Program(
        inputs=("x",),
        state=("a", "b"),
        initial=(0, 0),
        updates=(
            f("a_new", ("a", "b", "x"), expr=Expr("add", (var(0), const(1)))),
            f("b_new", ("a", "b", "x"), expr=var(2)),
        ),
        outputs=(f("y", ("a", "b", "x", "a_new", "b_new"), expr=Expr("add", (var(1), var(2)))),),
    )
    trimmed = program.without_dead_state()
    assert trimmed.state == ("b",) and trimmed.initial == (0,)
    assert trimmed.updates[0].features == ("b", "x")
    assert trimmed.outputs[0].features == ("b", "x", "b_new")
    assert trimmed.outputs[0].expr.render(trimmed.outputs[0].features) == "b + x"
    seqs = np.random.default_rng(1).integers(-5, 6, (10, 7, 1)).tolist()
    assert all(trimmed.run(s) == program.run(s) for s in seqs)
    assert trimmed.size() == program.size() - 3


def test_a_state_read_through_another_update_stays():
    f = Formula
    program = Program(
        inputs=("x",),
        state=("a", "b"),
        initial=(0, 0),
        updates=(f("a_new", ("a", "x"), expr=var(1)), f("b_new", ("a",), expr=var(0))),
        outputs=(f("y", ("b",), expr=var(0)),),
    )
    assert program.without_dead_state().state == ("a", "b")


def test_a_batch_runs_as_each_sequence_alone_and_a_missing_row_fails_only_its_sequence():
    # A counter mod 3 by table (rows for inputs 0 and 1 only) feeding a parity formula.
    table = tuple(((s, x), (s + x) % 3) for s in range(3) for x in range(2))
    upd = Formula("s_new", ("s", "x"), table=table)
    out = Formula("y", ("s", "x", "s_new"), expr=Expr("xor", (var(2), var(1))))
    program = Program(inputs=("x",), state=("s",), initial=(0,), updates=(upd,), outputs=(out,))
    x = np.random.default_rng(1).integers(0, 2, (30, 9, 1))
    x[3, 4] = 2  # a row the table lacks
    x[5, 8] = 2  # ...but past this sequence's length
    lengths = np.full(30, 9)
    lengths[5] = 8
    out_all, answered = program.run_batch(x, lengths)
    assert answered.tolist() == [i != 3 for i in range(30)]
    for i, (seq, k) in enumerate(zip(x.tolist(), lengths, strict=True)):
        if i == 3:
            with pytest.raises(KeyError):
                program.run(seq[:k])
        else:
            assert out_all[i, :k].tolist() == program.run(seq[:k])
