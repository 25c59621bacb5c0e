"""Emitted source: a second, independent rendering of the IR; the two agree, and verification
catches a program (or a source) that is wrong."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.data import SequenceData
from mips.emit import emit_python, formula_source
from mips.machine import Reading, StateMachine
from mips.program import Formula, Program
from mips.regress import regress
from mips.regress.expr import Expr, const, var
from mips.regress.operators import OPERATORS
from mips.verify import load_program, verify

PARITY_SOURCE = '''"""Program synthesized by mips from input/output sequences.

Running parity.

program(seq): seq is a list of steps, each a list of 1 int(s); returns one list of 1 int(s) per step.
"""


def program(seq):
    s = 0
    out = []
    for x, in seq:
        s_new = s ^ x
        y = s_new
        out.append([y])
        s = s_new
    return out
'''


def parity_machine() -> StateMachine:
    # Running parity of a bit stream: state s, s' = s ^ x, y = s'.
    a = np.array([(s, x, s ^ x, s ^ x) for s in (0, 1) for x in (0, 1)])
    reading = Reading("test", "test", n_states=2)
    return StateMachine(
        kind="finite",
        initial=(0,),
        z_prev=a[:, :1],
        x=a[:, 1:2],
        z_next=a[:, 2:3],
        y=a[:, 3:],
        reading=reading,
    )


def parity_data(n: int = 200, length: int = 12) -> SequenceData:
    x = np.random.default_rng(0).integers(0, 2, (n, length, 1))
    return SequenceData(x, np.cumsum(x, axis=1) % 2)


def test_the_source_of_a_regressed_program_is_exactly_as_expected():
    assert emit_python(regress(parity_machine()), header="Running parity.") == PARITY_SOURCE


def test_a_table_is_emitted_as_a_dict_and_looked_up():
    f = Formula("y", ("x",), table=(((1,), 7), ((0,), 3)))
    program = Program(inputs=("x",), state=(), initial=(), updates=(), outputs=(f,))
    source = emit_python(program)
    assert "TABLE_Y = {\n    (0,): 3,\n    (1,): 7,\n}" in source
    assert formula_source(f) == "TABLE_Y[(x,)]"
    assert load_program(source)([[1], [0]]) == [[7], [3]] == program.run([[1], [0]])


def trees(n_vars: int, depth: int) -> st.SearchStrategy[Expr]:
    """Random trees over the whole operator registry, operand kinds respected."""
    leaf = st.one_of(
        st.builds(var, st.integers(0, n_vars - 1)), st.builds(const, st.integers(-5, 5))
    )
    if depth == 0:
        return leaf
    sub = trees(n_vars, depth - 1)
    predicates = st.sampled_from([n for n, op in OPERATORS.items() if op.predicate])
    kinds = {
        "any": sub,
        "divisor": st.builds(const, st.integers(2, 7)),
        "predicate": st.builds(lambda p, a, b: Expr(p, (a, b)), predicates, sub, sub),
    }

    def node(name: str) -> st.SearchStrategy[Expr]:
        operands = st.tuples(*(kinds[k] for k in OPERATORS[name].operands))
        return operands.map(lambda args: Expr(name, args))

    return st.one_of(leaf, st.sampled_from(sorted(OPERATORS)).flatmap(node))


@st.composite
def programs(draw) -> Program:
    """Two inputs, two state variables kept in [0, m) (so int64 and Python ints agree), an output."""
    inputs, state = ("x0", "x1"), ("s0", "s1")
    update_features = (*state, *inputs)
    updates = []
    for s in state:
        m = draw(st.integers(2, 50))
        body = Expr("mod", (draw(trees(len(update_features), 2)), const(m)))
        updates.append(Formula(f"{s}_new", update_features, expr=body))
    out_features = (*update_features, "s0_new", "s1_new")
    output = Formula("y", out_features, expr=draw(trees(len(out_features), 3)))
    initial = tuple(draw(st.integers(0, 1)) for _ in state)
    return Program(
        inputs=inputs, state=state, initial=initial, updates=tuple(updates), outputs=(output,)
    )


@settings(max_examples=150, deadline=None)
@given(programs(), st.lists(st.lists(st.integers(-9, 9), min_size=2, max_size=2), max_size=8))
def test_emitted_source_and_the_ir_agree_on_random_programs_and_inputs(program, seq):
    fn = load_program(emit_python(program))
    assert fn(seq) == program.run(seq)


def test_emitted_code_equals_the_ir_at_any_length():
    program = regress(parity_machine())
    fn = load_program(emit_python(program))
    for seq in parity_data(50, 37).x.tolist():
        assert fn(seq) == program.run(seq)


def test_regressed_program_is_a_formula_and_verifies():
    program = regress(parity_machine())
    assert program.form == "formula"
    report = verify(emit_python(program), program, parity_machine(), parity_data())
    assert report.verified
    assert report.exhaustive_length >= 10 and report.exhaustive_wrong == 0


def wrong_program() -> Program:
    # Correct on short inputs, wrong once a 1 has been seen twice: s' = max(s, x) (an OR).
    upd = Formula("s_new", ("s", "x"), expr=Expr("max", (var(0), var(1))))
    out = Formula("y", ("s", "x", "s_new"), expr=var(2))
    return Program(inputs=("x",), state=("s",), initial=(0,), updates=(upd,), outputs=(out,))


def test_a_wrong_tree_is_never_verified():
    program = wrong_program()
    report = verify(emit_python(program), program, parity_machine(), parity_data())
    assert not report.verified
    assert report.heldout_wrong > 0 and report.exhaustive_wrong > 0
    assert report.counterexample


def test_an_ir_disagreeing_with_its_source_is_caught():
    # The right source against a wrong tree: only the IR comparison can tell.
    source = emit_python(regress(parity_machine()))
    report = verify(source, wrong_program(), parity_machine(), parity_data())
    assert report.heldout_wrong == 0 and report.ir_wrong > 0 and not report.verified


def test_source_disagreeing_with_its_ir_is_caught():
    program = regress(parity_machine())
    tampered = emit_python(program).replace("out.append([y])", "out.append([1 - y])")
    report = verify(tampered, program, parity_machine(), parity_data())
    assert not report.verified and report.ir_wrong > 0


def test_a_raising_program_is_a_failure_not_a_crash():
    report = verify(
        "def program(seq):\n    raise ZeroDivisionError\n",
        wrong_program(),
        parity_machine(),
        parity_data(5),
    )
    assert not report.verified and "ZeroDivisionError" in report.counterexample


def test_a_program_over_words_takes_and_returns_the_words():
    # Codes: inputs button 0, coin 1; outputs coffee 0, nothing 1. s: a coin is in.
    update = Formula("s", ("x",), expr=var(0))
    output = Formula("y", ("s", "x"), table=(((0, 0), 1), ((0, 1), 1), ((1, 0), 0), ((1, 1), 1)))
    program = Program(
        inputs=("x", "t"),
        state=("s",),
        initial=(0,),
        updates=(update,),
        outputs=(output,),
        words_in=(("button", "coin"), None),
        words_out=(("coffee", "nothing"),),
    )
    source = emit_python(program)
    assert "X_CODE = {'button': 0, 'coin': 1}" in source
    assert "Y_WORD = ('coffee', 'nothing')" in source
    got = load_program(source)([["coin", 5], ["button", 6]])
    assert got == [["nothing"], ["coffee"]]
    codes = [[1, 5], [0, 6]]
    assert program.symbols_out(program.run(codes)) == got
    assert program.symbols_in(codes) == [["coin", 5], ["button", 6]]


def test_a_tolerant_program_is_checked_exhaustively_against_its_ir_not_the_machine():
    """A program that departs from the machine on purpose (its formulas were allowed to miss
    rare rows) fails against the machine, passes against its IR, and a tampered source of it
    still fails."""
    program = wrong_program()
    data = parity_data()
    report = verify(emit_python(program), program, parity_machine(), data, 0.5, tolerant=True)
    assert report.exhaustive_wrong == 0 and report.exhaustive_against == "the IR"
    assert "vs the IR" in report.summary()
    strict = verify(emit_python(program), program, parity_machine(), data, 0.5)
    assert strict.exhaustive_wrong > 0 and not strict.verified
    tampered = emit_python(program).replace("out.append([y])", "out.append([1 - y])")
    assert verify(tampered, program, parity_machine(), data, 0.5, tolerant=True).ir_wrong > 0
