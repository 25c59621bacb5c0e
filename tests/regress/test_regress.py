"""The regression stage: a state machine in, a program out that replays the machine."""

import itertools

import numpy as np

from mips.machine import Reading, StateMachine
from mips.naming import Output
from mips.regress import RegressConfig, encodings, fit_formula, regress


def machine(kind, initial, rows, n_vars, **reading) -> StateMachine:
    a = np.array(rows, dtype=np.int64)
    return StateMachine(
        kind=kind,
        initial=initial,
        z_prev=a[:, :n_vars],
        x=a[:, n_vars : n_vars + 1],
        z_next=a[:, n_vars + 1 : 2 * n_vars + 1],
        y=a[:, 2 * n_vars + 1 :],
        reading=Reading("test", "test", **reading),
    )


def running_sum() -> StateMachine:
    return machine("lattice", (0,), [(s, x, s + x, s + x) for s in range(30) for x in range(5)], 1)


def parity() -> StateMachine:
    rows = [(s, x, s ^ x, s ^ x) for s in (0, 1) for x in (0, 1)]
    return machine("finite", (0,), rows, 1, n_states=2)


def replays(program, m: StateMachine, length: int = 12, n: int = 50, seed: int = 0) -> bool:
    """The program's IR gives the machine's outputs wherever the machine knows them."""
    symbols = np.unique(m.x, axis=0)
    pick = np.random.default_rng(seed).integers(0, len(symbols), (n, length))
    x = symbols[pick]  # (n, length, d_in)
    expected, known = m.replay(x)
    return all(
        program.run(seq) == want
        for seq, want in zip(x[known].tolist(), expected[known].tolist(), strict=True)
    )


def test_a_running_sum_becomes_one_addition():
    program = regress(running_sum())
    assert program.form == "formula" and program.state == ("s",)
    assert program.updates[0].expr.render(program.updates[0].features) == "s + x"
    assert program.outputs[0].reads() == {"s_new"}
    assert replays(program, running_sum())


def test_parity_becomes_an_xor_of_the_state_and_the_input():
    program = regress(parity())
    assert program.form == "formula"
    assert program.updates[0].expr.render(program.updates[0].features) == "s ^ x"
    assert program.size() == 4  # s ^ x (3 nodes) and y = s_new (1)
    assert replays(program, parity())


def test_one_state_is_no_state():
    m = machine("finite", (0,), [(0, x, 0, 3 * x) for x in range(4)], 1, n_states=1)
    program = regress(m)
    assert program.state == () and program.outputs[0].expr.render(("x",)) == "3 * x"
    assert [name for name, *_ in encodings(m)] == ["stateless"]


def test_a_finite_machine_is_also_tried_in_bits():
    # A 2-bit shift register numbered 0..3: as bits it is two copies, as one integer arithmetic.
    rows = [(s, x, (2 * s + x) % 4, s >> 1) for s in range(4) for x in range(2)]
    m = machine("finite", (0,), rows, 1, n_states=4)
    names = [name for name, *_ in encodings(m)]
    assert names == ["as read", "bits"]
    bits = encodings(m)[1]
    assert bits[1].shape == (8, 2) and set(np.unique(bits[1])) <= {0, 1}
    program = regress(m)
    assert program.form == "formula" and replays(program, m)
    # States named some other way than by number are only read as they are.
    named = machine("finite", (0,), rows, 1, n_states=4, naming=Output())
    assert [name for name, *_ in encodings(named)] == ["as read"]


def test_a_large_numbered_machine_is_not_tried_in_bits():
    # The numbering of many states is the order they were read in: its bits name nothing.
    rows = [(s, x, (s + x + 1) % 40, s % 3) for s in range(40) for x in range(2)]
    m = machine("finite", (0,), rows, 1, n_states=40)
    assert [name for name, *_ in encodings(m)] == ["as read"]


def test_a_random_machine_falls_back_to_tables_that_still_replay_it():
    rng = np.random.default_rng(5)
    nxt, out = rng.integers(0, 6, (6, 3)), rng.integers(0, 7, (6, 3))
    rows = [(s, x, nxt[s, x], out[s, x]) for s, x in itertools.product(range(6), range(3))]
    m = machine("finite", (0,), rows, 1, n_states=6)
    program = regress(m, RegressConfig(work_budget=15_000_000))
    assert program.form == "table"
    assert replays(program, m)


def test_fit_formula_prefers_the_smaller_of_boolean_and_integer():
    X = np.array(list(itertools.product((0, 1), repeat=2)))
    config = RegressConfig(work_budget=30_000_000)
    f = fit_formula("y", ("a", "b"), X, X[:, 0] ^ X[:, 1], config)
    assert f.expr.render(f.features) == "a ^ b" and f.size == 3
    f = fit_formula("y", ("a", "b"), X, X[:, 0] + 2 * X[:, 1], config)
    assert f.expr.render(f.features) == "a + 2 * b" and f.size == 5
    f = fit_formula("y", ("a", "b"), X, np.full(4, -2), config)
    assert f.expr.render(f.features) == "-2" and f.size == 1


def test_with_a_tolerance_a_rare_row_is_left_out_of_a_boolean_formula():
    """AND of two bits, but the row (0, 0) says 1, taken once where the other rows are taken
    500 times: exact, the formula is an equality; within 0.2% of the steps it is the AND."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([1, 0, 0, 1])
    counts = np.array([1, 500, 500, 500])
    config = RegressConfig(work_budget=15_000_000)
    exact = fit_formula("y", ("a", "b"), X, y, config, counts)
    assert (exact.expr.evaluate(X) == y).all()
    tolerant = fit_formula(
        "y", ("a", "b"), X, y, RegressConfig(work_budget=15_000_000, tolerance=0.002), counts
    )
    assert tolerant.expr.evaluate(X).tolist() == [0, 0, 0, 1]
    # Without counts there is nothing to weigh the rows by: the formula stays exact.
    unweighed = fit_formula(
        "y", ("a", "b"), X, y, RegressConfig(work_budget=15_000_000, tolerance=0.002)
    )
    assert (unweighed.expr.evaluate(X) == y).all()
