"""Integer symbolic regression: the smallest formula that reproduces every row of an integer table.

Each integer state variable or output of the extracted state machine comes with a table of rows
(previous state variables and current inputs -> next value). The regressor tries, in order:

1. an integer affine formula ``c0 + c1*x1 + ...`` (least squares on feature subsets, fewest terms
   first, rounded and checked exactly; ``(...) // d`` when a small common denominator is needed);
2. a bottom-up enumeration of expressions by size over the features, a few affine combinations
   the data points to (least-squares direction; a modular solve over GF(p) when y looks like a
   residue) and a few constants, where two expressions with the same values on the search rows
   are one (observational equivalence), cheapest operator groups first. Each new expression
   ``e`` is also tried as the core of a completion whose constants come from the data:
   ``a*e + affine``, ``a*e*x_k + affine`` (a projection test, then an exact integer solve) and,
   for 0/1 targets, ``int(e >= t)``, ``int(e <= t)``, ``int(e == t)``, ``int(e != t)``.

Search runs on a capped sample of the distinct rows; a formula that fails on the rest adds the rows
it gets wrong to the sample and starts again (counterexample-guided), a few times at most.

Example:
    >>> X = [[z, x] for z in range(5) for x in range(5)]
    >>> str(IntegerRegressor(feature_names=["z", "x"]).fit(X, [(z + x) % 5 for z, x in X]))
    '(z + x) % 5'
"""

from __future__ import annotations

import bisect
import itertools
import keyword
import math
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

# Binding strength of rendered Python text; calls, names, int(...) and (...) forms are atoms.
ATOM = 100
_UNARY, _PRODUCT, _SUM, _COMPARE = 30, 20, 10, 5
OPERAND_KINDS = ("any", "divisor", "predicate")

# Enumerated values stay within +-2**31, so one +, - or * of two of them never leaves int64.
_BOUND = 2**31 - 1
# Cells (expressions x search rows) computed per numpy block, and kept in the bank in all.
_BLOCK_CELLS = 1 << 20
_BANK_CELLS = 25_000_000
# Once a formula is known, smaller ones are still sought, within this many more candidates.
_POLISH_WORK = 1_000_000
_MAX_ROUNDS = 6
_COUNTEREXAMPLES = 8
_MAX_SCALE = 16  # largest |a| in a completion a*e + affine
_MAX_DENOMINATOR = 12
_MAX_SUBSET_FEATURES = 10  # past this, the affine stage tries subsets of at most 2 features
# Decision trees: deeper or larger ones would be lookup tables in disguise.
_TREE_DEPTH = 3
_MAX_TREE_SIZE = 25
_SEARCH_OPERATORS = (
    "add", "sub", "mul", "floordiv", "mod", "neg", "abs",
    "min", "max", "lt", "le", "eq", "ne", "cond",
)  # fmt: skip


@dataclass(frozen=True)
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

    samples = {"any": (-7, -2, -1, 0, 1, 3, 8), "divisor": (2, 3, 5), "predicate": (0, 1)}
    rows = list(itertools.product(*(samples[kind] for kind in operands)))
    columns = [np.array(col, dtype=np.int64) for col in zip(*rows, strict=True)]
    try:
        out = np.asarray(function(*columns))
    except Exception as err:  # any failure means the kernel cannot take `arity` int arrays
        raise ValueError(f"operator {name!r} fails on {arity} int64 arrays: {err}") from err
    if out.shape != (len(rows),) or out.dtype != np.int64:
        raise ValueError(f"operator {name!r} is not closed over int64 arrays (got {out.dtype})")
    scope = {"__builtins__": {}, "abs": abs, "min": min, "max": max, "int": int}
    for args, got in zip(rows, out.tolist(), strict=True):
        text = template.format(*(f"({a})" for a in args))
        try:
            want = eval(f"int({text})" if predicate else text, scope)  # noqa: S307 - our template
        except Exception as err:  # e.g. ZeroDivisionError: Python cannot take these operands
            raise ValueError(f"operator {name!r}: Python fails on {text}: {err}") from err
        if type(want) is not int or want != got or (predicate and got not in (0, 1)):
            raise ValueError(f"operator {name!r}: numpy gives {got} but Python {text} = {want}")
    return Operator(name, arity, function, template, precedence, commutative, predicate, operands)


def _comparison(ufunc: np.ufunc) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda a, b: ufunc(a, b).astype(np.int64)


def _cond(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(c != 0, a, b)


# numpy's // and % on int64 floor like Python's; the factory checks it on negative operands.
OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        make_operator("add", 2, np.add, "{0} + {1}", precedence=_SUM, commutative=True),
        make_operator("sub", 2, np.subtract, "{0} - {1}", precedence=_SUM),
        make_operator("mul", 2, np.multiply, "{0} * {1}", precedence=_PRODUCT, commutative=True),
        make_operator(
            "floordiv",
            2,
            np.floor_divide,
            "{0} // {1}",
            precedence=_PRODUCT,
            operands=("any", "divisor"),
        ),
        make_operator(
            "mod", 2, np.remainder, "{0} % {1}", precedence=_PRODUCT, operands=("any", "divisor")
        ),
        make_operator("neg", 1, np.negative, "-{0}", precedence=_UNARY),
        make_operator("abs", 1, np.abs, "abs({0})"),
        make_operator("min", 2, np.minimum, "min({0}, {1})", commutative=True),
        make_operator("max", 2, np.maximum, "max({0}, {1})", commutative=True),
        make_operator("lt", 2, _comparison(np.less), "{0} < {1}", predicate=True),
        make_operator("le", 2, _comparison(np.less_equal), "{0} <= {1}", predicate=True),
        # gt and ge mirror lt and le, so the search skips them; completions print thresholds.
        make_operator("gt", 2, _comparison(np.greater), "{0} > {1}", predicate=True),
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
    )
}


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
        """Python source over ``names`` that evaluates to the same int."""
        return _render(self, names, bare=False)[0]


def _render(e: Expr, names: Sequence[str], bare: bool) -> tuple[str, int]:
    """Text and binding strength; ``bare`` leaves int(...) off a comparison used as a condition."""
    if e.op == "var":
        return names[e.value], ATOM
    if e.op == "const":
        return str(e.value), _UNARY if e.value < 0 else ATOM
    if e.op in ("add", "sub") and e.args[1].op == "const" and e.args[1].value < 0:
        # x + -3 reads better as x - 3; the value is the same.
        flipped = Expr("sub" if e.op == "add" else "add", (e.args[0], _const(-e.args[1].value)))
        return _render(flipped, names, bare)
    op = OPERATORS[e.op]
    parts = []
    for i, child in enumerate(e.args):
        text, strength = _render(child, names, bare=op.operands[i] == "predicate")
        # Python groups left to right, so an equal-strength right operand needs parentheses,
        # except where regrouping keeps the integer value (a + (b - c), a * (b * c)).
        loose = strength < op.precedence or (
            strength == op.precedence
            and (i > 0 or op.arity == 1)
            and not (op.name == "add" or (op.name == "mul" and child.op == "mul"))
        )
        parts.append(f"({text})" if op.precedence < ATOM and loose else text)
    text = op.template.format(*parts)
    if op.predicate:
        return (text, _COMPARE) if bare else (f"int({text})", ATOM)
    return text, op.precedence


def _remap(e: Expr, columns: np.ndarray) -> Expr:
    """``e`` with each feature column j renamed to ``columns[j]``."""
    if e.op == "var":
        return _var(int(columns[e.value]))
    return Expr(e.op, tuple(_remap(a, columns) for a in e.args), e.value)


def _const(v: int) -> Expr:
    return Expr("const", value=int(v))


def _var(j: int) -> Expr:
    return Expr("var", value=int(j))


def _linear_combination(terms: list[tuple[int, Expr]], intercept: int) -> Expr:
    """``sum(c * e) + intercept`` as a tree, written with - for negative coefficients."""
    out = None
    for c, e in terms:
        term = e if abs(c) == 1 else Expr("mul", (_const(abs(c)), e))
        if out is None:
            out = term if c > 0 else (Expr("neg", (e,)) if c == -1 else Expr("mul", (_const(c), e)))
        else:
            out = Expr("add" if c > 0 else "sub", (out, term))
    if out is None:
        return _const(intercept)
    if intercept:
        out = Expr("add" if intercept > 0 else "sub", (out, _const(abs(intercept))))
    return out


class IntegerRegressor:
    """Find a small formula that reproduces every row of an integer table exactly.

    Parameters:
        feature_names: Python identifiers naming the columns of ``X``; default ``x0, x1, ...``.
        max_size: the most nodes an enumerated expression may have; affine parts found by
            solving (``+ 2*x3 - 1``) and threshold constants come on top.
        time_budget: seconds for a whole fit; the best formula found so far is kept.
        max_rows: the enumeration works on at most this many distinct rows (extremes plus a
            seeded sample); every candidate is then checked on all rows.
        seed: seeds the row sample and the hashes.

    Fitted attributes:
        expression_: Python expression over the feature names using +, -, *, //, %, abs, min,
            max, int(comparison) and ``(a if cond else b)``; None if no exact formula was found.
        size_: nodes in ``expression_`` (None when there is none).
        exact_: whether ``expression_`` reproduces every row.
        pareto_: ``(size, error_rate, expression)`` for the most accurate expression found at
            each size, keeping only sizes that lower the error; error is over distinct rows.
        n_features_in_, feature_names_: the columns the formula reads.
    """

    def __init__(
        self,
        *,
        feature_names: Sequence[str] | None = None,
        max_size: int = 9,
        time_budget: float = 10.0,
        max_rows: int = 64,
        seed: int = 0,
    ) -> None:
        self.feature_names = feature_names
        self.max_size = max_size
        self.time_budget = time_budget
        self.max_rows = max_rows
        self.seed = seed

    def fit(self, X, y) -> IntegerRegressor:
        """Search for a formula giving ``y`` (n,) from the rows of ``X`` (n, k)."""
        deadline = time.perf_counter() + self.time_budget
        X, y = _check_ints(X, "X", 2), _check_ints(y, "y", 1)
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
        if X.shape[0] == 0:
            raise ValueError("empty table: no rows to fit")
        names = _check_names(self.feature_names, X.shape[1])
        X, y = _distinct_rows(X, y, names)
        X_all = X
        # Columns equal on every row (a state copied into the next one) are one feature to the
        # search; the first of them names it. Otherwise least squares splits the weight
        # between the copies and the formula comes out as (a + b) // 2.
        keep = np.sort(np.unique(X.T, axis=0, return_index=True)[1])
        X = X[:, keep]
        rng = np.random.default_rng(self.seed)
        rows = _sample_rows(X, y, self.max_rows, rng)

        values, counts = np.unique(y, return_counts=True)
        candidates = [_const(values[counts.argmax()])]  # the best constant heads the front
        best = _affine_formula(X, y, rows)
        if best is None:
            search = _Search(X, y, rows, self.max_size, deadline, rng)
            best = search.run()
            candidates += search.candidates
        if best is None:
            best = _decision_tree(X, y, candidates)
        if best is not None:
            candidates.append(best)

        candidates = [_remap(e, keep) for e in candidates]
        best = _remap(best, keep) if best is not None else None
        X = X_all
        front: list[tuple[int, float, Expr]] = []
        scored = [(e.size, float(np.mean(e.evaluate(X) != y)), e) for e in candidates]
        for size, error, expr in sorted(scored, key=lambda t: t[:2]):
            if not front or error < front[-1][1]:
                front.append((size, error, expr))
        self.n_features_in_ = X.shape[1]
        self.feature_names_ = names
        self.exact_ = best is not None
        self.expression_ = best.render(names) if best is not None else None
        self.size_ = best.size if best is not None else None
        self.pareto_ = [(size, error, expr.render(names)) for size, error, expr in front]
        # Without an exact formula, predict with the most accurate one found.
        self._expr = best if best is not None else front[-1][2]
        return self

    def predict(self, X) -> np.ndarray:
        """Evaluate the fitted formula on the rows of ``X``, vectorised with Python semantics."""
        if not hasattr(self, "exact_"):
            raise RuntimeError("IntegerRegressor is not fitted yet; call fit first")
        X = _check_ints(X, "X", 2)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} columns, the formula {self.n_features_in_}")
        return self._expr.evaluate(X)

    def score(self, X, y) -> float:
        """Fraction of rows of ``X`` on which the formula gives exactly ``y``."""
        return float(np.mean(self.predict(X) == _check_ints(y, "y", 1)))

    def __repr__(self) -> str:
        return (
            f"IntegerRegressor(feature_names={self.feature_names!r}, max_size={self.max_size!r}, "
            f"time_budget={self.time_budget!r}, max_rows={self.max_rows!r}, seed={self.seed!r})"
        )

    def __str__(self) -> str:
        if not hasattr(self, "exact_"):
            return repr(self)
        return self._expr.render(self.feature_names_)


def _check_ints(a, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.asarray(a, dtype=np.float64) % 1 == 0):
            raise ValueError(f"{name} must hold integers")
    return a.astype(np.int64)


def _check_names(feature_names: Sequence[str] | None, k: int) -> list[str]:
    names = [f"x{j}" for j in range(k)] if feature_names is None else list(feature_names)
    if len(names) != k:
        raise ValueError(f"{len(names)} feature names for {k} columns")
    for name in names:
        if (
            not name.isidentifier()
            or keyword.iskeyword(name)
            or name in ("abs", "min", "max", "int")
        ):
            raise ValueError(f"feature name {name!r} is not usable as a Python variable")
    if len(set(names)) != k:
        raise ValueError(f"feature names repeat: {names}")
    return names


def _distinct_rows(X: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicate rows; a row seen with two targets makes the table inconsistent."""
    rows, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    target = y[first]
    expected = target[inverse.reshape(-1)]
    clash = np.flatnonzero(expected != y)
    if clash.size:
        i = clash[0]
        row = ", ".join(f"{n}={v}" for n, v in zip(names, X[i], strict=True))
        raise ValueError(f"inconsistent table: row ({row}) maps to both {expected[i]} and {y[i]}")
    return rows, target


def _sample_rows(X: np.ndarray, y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices to search on: all if few, else every column's extremes plus a random sample."""
    n = X.shape[0]
    if n <= cap:
        return np.arange(n)
    table = np.column_stack([X, y])
    chosen = set(table.argmin(axis=0).tolist()) | set(table.argmax(axis=0).tolist())
    rest = np.setdiff1d(np.arange(n), list(chosen))
    extra = rng.choice(rest, size=max(0, cap - len(chosen)), replace=False)
    return np.sort(np.concatenate([list(chosen), extra]).astype(np.int64))


def _design(F: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(F.shape[0]), F]).astype(np.float64)


def _affine_formula(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Expr | None:
    """The affine formula with the fewest terms (then the fewest nodes) that fits every row."""
    k = X.shape[1]
    sizes = range(k + 1) if k <= _MAX_SUBSET_FEATURES else [0, 1, 2, k]
    F, t = X[rows], y[rows].astype(np.float64)
    for n_terms in sizes:
        found = []
        for subset in itertools.combinations(range(k), n_terms):
            coef = np.linalg.lstsq(_design(F[:, subset]), t, rcond=None)[0]
            expr = _rational_affine(coef, subset, X, y)
            if expr is not None:
                found.append(expr)
        if found:
            return min(found, key=lambda e: e.size)
    return None


def _rational_affine(coef: np.ndarray, subset: tuple[int, ...], X, y) -> Expr | None:
    """Round least-squares coefficients to integers over the smallest denominator d that works."""
    if not np.all(np.isfinite(coef)) or np.abs(coef).max() > _BOUND:
        return None
    d = 1
    for c in coef:
        d = math.lcm(d, Fraction(float(c)).limit_denominator(_MAX_DENOMINATOR).denominator)
    if d > _MAX_DENOMINATOR:
        return None
    scaled = np.rint(coef * d).astype(np.int64)
    if not np.allclose(scaled, coef * d, atol=1e-6):
        return None
    numerator = scaled[0] + X[:, list(subset)] @ scaled[1:]
    if not np.array_equal(numerator, d * y):
        return None
    terms = [(int(c), _var(j)) for c, j in zip(scaled[1:], subset, strict=True) if c]
    expr = _linear_combination(terms, int(scaled[0]))
    return expr if d == 1 else Expr("floordiv", (expr, _const(d)))


class _Timeout(Exception):
    """The time budget ran out."""


class _Restart(Exception):
    """A formula fit the search rows but not all rows; search again with these rows added."""

    def __init__(self, rows: np.ndarray) -> None:
        super().__init__()
        self.rows = rows


class _Search:
    """Bottom-up enumeration with observational equivalence, completions and counterexamples."""

    def __init__(self, X, y, rows, max_size: int, deadline: float, rng) -> None:
        self.X, self.y, self.rows = X, y, rows
        self.max_size, self.deadline, self.rng = max_size, deadline, rng
        hints, divisors = _hints(X, y, rows)
        # Larger leaves could wrap around int64 in a product and fake a match.
        leaves = [_var(j) for j in range(X.shape[1])] + hints
        self.leaf_exprs = [e for e in leaves if np.abs(e.evaluate(X)).max() <= _BOUND]
        self.constants = sorted(set(_constants(X, y) + divisors), key=lambda c: (abs(c), c < 0))
        self.codes = ["var", "const", *_SEARCH_OPERATORS]
        self.best: Expr | None = None
        self.best_size = 1 << 30  # nodes in `best`, kept apart as it is read for every block
        self.candidates: list[Expr] = []  # the most accurate expression of each size, per round
        self.polish_left = _POLISH_WORK

    def run(self) -> Expr | None:
        """Enumerate by size, restarting with more rows when a candidate fails on the rest."""
        for round_ in range(_MAX_ROUNDS):
            try:
                self._enumerate(may_restart=round_ < _MAX_ROUNDS - 1)
            except _Restart as restart:
                self.rows = np.union1d(self.rows, restart.rows)
                continue
            except _Timeout:
                pass
            break
        return self.best

    def _enumerate(self, may_restart: bool) -> None:
        F, y = self.X[self.rows], self.y[self.rows]
        self.F, self.t, self.R = F, y, len(self.rows)
        self.may_restart = may_restart
        self.binary = set(np.unique(y).tolist()) == {0, 1}
        self.most_accurate: dict[int, tuple[int, Expr]] = {}
        self.weights = self.rng.integers(0, 2**63, size=self.R, dtype=np.uint64) * 2 + 1
        self.seen: set[int] = set()
        self.cells = 0
        self._prepare_completions()

        # Leaves: the features, affine hints (one node here, their real size in results), literals.
        k = self.n_features = len(self.leaf_exprs)
        variables = [e.evaluate(F) for e in self.leaf_exprs]
        leaves = np.array(variables + [np.full(self.R, c) for c in self.constants], np.int64)
        self.values = {1: leaves}
        self.offsets = [0, 0]  # offsets[s]: first global id of size s
        self.node_codes = {1: np.array([0] * k + [1] * len(self.constants))}
        self.node_args = {1: np.zeros((len(leaves), 3), np.int64)}
        self.node_args[1][:, 0] = list(range(k)) + list(self.constants)
        self.seen.update((leaves.view(np.uint64) @ self.weights).tolist())
        self.divisors = np.array([k + i for i, c in enumerate(self.constants) if c >= 2], int)
        self.offsets.append(len(leaves))
        try:
            self._check(1, self.values[1], self._expr)
            for s in range(2, self.max_size + 1):
                if s >= self.best_size:
                    break
                self._level(s)
        finally:
            self.candidates += [e for _, e in self.most_accurate.values()]

    def _level(self, s: int) -> None:
        """Make every expression of size ``s``, cheapest operator groups first."""
        self.level_blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        groups = sorted(self._groups(s), key=lambda g: np.prod([len(i) for i in g[1]]))
        for op, operand_ids, triangular in groups:
            if s >= self.best_size:
                break
            if self.best is not None:
                work = int(np.prod([len(i) for i in operand_ids]))
                if work > self.polish_left:
                    break
                self.polish_left -= work
            self._run_group(s, op, operand_ids, triangular)
        self._close_level(s)

    def _prepare_completions(self) -> None:
        """A direction orthogonal to the affine functions of the features on the search rows."""
        A = _design(self.F)
        self.pinv = np.linalg.pinv(A)
        g = self.rng.standard_normal(self.R)
        r = g - A @ (self.pinv @ g)
        self.r_dot_y = float(r @ self.t)
        norm = np.linalg.norm(r)
        # No room beside the affine functions, or y is one of them: completions cannot help.
        if norm < 1e-9 or abs(self.r_dot_y) < 1e-9 * norm * (np.abs(self.t).max() + 1):
            self.projection = None
            return
        self.projection = np.column_stack([r, r[:, None] * self.F])  # a*e, then a*e*x_k

    def _ids(self, size: int, kind: str) -> np.ndarray:
        if size == 1:
            n_leaves = len(self.values[1])
            ids = {"any": np.arange(n_leaves), "nonconst": np.arange(self.n_features)}
            return ids.get(kind, self.divisors if kind == "divisor" else np.arange(0))
        ids = np.arange(self.offsets[size], self.offsets[size] + len(self.values.get(size, ())))
        if kind == "predicate":
            codes = [self.codes.index(n) for n in _SEARCH_OPERATORS if OPERATORS[n].predicate]
            ids = ids[np.isin(self.node_codes[size], codes)]
        return ids

    def _groups(self, s: int):
        """(operator, operand id arrays, triangular) blocks that make expressions of size ``s``."""
        for name in _SEARCH_OPERATORS:
            op = OPERATORS[name]
            if op.arity == 1:
                yield op, (self._ids(s - 1, "nonconst"),), False
            elif op.operands[1] == "divisor":
                if s >= 3:
                    yield op, (self._ids(s - 2, "nonconst"), self.divisors), False
            elif op.arity == 2:
                for i in range(1, s - 1):
                    j = s - 1 - i
                    if op.commutative and i > j:
                        continue
                    if i == j == 1:  # an operator on two literals only makes another literal
                        yield op, (self._ids(1, "nonconst"), self._ids(1, "any")), False
                        if not op.commutative:
                            consts = np.arange(self.n_features, len(self.values[1]))
                            yield op, (consts, self._ids(1, "nonconst")), False
                    else:
                        yield (
                            op,
                            (self._ids(i, "any"), self._ids(j, "any")),
                            op.commutative and i == j,
                        )
            else:
                for sc in range(3, s - 2):
                    for sa in range(1, s - 1 - sc):
                        sb = s - 1 - sc - sa
                        ids = (
                            self._ids(sc, "predicate"),
                            self._ids(sa, "any"),
                            self._ids(sb, "any"),
                        )
                        yield op, ids, False

    def _operand_values(self, ids: np.ndarray) -> np.ndarray:
        size = bisect.bisect_right(self.offsets, int(ids[0])) - 1
        local = ids - self.offsets[size]
        if local[-1] - local[0] + 1 == len(local):  # contiguous: a view, not a copy
            return self.values[size][local[0] : local[-1] + 1]
        return self.values[size][local]

    def _run_group(self, s: int, op: Operator, operand_ids, triangular: bool) -> None:
        counts = [len(ids) for ids in operand_ids]
        if 0 in counts:
            return
        values = [self._operand_values(ids) for ids in operand_ids]
        code = self.codes.index(op.name)
        for block in _blocks(counts, max(1, _BLOCK_CELLS // self.R)):
            if triangular and block[1].stop <= block[0].start:
                continue  # the mirror block was done; the operator is commutative
            args = []
            for i, (v, sl) in enumerate(zip(values, block, strict=True)):
                shape = [1] * len(block) + [self.R]
                shape[i] = sl.stop - sl.start
                args.append(v[sl].reshape(shape))
            V = op.function(*args).reshape(-1, self.R)
            children = [ids[sl] for ids, sl in zip(operand_ids, block, strict=True)]
            self._consider(s, V, code, children)
            if s >= self.best_size:
                return
            if time.perf_counter() > self.deadline:
                raise _Timeout

    def _consider(self, s: int, V: np.ndarray, code: int, children: list[np.ndarray]) -> None:
        """Keep the values not seen before, check them against the target, bank them."""
        hashes, first = np.unique(V.view(np.uint64) @ self.weights, return_index=True)
        hash_list = hashes.tolist()
        fresh = np.fromiter((h not in self.seen for h in hash_list), bool, len(hash_list))
        self.seen.update(hash_list)
        first = first[fresh]
        if not len(first):
            return
        V = V[first]
        small = np.abs(V).max(axis=1) <= _BOUND
        V, first = V[small], first[small]
        parts = np.unravel_index(first, [len(c) for c in children])
        args = np.full((len(first), 3), -1, np.int64)
        for i, (ids, part) in enumerate(zip(children, parts, strict=True)):
            args[:, i] = ids[part]
        self._check(s, V, lambda i: self._node(code, args[i]))
        if s < self.max_size and self.cells + V.size <= _BANK_CELLS:
            self.level_blocks.append((V, np.full(len(V), code), args))
            self.cells += V.size

    def _close_level(self, s: int) -> None:
        blocks = self.level_blocks or [
            (np.zeros((0, self.R), np.int64), np.zeros(0, int), np.zeros((0, 3), np.int64))
        ]
        self.values[s] = np.concatenate([b[0] for b in blocks])
        self.node_codes[s] = np.concatenate([b[1] for b in blocks])
        self.node_args[s] = np.concatenate([b[2] for b in blocks])
        self.offsets.append(self.offsets[s] + len(self.values[s]))

    def _expr(self, gid: int) -> Expr:
        """The expression behind a global id (ids run through the sizes in order)."""
        size = bisect.bisect_right(self.offsets, gid) - 1
        local = gid - self.offsets[size]
        return self._node(int(self.node_codes[size][local]), self.node_args[size][local])

    def _node(self, code: int, args: np.ndarray) -> Expr:
        """The expression with operator ``code`` over the global ids ``args``."""
        name = self.codes[code]
        if name == "var":
            return self.leaf_exprs[int(args[0])]
        if name == "const":
            return _const(args[0])
        return Expr(name, tuple(self._expr(int(a)) for a in args[: OPERATORS[name].arity]))

    def _check(self, s: int, V: np.ndarray, node: Callable[[int], Expr]) -> None:
        """Exact matches, completions and the most accurate expression of size ``s``."""
        errors = np.count_nonzero(V != self.t, axis=1)
        for i in np.flatnonzero(errors == 0):
            self._offer(node(i))
        i = int(errors.argmin())
        if errors[i] < self.most_accurate.get(s, (self.R + 1,))[0]:
            self.most_accurate[s] = (int(errors[i]), node(i))
        if s + 2 >= self.best_size:
            return
        if self.binary:
            self._complete_threshold(V, node)
        if self.projection is None:
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self.r_dot_y / (V.astype(np.float64) @ self.projection)
            a = np.rint(scale)
            hits = np.argwhere((np.abs(scale - a) < 1e-6) & (a != 0) & (np.abs(a) <= _MAX_SCALE))
        for i, col in hits[:64]:
            e = node(i) if col == 0 else Expr("mul", (node(i), _var(col - 1)))
            values = V[i] if col == 0 else V[i] * self.F[:, col - 1]
            self._complete_affine(e, int(a[i, col]), values)

    def _complete_affine(self, e: Expr, a: int, values: np.ndarray) -> None:
        """y = a*e + c0 + sum c_j x_j with integer c, solved on the search rows."""
        residual = self.t - a * values
        coef = np.rint(self.pinv @ residual).astype(np.int64)
        if not np.array_equal(coef[0] + self.F @ coef[1:], residual):
            return
        terms = [(a, e)] + [(int(c), _var(j)) for j, c in enumerate(coef[1:]) if c]
        self._offer(_linear_combination(terms, int(coef[0])))

    def _complete_threshold(self, V: np.ndarray, node) -> None:
        """y = int(e >= t), int(e <= t), int(e == t) or int(e != t), with t read off all rows."""
        pos = self.t == 1
        on, off = V[:, pos], V[:, ~pos]
        lo1, hi1, lo0, hi0 = on.min(1), on.max(1), off.min(1), off.max(1)
        found = (hi0 < lo1) | (hi1 < lo0)
        one = np.flatnonzero(lo1 == hi1)  # maybe int(e == t): no zero row may have e == t
        found[one] |= ~(off[one] == lo1[one, None]).any(axis=1)
        one = np.flatnonzero(lo0 == hi0)
        found[one] |= ~(on[one] == lo0[one, None]).any(axis=1)
        for i in np.flatnonzero(found)[:16]:
            e = node(i)
            values = e.evaluate(self.X)
            on_all, off_all = values[self.y == 1], values[self.y == 0]
            if off_all.max() < on_all.min():
                self._offer(Expr("ge", (e, _const(on_all.min()))))
            elif on_all.max() < off_all.min():
                self._offer(Expr("le", (e, _const(on_all.max()))))
            elif on_all.min() == on_all.max() and on_all.min() not in off_all:
                self._offer(Expr("eq", (e, _const(on_all.min()))))
            elif off_all.min() == off_all.max() and off_all.min() not in on_all:
                self._offer(Expr("ne", (e, _const(off_all.min()))))

    def _offer(self, expr: Expr) -> None:
        """Accept a candidate that beats the best and fits all rows; else learn from its misses."""
        if expr.size >= self.best_size:
            return
        wrong = np.flatnonzero(expr.evaluate(self.X) != self.y)
        if not len(wrong):
            self.best, self.best_size = expr, expr.size
        elif self.may_restart:
            take = min(_COUNTEREXAMPLES, len(wrong))
            raise _Restart(self.rng.choice(wrong, size=take, replace=False))


def _decision_tree(X: np.ndarray, y: np.ndarray, terms: list[Expr]) -> Expr | None:
    """Nested conditionals over simple comparisons, each leaf a term right on its rows.

    Divide and conquer, as in EUSolver: a case split such as "which count is largest, ties to
    the smallest" is too large for the enumeration (11+ nodes) but is a short tree of
    comparisons between features, or with small constants, over constant or single-feature
    leaves. Predicates are chosen greedily by the rows their two sides' best terms explain.
    """
    k = X.shape[1]
    values = np.unique(y)
    leaves = [_var(j) for j in range(k)] + [e for e in terms if e.size <= 5]
    leaves += [_const(v) for v in values] if len(values) <= 8 else []
    leaves = sorted(leaves, key=lambda e: e.size)
    right = np.array([e.evaluate(X) == y for e in leaves])  # (terms, rows)
    right_counts = right.astype(np.int32)
    preds = [Expr("lt", (_var(i), _var(j))) for i in range(k) for j in range(k) if i != j]
    preds += [Expr("lt", (_var(i), _const(c))) for i in range(k) for c in (-1, 0, 1, 2)]
    preds += [Expr("eq", (_var(i), _const(c))) for i in range(k) for c in (0, 1)]
    truth = np.array([p.evaluate(X) == 1 for p in preds])  # (predicates, rows)

    def build(mask: np.ndarray, depth: int) -> Expr | None:
        fits = np.flatnonzero(right[:, mask].all(axis=1))
        if len(fits):
            return leaves[fits[0]]
        if depth == 0:
            return None
        on, off = truth & mask, ~truth & mask
        useful = on.any(axis=1) & off.any(axis=1)
        score = (right_counts @ on.T).max(axis=0) + (right_counts @ off.T).max(axis=0)
        for i in np.argsort(-np.where(useful, score, -1), kind="stable")[:3]:
            if not useful[i]:
                break
            yes, no = build(on[i], depth - 1), build(off[i], depth - 1)
            if yes is not None and no is not None:
                return Expr("cond", (preds[i], yes, no))
        return None

    tree = build(np.ones(len(y), dtype=bool), _TREE_DEPTH)
    return tree if tree is not None and tree.size <= _MAX_TREE_SIZE else None


def _hints(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[list[Expr], list[int]]:
    """Affine combinations of several features that y may be a function of, and their divisors.

    Least squares of y on the features points along w when y = g(w.x) for a monotone-ish g
    (thresholds, floor division), up to a scale that suggests the divisor. When y lies in
    [0, m) for squarefree m, solving y = w.x + c over GF(p) for each prime p | m and joining the
    solutions by the Chinese remainder theorem gives y = (w.x + c) % m exactly, if it holds.
    """
    hints, divisors = [], []
    k = X.shape[1]
    coef = np.linalg.lstsq(_design(X[rows]), y[rows].astype(np.float64), rcond=None)[0][1:]
    top = np.abs(coef).max(initial=0.0)
    for q in range(1, 5) if top > 1e-9 else ():
        v = coef / top * q
        w = np.rint(v).astype(np.int64)
        if np.abs(v - w).max() < 0.2:
            if np.count_nonzero(w) >= 2:
                hints.append(
                    _linear_combination([(int(c), _var(j)) for j, c in enumerate(w) if c], 0)
                )
            d = q / top
            if 2 <= round(d) <= 1000 and abs(d - round(d)) < 0.05 * d:
                divisors.append(round(d))
            break

    m = int(y.max()) + 1
    factors = [p for p in range(2, m + 1) if m % p == 0 and all(p % f for f in range(2, p))]
    if y.min() >= 0 and 2 <= m <= 64 and math.prod(factors) == m:
        A = np.column_stack([X[rows], np.ones(len(rows), np.int64)])
        w, modulus = np.zeros(k + 1, np.int64), 1
        for p in factors:
            part = _solve_mod(A, y[rows], p)
            if part is None:
                return hints, divisors
            # Chinese remainder: keep w mod `modulus` and make it agree with `part` mod p.
            w = w + modulus * ((part - w) * pow(modulus, -1, p) % p)
            modulus *= p
        w = (w + m // 2) % m - m // 2  # the representatives of smallest magnitude
        if np.array_equal((X @ w[:k] + w[k]) % m, y) and np.count_nonzero(w) >= 2:
            terms = [(int(c), _var(j)) for j, c in enumerate(w[:k]) if c]
            hints.append(_linear_combination(terms, int(w[k])))
    return hints, divisors


def _solve_mod(A: np.ndarray, b: np.ndarray, p: int) -> np.ndarray | None:
    """One solution of ``A w = b`` over GF(p) (free unknowns 0), or None."""
    M = np.column_stack([A, b]) % p
    pivots: list[int] = []
    for c in range(A.shape[1]):
        r = len(pivots)
        nonzero = np.flatnonzero(M[r:, c])
        if r == len(M) or not len(nonzero):
            continue
        M[[r, r + nonzero[0]]] = M[[r + nonzero[0], r]]
        M[r] = M[r] * pow(int(M[r, c]), -1, p) % p
        M = (M - np.outer(np.where(np.arange(len(M)) == r, 0, M[:, c]), M[r])) % p
        pivots.append(c)
    if M[len(pivots) :, -1].any():
        return None
    w = np.zeros(A.shape[1], np.int64)
    w[pivots] = M[: len(pivots), -1]
    return w


def _constants(X: np.ndarray, y: np.ndarray) -> list[int]:
    """Small literals plus a few the data suggests: moduli, radices, and the range of y."""
    found = [-1, 0, 1, 2, 3, int(y.min()), int(y.max()), int(y.max()) + 1]
    found += [int(m) + 1 for m in X.max(axis=0)]
    step = math.gcd(*(y - y.min()).tolist())
    if step > 1:  # y on a grid, e.g. 2 * (x % 7): the step and the number of levels
        found += [step, int(y.max() - y.min()) // step + 1]
    return sorted({c for c in found if abs(c) <= 1000}, key=lambda c: (abs(c), c < 0))


def _blocks(counts: list[int], cells: int):
    """Slices, one per operand, tiling the operand product in blocks of at most ``cells``."""
    chunk = []
    for n in reversed(counts):
        chunk.append(max(1, min(n, cells)))
        cells = max(1, cells // chunk[-1])
    chunk.reverse()
    starts = [range(0, n, c) for n, c in zip(counts, chunk, strict=True)]
    for origin in itertools.product(*starts):
        yield tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, chunk, counts, strict=True))
