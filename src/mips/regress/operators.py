"""Operators of formulas: numpy kernels with the Python text that computes the same, validated."""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Binding strength of rendered Python text, in Python's own order; calls, names, int(...) and
# (...) forms are atoms. Bitwise operators bind looser than + and tighter than comparisons.
ATOM = 100
UNARY = 30
PRODUCT = 20
SUM = 10
BIT_AND = 8
BIT_XOR = 7
BIT_OR = 6
COMPARE = 5

OPERAND_KINDS = ("any", "divisor", "predicate")


@dataclass(frozen=True, kw_only=True)
class Operator:
    """An integer operator: a vectorised numpy kernel and the Python text that computes the same."""

    name: str
    arity: int
    function: Callable[..., np.ndarray]
    template: str
    precedence: int
    commutative: bool
    predicate: bool
    operands: tuple[str, ...]


def _check_python(
    name: str, template: str, predicate: bool, rows: list[tuple[int, ...]], numpy_out: list[int]
) -> None:
    """Refuse an operator whose Python text disagrees with its numpy kernel on ``rows``."""
    scope = {"__builtins__": {}, "abs": abs, "min": min, "max": max, "int": int}
    for args, got in zip(rows, numpy_out, strict=True):
        text = template.format(*(f"({a})" for a in args))
        try:
            want = eval(f"int({text})" if predicate else text, scope)  # noqa: S307 - our template
        except Exception as err:  # e.g. ZeroDivisionError: Python cannot take these operands
            raise ValueError(f"operator {name!r}: Python fails on {text}: {err}") from err
        if type(want) is not int or want != got or (predicate and got not in (0, 1)):
            raise ValueError(f"operator {name!r}: numpy gives {got} but Python {text} = {want}")


def make_operator(
    name: str,
    arity: int,
    function: Callable[..., np.ndarray],
    template: str,
    *,
    precedence: int = ATOM,
    commutative: bool = False,
    predicate: bool = False,
    operands: Sequence[str] | None = None,
) -> Operator:
    """Build an operator after checking its arity, int64 closure and numpy/Python agreement.

    ``template`` is the Python text with ``{0}``, ``{1}``, ... for the operands; a ``predicate``
    returns 0/1 and prints as ``int(template)``. ``operands`` restricts what each operand may be:
    ``"any"`` expression, a ``"divisor"`` literal >= 2, or a ``"predicate"``.

    Example usage:
        >>> sub = make_operator("sub", 2, np.subtract, "{0} - {1}", precedence=10)
        >>> sub.function(np.array([5]), np.array([7]))
        array([-2])
    """
    operands = _check_signature(name, arity, template, commutative, operands)
    samples = {"any": (-7, -2, -1, 0, 1, 3, 8), "divisor": (2, 3, 5), "predicate": (0, 1)}
    rows = list(itertools.product(*(samples[kind] for kind in operands)))
    columns = [np.array(col, dtype=np.int64) for col in zip(*rows, strict=True)]
    try:
        out = np.asarray(function(*columns))
    except Exception as err:  # any failure means the kernel cannot take `arity` int arrays
        raise ValueError(f"operator {name!r} fails on {arity} int64 arrays: {err}") from err
    if out.shape != (len(rows),) or out.dtype != np.int64:
        raise ValueError(f"operator {name!r} is not closed over int64 arrays (got {out.dtype})")
    _check_python(name, template, predicate, rows, out.tolist())
    return Operator(
        name=name,
        arity=arity,
        function=function,
        template=template,
        precedence=precedence,
        commutative=commutative,
        predicate=predicate,
        operands=operands,
    )


def _check_signature(
    name: str, arity: int, template: str, commutative: bool, operands: Sequence[str] | None
) -> tuple[str, ...]:
    """The operand kinds, after checking they, the template and the arity fit together."""
    if arity not in (1, 2, 3):
        raise ValueError(f"operator {name!r}: arity must be 1, 2 or 3, got {arity!r}")
    operands = ("any",) * arity if operands is None else tuple(operands)
    if len(operands) != arity or not set(operands) <= set(OPERAND_KINDS):
        raise ValueError(f"operator {name!r}: operands {operands} do not fit arity {arity}")
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    if fields != {str(i) for i in range(arity)}:
        raise ValueError(
            f"operator {name!r}: template {template!r} must use {{0}}..{{{arity - 1}}}"
        )
    if commutative and arity != 2:
        raise ValueError(f"operator {name!r}: only binary operators can be commutative")
    return operands


def _comparison(ufunc: np.ufunc) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda a, b: ufunc(a, b).astype(np.int64)


def _cond(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(c != 0, a, b)


def _complement(a: np.ndarray) -> np.ndarray:
    return 1 - a


# numpy's // and % on int64 floor like Python's; the factory checks it on negative operands.
# The bitwise operators and `not` serve Boolean formulas over 0/1 values, but numpy and Python
# agree on them for every integer (two's complement), so they are checked on any operands.
OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        make_operator("add", 2, np.add, "{0} + {1}", precedence=SUM, commutative=True),
        make_operator("sub", 2, np.subtract, "{0} - {1}", precedence=SUM),
        make_operator("mul", 2, np.multiply, "{0} * {1}", precedence=PRODUCT, commutative=True),
        make_operator(
            "floordiv",
            2,
            np.floor_divide,
            "{0} // {1}",
            precedence=PRODUCT,
            operands=("any", "divisor"),
        ),
        make_operator(
            "mod", 2, np.remainder, "{0} % {1}", precedence=PRODUCT, operands=("any", "divisor")
        ),
        make_operator("neg", 1, np.negative, "-{0}", precedence=UNARY),
        make_operator("abs", 1, np.abs, "abs({0})"),
        make_operator("min", 2, np.minimum, "min({0}, {1})", commutative=True),
        make_operator("max", 2, np.maximum, "max({0}, {1})", commutative=True),
        make_operator("lt", 2, _comparison(np.less), "{0} < {1}", predicate=True),
        make_operator("le", 2, _comparison(np.less_equal), "{0} <= {1}", predicate=True),
        # ge serves completions and Boolean thresholds; the search needs only lt and le.
        make_operator("ge", 2, _comparison(np.greater_equal), "{0} >= {1}", predicate=True),
        make_operator(
            "eq", 2, _comparison(np.equal), "{0} == {1}", predicate=True, commutative=True
        ),
        make_operator(
            "ne", 2, _comparison(np.not_equal), "{0} != {1}", predicate=True, commutative=True
        ),
        make_operator(
            "cond", 3, _cond, "({1} if {0} else {2})", operands=("predicate", "any", "any")
        ),
        make_operator("not", 1, _complement, "(1 - {0})"),
        make_operator("and", 2, np.bitwise_and, "{0} & {1}", precedence=BIT_AND, commutative=True),
        make_operator("xor", 2, np.bitwise_xor, "{0} ^ {1}", precedence=BIT_XOR, commutative=True),
        make_operator("or", 2, np.bitwise_or, "{0} | {1}", precedence=BIT_OR, commutative=True),
    )
}
