"""Expression trees: numpy evaluation equals Python running the rendered text, and the text is
parenthesised only where Python (or a reader) needs it."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mips.regress.expr import Expr, const, linear_combination, var

NAMES = ["a", "b", "c"]
ROWS = np.random.default_rng(3).integers(-12, 13, (60, 3))
SCOPE = {"__builtins__": {}, "abs": abs, "min": min, "max": max, "int": int}


def python_eval(text: str, X) -> list[int]:
    """The oracle: Python itself evaluating the text row by row on plain ints."""
    code = compile(text, "<expr>", "eval")
    out = [eval(code, SCOPE, dict(zip(NAMES, map(int, row), strict=True))) for row in X]
    assert all(type(v) is int for v in out)
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_numpy_evaluation_matches_python_on_the_rendered_text(expressions, data):
    expr = data.draw(expressions(3))
    assert expr.evaluate(ROWS).tolist() == python_eval(expr.render(NAMES), ROWS)


a, b, c = (var(j) for j in range(3))
three = const(3)


def test_integer_rendering_parenthesises_only_where_python_needs_it():
    cases = {
        Expr("sub", (a, Expr("sub", (b, c)))): "a - (b - c)",
        Expr("add", (a, Expr("sub", (b, c)))): "a + b - c",
        Expr("mul", (a, Expr("mod", (b, three)))): "a * (b % 3)",
        Expr("neg", (Expr("floordiv", (a, three)),)): "-(a // 3)",
        Expr("add", (a, const(-3))): "a - 3",
        Expr("cond", (Expr("lt", (a, b)), c, three)): "(c if a < b else 3)",
        Expr("mul", (Expr("eq", (a, b)), c)): "int(a == b) * c",
        Expr("neg", (const(-3),)): "-(-3)",
        Expr("mul", (a, Expr("mul", (b, c)))): "a * b * c",
        # A // or % on the left of a product must not take the factor before it in.
        Expr("mul", (a, Expr("mul", (Expr("mod", (b, three)), c)))): "a * (b % 3 * c)",
        Expr("mul", (a, Expr("mul", (b, Expr("mul", (Expr("floordiv", (c, three)), a)))))): (
            "a * (b * (c // 3 * a))"
        ),
        linear_combination([(2, Expr("mul", (Expr("mod", (a, three)), b)))], 1): (
            "2 * (a % 3 * b) + 1"
        ),
    }
    for expr, text in cases.items():
        assert expr.render(NAMES) == text
        assert expr.evaluate(ROWS).tolist() == python_eval(text, ROWS)


def test_boolean_rendering_groups_mixed_bitwise_operators_and_split_covers():
    def chain(op, items):
        out = items[0]
        for item in items[1:]:
            out = Expr(op, (out, item))
        return out

    not_b = Expr("not", (b,))
    cases = {
        not_b: "(1 - b)",
        chain("xor", [a, b, const(1)]): "a ^ b ^ 1",
        chain("or", [Expr("and", (a, not_b)), c]): "(a & (1 - b)) | c",
        Expr("xor", (a, Expr("and", (b, c)))): "a ^ (b & c)",
        Expr("and", (a, Expr("or", (b, c)))): "a & (b | c)",
        Expr("sub", (const(1), Expr("or", (a, Expr("and", (b, c)))))): "1 - (a | (b & c))",
        Expr("or", (Expr("or", (a, b)), Expr("or", (c, a)))): "(a | b) | (c | a)",
        Expr("ge", (chain("add", [a, not_b, c]), const(2))): "int(a + (1 - b) + c >= 2)",
        Expr("not", (Expr("sub", (a, b)),)): "(1 - (a - b))",
    }
    for expr, text in cases.items():
        assert expr.render(NAMES) == text


def test_size_counts_nodes_and_variables_lists_columns():
    e = Expr("add", (Expr("mul", (const(2), c)), a))
    assert e.size == 5
    assert e.variables() == {0, 2}
    assert const(7).variables() == set()


def test_remap_renames_columns_and_keeps_values():
    e = Expr("sub", (Expr("mod", (var(0), three)), var(1)))
    moved = e.remap([2, 0])
    assert moved.variables() == {0, 2}
    assert moved.render(NAMES) == "c % 3 - a"
    assert moved.evaluate(ROWS).tolist() == e.evaluate(ROWS[:, [2, 0]]).tolist()


def test_linear_combination_reads_naturally_and_computes_the_sum():
    e = linear_combination([(1, a), (-2, b), (-1, c)], -4)
    assert e.render(NAMES) == "a - 2 * b - c - 4"
    assert e.evaluate(ROWS).tolist() == (ROWS @ [1, -2, -1] - 4).tolist()
    assert linear_combination([(-1, a), (3, b)], 0).render(NAMES) == "-a + 3 * b"
    assert linear_combination([(-3, a)], 1).render(NAMES) == "-3 * a + 1"
    assert linear_combination([], 5) == const(5)
