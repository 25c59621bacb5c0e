"""Shared by the regression tests: random expression trees over the whole operator registry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from mips.regress.expr import Expr, const, var
from mips.regress.operators import OPERATORS


def _expressions(n_vars: int, depth: int = 3) -> st.SearchStrategy[Expr]:
    leaf = st.one_of(
        st.builds(var, st.integers(0, n_vars - 1)),
        st.builds(const, st.integers(-9, 9)),
    )
    if depth == 0:
        return leaf
    sub = _expressions(n_vars, depth - 1)
    predicates = [name for name, op in OPERATORS.items() if op.predicate]

    def operand(kind: str) -> st.SearchStrategy[Expr]:
        if kind == "divisor":
            return st.builds(const, st.integers(2, 9))
        if kind == "predicate":
            return st.builds(lambda p, a, b: Expr(p, (a, b)), st.sampled_from(predicates), sub, sub)
        return sub

    def node(name: str) -> st.SearchStrategy[Expr]:
        return st.tuples(*(operand(k) for k in OPERATORS[name].operands)).map(
            lambda args: Expr(name, args)
        )

    # Mostly operators, so that trees reach the depth asked for.
    return st.integers(0, 3).flatmap(
        lambda pick: leaf if pick == 0 else st.sampled_from(list(OPERATORS)).flatmap(node)
    )


@pytest.fixture(scope="session")
def expressions() -> Callable[..., st.SearchStrategy[Expr]]:
    """Factory ``expressions(n_vars, depth=3)``: random trees, operand kinds respected; draw with
    Hypothesis's ``st.data()``."""
    return _expressions
