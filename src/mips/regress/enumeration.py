"""Bottom-up enumeration of integer expressions by size, with observational equivalence.

The leaves are the features, a few affine combinations the data points to (see
``affine.hints``) and a few constants. Expressions are made by size, cheapest operator groups
first; two with the same values on the search rows are one. Each new expression ``e`` is also
tried as the core of a completion whose constants come from the data: ``a*e + affine``,
``a*e*x_k + affine`` (a projection test, then an exact integer solve) and, for 0/1 targets,
``int(e >= t)``, ``int(e <= t)``, ``int(e == t)``, ``int(e != t)``.

Search runs on a capped sample of the distinct rows; a formula that fails on the rest adds the rows
it gets wrong to the sample and starts a new round (counterexample-guided), a few times at most.

The search is bounded by work, not time: a budget of cells, one cell being one candidate
expression evaluated on one search row, shared by all rounds. A block of candidates is evaluated
only when its cells fit in what is left, so the same table, rows, seed and budget give the same
formula on any machine and at any load.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from mips.regress.affine import BOUND, constants, design, hints
from mips.regress.expr import Expr, const, linear_combination, var
from mips.regress.operators import OPERATORS, Operator

SEARCH_OPERATORS = (
    "add", "sub", "mul", "floordiv", "mod", "neg", "abs",
    "min", "max", "lt", "le", "eq", "ne", "cond",
)  # fmt: skip
# How the bank names what made a node: a leaf feature, a literal, or an operator.
CODES = ("var", "const", *SEARCH_OPERATORS)
_PREDICATE_CODES = [CODES.index(n) for n in SEARCH_OPERATORS if OPERATORS[n].predicate]

# Cells (expressions x search rows) computed per numpy block, and kept in the bank in all.
BLOCK_CELLS = 1 << 20
BANK_CELLS = 25_000_000
# Once a formula is known, smaller ones are still sought, within this many more candidates.
POLISH_WORK = 1_000_000
MAX_ROUNDS = 6
COUNTEREXAMPLES = 8
MAX_SCALE = 16  # largest |a| in a completion a*e + affine


@dataclass(frozen=True)
class _Group:
    """An operator and the candidates for each of its operands (global ids in the bank)."""

    operator: Operator
    operand_ids: tuple[np.ndarray, ...]
    # Only the upper triangle of the operand product: a commutative operator on equal sizes.
    triangular: bool = False

    @property
    def work(self) -> int:
        """The number of expressions the group makes (one per operand combination)."""
        return int(np.prod([len(ids) for ids in self.operand_ids]))


@dataclass(frozen=True)
class _Completion:
    """What completions ``a*e + affine`` are solved with on the search rows: the pseudo-inverse
    of the affine design, a direction ``r`` orthogonal to every affine function of the features,
    ``r . target``, and the projections onto ``r`` that reveal ``a`` (None when completions
    cannot help)."""

    pinv: np.ndarray
    r_dot_target: float
    projection: np.ndarray | None


class Exhausted(Exception):
    """The next block of candidates does not fit in the work budget left."""


class Restart(Exception):
    """A formula fit the search rows but not all rows; search again with these rows added."""

    def __init__(self, rows: np.ndarray) -> None:
        super().__init__()
        self.rows = rows


class Search:
    """Bottom-up enumeration with observational equivalence, completions and counterexamples.

    ``best`` is the smallest formula found that fits every row; ``candidates`` the most accurate
    expression of each size, per round, for the Pareto front and the decision tree. ``budget``
    is the number of cells (candidate expressions times search rows) all rounds may evaluate;
    ``cells`` counts those evaluated and ``exhausted`` says whether the budget stopped the search.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        rows: np.ndarray,
        max_size: int,
        budget: int,
        rng: np.random.Generator,
    ) -> None:
        if budget < 0:
            raise ValueError(f"the work budget must be at least 0 cells, got {budget}")
        self.X, self.y, self.rows = X, y, rows
        self.max_size, self.budget, self.rng = max_size, budget, rng
        self.cells = 0
        self.exhausted = False
        found, divisors = hints(X, y, rows)
        # Larger leaves could wrap around int64 in a product and fake a match.
        leaves = [var(j) for j in range(X.shape[1])] + found
        self.leaf_exprs = [e for e in leaves if np.abs(e.evaluate(X)).max() <= BOUND]
        self.constants = sorted(set(constants(X, y) + divisors), key=lambda c: (abs(c), c < 0))
        self.best: Expr | None = None
        self.best_size = 1 << 30  # nodes in `best`, kept apart as it is read for every block
        self.candidates: list[Expr] = []
        self.polish_left = POLISH_WORK

    def run(self) -> Expr | None:
        """Enumerate by size, restarting with more rows when a candidate fails on the rest."""
        for round_ in range(MAX_ROUNDS):
            try:
                _Round(self, may_restart=round_ < MAX_ROUNDS - 1).run()
            except Restart as restart:
                self.rows = np.union1d(self.rows, restart.rows)
                continue
            except Exhausted:
                self.exhausted = True
            break
        return self.best

    def offer(self, expr: Expr, *, may_restart: bool) -> None:
        """Accept a candidate that beats the best and fits all rows; else learn from its misses."""
        if expr.size >= self.best_size:
            return
        wrong = np.flatnonzero(expr.evaluate(self.X) != self.y)
        if not len(wrong):
            self.best, self.best_size = expr, expr.size
        elif may_restart:
            take = min(COUNTEREXAMPLES, len(wrong))
            raise Restart(self.rng.choice(wrong, size=take, replace=False))


class _Bank:
    """The expressions kept in a round, by size: values on the search rows and how each was made.

    Global ids run through the sizes in order; ``offsets[s]`` is the first id of size ``s``.
    """

    def __init__(self, leaves: np.ndarray, n_features: int, literals: list[int]) -> None:
        self.n_features = n_features
        self.values = {1: leaves}
        self.codes = {1: np.array([0] * n_features + [1] * len(literals))}
        self.args = {1: np.zeros((len(leaves), 3), np.int64)}
        self.args[1][:, 0] = list(range(n_features)) + list(literals)
        self.offsets = [0, 0, len(leaves)]
        self.divisors = np.array([n_features + i for i, c in enumerate(literals) if c >= 2], int)
        self.cells = 0

    def ids(self, size: int, kind: str) -> np.ndarray:
        """Global ids of the kept expressions of ``size`` that may fill an operand of ``kind``."""
        if size == 1:
            ids = {"any": np.arange(len(self.values[1])), "nonconst": np.arange(self.n_features)}
            return ids.get(kind, self.divisors if kind == "divisor" else np.arange(0))
        ids = np.arange(self.offsets[size], self.offsets[size] + len(self.values.get(size, ())))
        if kind == "predicate":
            ids = ids[np.isin(self.codes[size], _PREDICATE_CODES)]
        return ids

    def operand_values(self, ids: np.ndarray) -> np.ndarray:
        """Values of the expressions ``ids`` (all of one size), one row each."""
        size = bisect.bisect_right(self.offsets, int(ids[0])) - 1
        local = ids - self.offsets[size]
        if local[-1] - local[0] + 1 == len(local):  # contiguous: a view, not a copy
            return self.values[size][local[0] : local[-1] + 1]
        return self.values[size][local]

    def add_level(self, size: int, blocks: list, n_rows: int) -> None:
        """Keep the (values, codes, args) blocks made at ``size``."""
        blocks = blocks or [
            (np.zeros((0, n_rows), np.int64), np.zeros(0, int), np.zeros((0, 3), np.int64))
        ]
        self.values[size] = np.concatenate([b[0] for b in blocks])
        self.codes[size] = np.concatenate([b[1] for b in blocks])
        self.args[size] = np.concatenate([b[2] for b in blocks])
        self.offsets.append(self.offsets[size] + len(self.values[size]))

    def locate(self, gid: int) -> tuple[int, np.ndarray]:
        """The operator code and operand ids (or leaf index, or literal) behind a global id."""
        size = bisect.bisect_right(self.offsets, gid) - 1
        local = gid - self.offsets[size]
        return int(self.codes[size][local]), self.args[size][local]


class _Round:
    """One pass of the enumeration over the current search rows; a restart begins a new one."""

    def __init__(self, search: Search, *, may_restart: bool) -> None:
        self.search, self.may_restart = search, may_restart
        self.features, self.target = search.X[search.rows], search.y[search.rows]
        self.n_rows = len(search.rows)
        self.binary = set(np.unique(self.target).tolist()) == {0, 1}
        self.most_accurate: dict[int, tuple[int, Expr]] = {}
        self.weights = search.rng.integers(0, 2**63, size=self.n_rows, dtype=np.uint64) * 2 + 1
        self.completion = _completion(self.features, self.target, search.rng)
        # Leaves: the features, affine hints (one node here, their real size in results), literals.
        variables = [e.evaluate(self.features) for e in search.leaf_exprs]
        literals = [np.full(self.n_rows, c) for c in search.constants]
        leaves = np.array(variables + literals, np.int64)
        self.bank = _Bank(leaves, len(search.leaf_exprs), search.constants)
        self.seen: set[int] = set((leaves.view(np.uint64) @ self.weights).tolist())

    def run(self) -> None:
        """Check the leaves, then make every size up to the limit or the best formula's size."""
        try:
            self._check(1, self.bank.values[1], self._expr)
            for size in range(2, self.search.max_size + 1):
                if size >= self.search.best_size:
                    break
                self._level(size)
        finally:
            self.search.candidates += [e for _, e in self.most_accurate.values()]

    def _level(self, size: int) -> None:
        """Make every expression of ``size``, cheapest operator groups first."""
        search, blocks = self.search, []
        for group in sorted(self._groups(size), key=lambda g: g.work):
            if size >= search.best_size:
                break
            if search.best is not None:
                if group.work > search.polish_left:
                    break
                search.polish_left -= group.work
            self._run_group(size, group, blocks)
        self.bank.add_level(size, blocks, self.n_rows)

    def _groups(self, size: int) -> Iterator[_Group]:
        """The operator groups that make expressions of ``size``."""
        ids = self.bank.ids
        for name in SEARCH_OPERATORS:
            op = OPERATORS[name]
            if op.arity == 1:
                yield _Group(op, (ids(size - 1, "nonconst"),))
            elif op.operands[1] == "divisor":
                if size >= 3:
                    yield _Group(op, (ids(size - 2, "nonconst"), self.bank.divisors))
            elif op.arity == 2:
                yield from self._binary_groups(op, size)
            else:
                for sc in range(3, size - 2):
                    for sa in range(1, size - 1 - sc):
                        sb = size - 1 - sc - sa
                        yield _Group(op, (ids(sc, "predicate"), ids(sa, "any"), ids(sb, "any")))

    def _binary_groups(self, op: Operator, size: int) -> Iterator[_Group]:
        """Groups of a binary operator over operand sizes i + j = size - 1."""
        ids = self.bank.ids
        for i in range(1, size - 1):
            j = size - 1 - i
            if op.commutative and i > j:
                continue
            if i == j == 1:  # an operator on two literals only makes another literal
                yield _Group(op, (ids(1, "nonconst"), ids(1, "any")))
                if not op.commutative:
                    literals = np.arange(self.bank.n_features, len(self.bank.values[1]))
                    yield _Group(op, (literals, ids(1, "nonconst")))
            else:
                yield _Group(op, (ids(i, "any"), ids(j, "any")), op.commutative and i == j)

    def _run_group(self, size: int, group: _Group, blocks: list) -> None:
        """Apply the group's operator to its operand product block by block, keeping what is
        new."""
        op, operand_ids = group.operator, group.operand_ids
        counts = [len(ids) for ids in operand_ids]
        if 0 in counts:
            return
        operands = [self.bank.operand_values(ids) for ids in operand_ids]
        code = CODES.index(op.name)
        for block in _blocks(counts, max(1, BLOCK_CELLS // self.n_rows)):
            if group.triangular and block[1].stop <= block[0].start:
                continue  # the mirror block was done; the operator is commutative
            cells = self.n_rows * int(np.prod([sl.stop - sl.start for sl in block]))
            if self.search.cells + cells > self.search.budget:
                raise Exhausted
            self.search.cells += cells
            args = []
            for i, (operand, sl) in enumerate(zip(operands, block, strict=True)):
                shape = [1] * len(block) + [self.n_rows]
                shape[i] = sl.stop - sl.start
                args.append(operand[sl].reshape(shape))
            values = op.function(*args).reshape(-1, self.n_rows)
            if op.name == "floordiv":
                # A divisor above every value it divides only tells the sign apart on the data;
                # past the observed range the staircase steps again where no observation says
                # it does. Such quotients are dropped (BOUND + 1 is filtered out as too large).
                sign_only = np.abs(args[0]).max(axis=-1) < args[1].max(axis=-1)
                values[sign_only.reshape(-1)] = BOUND + 1
            children = [ids[sl] for ids, sl in zip(operand_ids, block, strict=True)]
            self._consider(size, values, code, children, blocks)
            if size >= self.search.best_size:
                return

    def _consider(
        self, size: int, values: np.ndarray, code: int, children: list, blocks: list
    ) -> None:
        """Keep the values not seen before, check them against the target, bank them."""
        hashes, first = np.unique(values.view(np.uint64) @ self.weights, return_index=True)
        hash_list = hashes.tolist()
        fresh = np.fromiter((h not in self.seen for h in hash_list), bool, len(hash_list))
        self.seen.update(hash_list)
        first = first[fresh]
        if not len(first):
            return
        values = values[first]
        small = np.abs(values).max(axis=1) <= BOUND
        values, first = values[small], first[small]
        if not len(first):
            return
        parts = np.unravel_index(first, [len(c) for c in children])
        args = np.full((len(first), 3), -1, np.int64)
        for i, (ids, part) in enumerate(zip(children, parts, strict=True)):
            args[:, i] = ids[part]
        self._check(size, values, lambda i: self._node(code, args[i]))
        if size < self.search.max_size and self.bank.cells + values.size <= BANK_CELLS:
            blocks.append((values, np.full(len(values), code), args))
            self.bank.cells += values.size

    def _expr(self, gid: int) -> Expr:
        """The expression behind a global id."""
        return self._node(*self.bank.locate(gid))

    def _node(self, code: int, args: np.ndarray) -> Expr:
        """The expression with operator ``code`` over the global ids ``args``."""
        name = CODES[code]
        if name == "var":
            return self.search.leaf_exprs[int(args[0])]
        if name == "const":
            return const(args[0])
        return Expr(name, tuple(self._expr(int(a)) for a in args[: OPERATORS[name].arity]))

    def _check(self, size: int, values: np.ndarray, node: Callable[[int], Expr]) -> None:
        """Exact matches, completions and the most accurate expression of ``size``."""
        errors = np.count_nonzero(values != self.target, axis=1)
        for i in np.flatnonzero(errors == 0):
            self.search.offer(node(i), may_restart=self.may_restart)
        i = int(errors.argmin())
        if errors[i] < self.most_accurate.get(size, (self.n_rows + 1,))[0]:
            self.most_accurate[size] = (int(errors[i]), node(i))
        if size + 2 >= self.search.best_size:
            return
        if self.binary:
            self._complete_threshold(values, node)
        completion = self.completion
        if completion.projection is None:
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = completion.r_dot_target / (values.astype(np.float64) @ completion.projection)
            a = np.rint(scale)
            hits = np.argwhere((np.abs(scale - a) < 1e-6) & (a != 0) & (np.abs(a) <= MAX_SCALE))
        for i, col in hits[:64]:
            expr = node(i) if col == 0 else Expr("mul", (node(i), var(col - 1)))
            core = values[i] if col == 0 else values[i] * self.features[:, col - 1]
            self._complete_affine(expr, int(a[i, col]), core)

    def _complete_affine(self, expr: Expr, scale: int, values: np.ndarray) -> None:
        """y = scale*expr + c0 + sum c_j x_j with integer c, solved on the search rows; ``values``
        are the expression's on those rows."""
        residual = self.target - scale * values
        coef = np.rint(self.completion.pinv @ residual).astype(np.int64)
        if not np.array_equal(coef[0] + self.features @ coef[1:], residual):
            return
        terms = [(scale, expr)] + [(int(c), var(j)) for j, c in enumerate(coef[1:]) if c]
        self.search.offer(linear_combination(terms, int(coef[0])), may_restart=self.may_restart)

    def _complete_threshold(self, values: np.ndarray, node: Callable[[int], Expr]) -> None:
        """y = int(e >= t), int(e <= t), int(e == t) or int(e != t), with t read off all rows."""
        pos = self.target == 1
        on, off = values[:, pos], values[:, ~pos]
        lo1, hi1, lo0, hi0 = on.min(1), on.max(1), off.min(1), off.max(1)
        found = (hi0 < lo1) | (hi1 < lo0)
        one = np.flatnonzero(lo1 == hi1)  # maybe int(e == t): no zero row may have e == t
        found[one] |= ~(off[one] == lo1[one, None]).any(axis=1)
        one = np.flatnonzero(lo0 == hi0)
        found[one] |= ~(on[one] == lo0[one, None]).any(axis=1)
        for i in np.flatnonzero(found)[:16]:
            threshold = _threshold(node(i), self.search.X, self.search.y)
            if threshold is not None:
                self.search.offer(threshold, may_restart=self.may_restart)


def _threshold(expr: Expr, X: np.ndarray, y: np.ndarray) -> Expr | None:
    """``int(expr >= t)`` (or <=, ==, !=) giving the 0/1 target ``y`` on all rows, if one does."""
    values = expr.evaluate(X)
    on_all, off_all = values[y == 1], values[y == 0]
    if off_all.max() < on_all.min():
        return Expr("ge", (expr, const(on_all.min())))
    if on_all.max() < off_all.min():
        return Expr("le", (expr, const(on_all.max())))
    if on_all.min() == on_all.max() and on_all.min() not in off_all:
        return Expr("eq", (expr, const(on_all.min())))
    if off_all.min() == off_all.max() and off_all.min() not in on_all:
        return Expr("ne", (expr, const(off_all.min())))
    return None


def _completion(features: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> _Completion:
    """How completions are solved on the search rows (``features``, ``target``).

    The projection is None when there is no room beside the affine functions or the target is
    one of them: completions cannot help then.
    """
    affine = design(features)
    pinv = np.linalg.pinv(affine)
    noise = rng.standard_normal(len(target))
    r = noise - affine @ (pinv @ noise)  # orthogonal to every affine function of the features
    r_dot_target = float(r @ target)
    norm = np.linalg.norm(r)
    if norm < 1e-9 or abs(r_dot_target) < 1e-9 * norm * (np.abs(target).max() + 1):
        return _Completion(pinv, r_dot_target, None)
    # a*e, then a*e*x_k
    return _Completion(pinv, r_dot_target, np.column_stack([r, r[:, None] * features]))


def _blocks(counts: list[int], cells: int) -> Iterator[tuple[slice, ...]]:
    """Slices, one per operand, tiling the operand product in blocks of at most ``cells``."""
    chunk = []
    for n in reversed(counts):
        chunk.append(max(1, min(n, cells)))
        cells = max(1, cells // chunk[-1])
    chunk.reverse()
    starts = [range(0, n, c) for n, c in zip(counts, chunk, strict=True)]
    for origin in itertools.product(*starts):
        yield tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, chunk, counts, strict=True))
