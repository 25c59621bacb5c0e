"""The operator registry: every kernel agrees with Python's integers, and the factory refuses
operators that would not."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.regress.operators import OPERATORS, make_operator

SCOPE = {"__builtins__": {}, "abs": abs, "min": min, "max": max, "int": int}


def python(name: str, args: tuple[int, ...]) -> int:
    """The oracle: the operator's template run by Python on plain ints."""
    op = OPERATORS[name]
    text = op.template.format(*(f"({a})" for a in args))
    return eval(f"int({text})" if op.predicate else text, SCOPE)


def operand_values(kind: str) -> st.SearchStrategy[int]:
    return {
        "any": st.integers(-1000, 1000),
        "divisor": st.integers(2, 50),
        "predicate": st.integers(0, 1),
    }[kind]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_registered_kernel_agrees_with_python(data):
    name = data.draw(st.sampled_from(sorted(OPERATORS)))
    op = OPERATORS[name]
    rows = data.draw(
        st.lists(st.tuples(*(operand_values(k) for k in op.operands)), min_size=1, max_size=20)
    )
    columns = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    got = op.function(*columns)
    assert got.dtype == np.int64
    assert got.tolist() == [python(name, args) for args in rows]


@pytest.mark.parametrize(
    ("name", "truth"),
    [
        ("not", {(0,): 1, (1,): 0}),
        ("and", {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 1}),
        ("or", {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 1}),
        ("xor", {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}),
    ],
)
def test_boolean_operators_have_their_truth_tables(name, truth):
    op = OPERATORS[name]
    rows = list(itertools.product((0, 1), repeat=op.arity))
    columns = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    assert dict(zip(rows, op.function(*columns).tolist(), strict=True)) == truth
    assert {args: python(name, args) for args in rows} == truth


def test_predicates_give_bits_and_the_search_needs_no_mirror_comparisons():
    assert {n for n, op in OPERATORS.items() if op.predicate} == {"lt", "le", "ge", "eq", "ne"}
    assert "gt" not in OPERATORS  # nothing makes one; ge serves thresholds


def test_operator_factory_checks_arity_closure_and_python_agreement():
    op = make_operator("twice", 1, lambda a: 2 * a, "2 * {0}", precedence=20)
    assert op.function(np.array([-3])).tolist() == [-6]
    with pytest.raises(ValueError, match="arity"):
        make_operator("quad", 4, lambda a, b, c, d: a, "{0}")
    with pytest.raises(ValueError, match="template"):
        make_operator("add", 2, np.add, "{0} + {0}")
    with pytest.raises(ValueError, match="fails"):
        make_operator("pair", 2, lambda a: a, "{0} + {1}")
    with pytest.raises(ValueError, match="closed"):
        make_operator("div", 2, np.true_divide, "{0} / {1}", operands=("any", "divisor"))
    with pytest.raises(ValueError, match="numpy gives"):
        make_operator("rem", 2, np.fmod, "{0} % {1}", operands=("any", "divisor"))
    with pytest.raises(ValueError, match="commutative"):
        make_operator("neg", 1, np.negative, "-{0}", commutative=True)
    with pytest.raises(ValueError, match="operands"):
        make_operator("half", 1, lambda a: a // 2, "{0} // 2", operands=("bit",))
    with pytest.raises(ValueError, match="Python fails"):
        make_operator("inv", 1, np.zeros_like, "{0} // 0")


def test_a_predicate_must_give_bits():
    with pytest.raises(ValueError, match="numpy gives"):
        make_operator("twice", 1, lambda a: 2 * a, "2 * {0}", predicate=True)
