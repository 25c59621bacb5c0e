"""Expression trees over feature columns: evaluated with numpy, rendered as Python text.

Example:
    >>> e = linear_combination([(2, var(0)), (-1, var(1))], 3)
    >>> e.render(["a", "b"]), e.evaluate(np.array([[5, 4]])).tolist()
    ('2 * a - b + 3', [9])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mips.regress.operators import ATOM, COMPARE, OPERATORS, UNARY

# Readers do not remember how &, ^ and | rank among themselves, so mixed ones are grouped.
_BITWISE = ("and", "xor", "or")


@dataclass(frozen=True)
class Expr:
    """An integer expression tree: an operator over children, a feature column or a literal."""

    op: str  # a key of OPERATORS, "var" or "const"
    args: tuple[Expr, ...] = ()
    value: int = 0  # the column for "var", the integer for "const"

    @property
    def size(self) -> int:
        """Number of nodes."""
        return 1 + sum(a.size for a in self.args)

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Values on the rows of ``X`` (n, k), as int64, with Python's integer semantics."""
        if self.op == "var":
            return np.asarray(X[:, self.value], dtype=np.int64)
        if self.op == "const":
            return np.full(X.shape[0], self.value, dtype=np.int64)
        return OPERATORS[self.op].function(*(a.evaluate(X) for a in self.args))

    def render(self, names: Sequence[str]) -> str:
        """Python source over ``names`` (one per column) that evaluates to the same int."""
        return _render(self, names, bare=False)[0]

    def variables(self) -> set[int]:
        """The columns the expression reads."""
        if self.op == "var":
            return {self.value}
        return set().union(*(a.variables() for a in self.args))

    def remap(self, columns: Sequence[int] | np.ndarray) -> Expr:
        """The same expression with each column j renamed to ``columns[j]``."""
        if self.op == "var":
            return var(int(columns[self.value]))
        return Expr(self.op, tuple(a.remap(columns) for a in self.args), self.value)


def const(v: int) -> Expr:
    """The literal ``v``."""
    return Expr("const", value=int(v))


def var(j: int) -> Expr:
    """Feature column ``j``."""
    return Expr("var", value=int(j))


def linear_combination(terms: Sequence[tuple[int, Expr]], intercept: int) -> Expr:
    """``sum(c * e) + intercept`` as a tree, written with - for negative coefficients."""
    out = None
    for c, e in terms:
        term = e if abs(c) == 1 else Expr("mul", (const(abs(c)), e))
        if out is None:
            out = term if c > 0 else (Expr("neg", (e,)) if c == -1 else Expr("mul", (const(c), e)))
        else:
            out = Expr("add" if c > 0 else "sub", (out, term))
    if out is None:
        return const(intercept)
    if intercept:
        out = Expr("add" if intercept > 0 else "sub", (out, const(abs(intercept))))
    return out


def _render(e: Expr, names: Sequence[str], bare: bool) -> tuple[str, int]:
    """Text and binding strength; ``bare`` leaves int(...) off a comparison used as a condition."""
    if e.op == "var":
        return names[e.value], ATOM
    if e.op == "const":
        return str(e.value), UNARY if e.value < 0 else ATOM
    if e.op in ("add", "sub") and e.args[1].op == "const" and e.args[1].value < 0:
        # x + -3 reads better as x - 3; the value is the same.
        flipped = Expr("sub" if e.op == "add" else "add", (e.args[0], const(-e.args[1].value)))
        return _render(flipped, names, bare)
    if e.op == "not":
        # A negated bit reads (1 - b): a subtraction, parenthesised as a whole.
        text = _render(Expr("sub", (const(1), e.args[0])), names, bare=False)[0]
        return f"({text})", ATOM
    op = OPERATORS[e.op]
    parts = []
    for i, child in enumerate(e.args):
        text, strength = _render(child, names, bare=op.operands[i] == "predicate")
        grouped = op.precedence < ATOM and _needs_parentheses(e, i, strength)
        parts.append(f"({text})" if grouped else text)
    text = op.template.format(*parts)
    if op.predicate:
        return (text, COMPARE) if bare else (f"int({text})", ATOM)
    return text, op.precedence


def _factors_only(e: Expr) -> bool:
    """Whether ``e`` renders as factors joined by ``*`` alone, so that ``a * e`` needs no
    parentheses. A // or % on its left would take ``a`` in: ``2 * (b % 3 * c)`` is not
    ``2 * b % 3 * c``."""
    if e.op != "mul":
        return False
    left, right = e.args
    left_ok = left.op not in ("floordiv", "mod") and (left.op != "mul" or _factors_only(left))
    return left_ok and (right.op != "mul" or _factors_only(right))


def _needs_parentheses(e: Expr, i: int, strength: int) -> bool:
    """Whether operand ``i`` of the infix (or prefix) expression ``e`` must be grouped."""
    op, child = OPERATORS[e.op], e.args[i]
    if strength < op.precedence:
        return True
    # Python groups left to right, so an equal-strength right operand needs parentheses,
    # except where regrouping keeps the integer value (a + (b - c), a * (b * c)).
    if (
        strength == op.precedence
        and (i > 0 or op.arity == 1)
        and not (op.name == "add" or (op.name == "mul" and _factors_only(child)))
    ):
        return True
    if op.name in _BITWISE and child.op in _BITWISE and child.op != op.name:
        return True
    # An or of two ors is a long cover split in halves (to keep Python's parser within its
    # depth); both halves are grouped to show the split.
    return op.name == "or" and all(a.op == "or" for a in e.args)
