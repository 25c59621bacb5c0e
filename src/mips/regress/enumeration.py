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

# An operator group: the operator, one array of operand ids per operand, and whether only the
# upper triangle of the operand product is needed (a commutative operator on equal sizes).
Group = tuple[Operator, tuple[np.ndarray, ...], bool]


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

    def __init__(self, X, y, rows, max_size: int, budget: int, rng) -> None:
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

    def offer(self, expr: Expr, may_restart: bool) -> None:
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

    def add_level(self, s: int, blocks: list, n_rows: int) -> None:
        """Keep the (values, codes, args) blocks made at size ``s``."""
        blocks = blocks or [
            (np.zeros((0, n_rows), np.int64), np.zeros(0, int), np.zeros((0, 3), np.int64))
        ]
        self.values[s] = np.concatenate([b[0] for b in blocks])
        self.codes[s] = np.concatenate([b[1] for b in blocks])
        self.args[s] = np.concatenate([b[2] for b in blocks])
        self.offsets.append(self.offsets[s] + len(self.values[s]))

    def locate(self, gid: int) -> tuple[int, np.ndarray]:
        """The operator code and operand ids (or leaf index, or literal) behind a global id."""
        size = bisect.bisect_right(self.offsets, gid) - 1
        local = gid - self.offsets[size]
        return int(self.codes[size][local]), self.args[size][local]


class _Round:
    """One pass of the enumeration over the current search rows; a restart begins a new one."""

    def __init__(self, search: Search, may_restart: bool) -> None:
        self.search, self.may_restart = search, may_restart
        self.F, self.t = search.X[search.rows], search.y[search.rows]
        self.R = len(search.rows)
        self.binary = set(np.unique(self.t).tolist()) == {0, 1}
        self.most_accurate: dict[int, tuple[int, Expr]] = {}
        self.weights = search.rng.integers(0, 2**63, size=self.R, dtype=np.uint64) * 2 + 1
        self.pinv, self.r_dot_y, self.projection = _completion_basis(self.F, self.t, search.rng)
        # Leaves: the features, affine hints (one node here, their real size in results), literals.
        variables = [e.evaluate(self.F) for e in search.leaf_exprs]
        literals = [np.full(self.R, c) for c in search.constants]
        leaves = np.array(variables + literals, np.int64)
        self.bank = _Bank(leaves, len(search.leaf_exprs), search.constants)
        self.seen: set[int] = set((leaves.view(np.uint64) @ self.weights).tolist())

    def run(self) -> None:
        """Check the leaves, then make every size up to the limit or the best formula's size."""
        try:
            self._check(1, self.bank.values[1], self._expr)
            for s in range(2, self.search.max_size + 1):
                if s >= self.search.best_size:
                    break
                self._level(s)
        finally:
            self.search.candidates += [e for _, e in self.most_accurate.values()]

    def _level(self, s: int) -> None:
        """Make every expression of size ``s``, cheapest operator groups first."""
        search, blocks = self.search, []
        groups = sorted(self._groups(s), key=lambda g: np.prod([len(i) for i in g[1]]))
        for op, operand_ids, triangular in groups:
            if s >= search.best_size:
                break
            if search.best is not None:
                work = int(np.prod([len(i) for i in operand_ids]))
                if work > search.polish_left:
                    break
                search.polish_left -= work
            self._run_group(s, op, operand_ids, triangular, blocks)
        self.bank.add_level(s, blocks, self.R)

    def _groups(self, s: int) -> Iterator[Group]:
        """The operator groups that make expressions of size ``s``."""
        ids = self.bank.ids
        for name in SEARCH_OPERATORS:
            op = OPERATORS[name]
            if op.arity == 1:
                yield op, (ids(s - 1, "nonconst"),), False
            elif op.operands[1] == "divisor":
                if s >= 3:
                    yield op, (ids(s - 2, "nonconst"), self.bank.divisors), False
            elif op.arity == 2:
                yield from self._binary_groups(op, s)
            else:
                for sc in range(3, s - 2):
                    for sa in range(1, s - 1 - sc):
                        sb = s - 1 - sc - sa
                        yield op, (ids(sc, "predicate"), ids(sa, "any"), ids(sb, "any")), False

    def _binary_groups(self, op: Operator, s: int) -> Iterator[Group]:
        """Groups of a binary operator over operand sizes i + j = s - 1."""
        ids = self.bank.ids
        for i in range(1, s - 1):
            j = s - 1 - i
            if op.commutative and i > j:
                continue
            if i == j == 1:  # an operator on two literals only makes another literal
                yield op, (ids(1, "nonconst"), ids(1, "any")), False
                if not op.commutative:
                    literals = np.arange(self.bank.n_features, len(self.bank.values[1]))
                    yield op, (literals, ids(1, "nonconst")), False
            else:
                yield op, (ids(i, "any"), ids(j, "any")), op.commutative and i == j

    def _run_group(self, s: int, op: Operator, operand_ids, triangular: bool, blocks) -> None:
        """Apply ``op`` to the operand product block by block, keeping what is new."""
        counts = [len(ids) for ids in operand_ids]
        if 0 in counts:
            return
        values = [self.bank.operand_values(ids) for ids in operand_ids]
        code = CODES.index(op.name)
        for block in _blocks(counts, max(1, BLOCK_CELLS // self.R)):
            if triangular and block[1].stop <= block[0].start:
                continue  # the mirror block was done; the operator is commutative
            cells = self.R * int(np.prod([sl.stop - sl.start for sl in block]))
            if self.search.cells + cells > self.search.budget:
                raise Exhausted
            self.search.cells += cells
            args = []
            for i, (v, sl) in enumerate(zip(values, block, strict=True)):
                shape = [1] * len(block) + [self.R]
                shape[i] = sl.stop - sl.start
                args.append(v[sl].reshape(shape))
            V = op.function(*args).reshape(-1, self.R)
            if op.name == "floordiv":
                # A divisor above every value it divides only tells the sign apart on the data;
                # past the observed range the staircase steps again where no observation says
                # it does. Such quotients are dropped (BOUND + 1 is filtered out as too large).
                sign_only = np.abs(args[0]).max(axis=-1) < args[1].max(axis=-1)
                V[sign_only.reshape(-1)] = BOUND + 1
            children = [ids[sl] for ids, sl in zip(operand_ids, block, strict=True)]
            self._consider(s, V, code, children, blocks)
            if s >= self.search.best_size:
                return

    def _consider(self, s: int, V: np.ndarray, code: int, children: list, blocks: list) -> None:
        """Keep the values not seen before, check them against the target, bank them."""
        hashes, first = np.unique(V.view(np.uint64) @ self.weights, return_index=True)
        hash_list = hashes.tolist()
        fresh = np.fromiter((h not in self.seen for h in hash_list), bool, len(hash_list))
        self.seen.update(hash_list)
        first = first[fresh]
        if not len(first):
            return
        V = V[first]
        small = np.abs(V).max(axis=1) <= BOUND
        V, first = V[small], first[small]
        if not len(first):
            return
        parts = np.unravel_index(first, [len(c) for c in children])
        args = np.full((len(first), 3), -1, np.int64)
        for i, (ids, part) in enumerate(zip(children, parts, strict=True)):
            args[:, i] = ids[part]
        self._check(s, V, lambda i: self._node(code, args[i]))
        if s < self.search.max_size and self.bank.cells + V.size <= BANK_CELLS:
            blocks.append((V, np.full(len(V), code), args))
            self.bank.cells += V.size

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

    def _check(self, s: int, V: np.ndarray, node: Callable[[int], Expr]) -> None:
        """Exact matches, completions and the most accurate expression of size ``s``."""
        errors = np.count_nonzero(V != self.t, axis=1)
        for i in np.flatnonzero(errors == 0):
            self.search.offer(node(i), self.may_restart)
        i = int(errors.argmin())
        if errors[i] < self.most_accurate.get(s, (self.R + 1,))[0]:
            self.most_accurate[s] = (int(errors[i]), node(i))
        if s + 2 >= self.search.best_size:
            return
        if self.binary:
            self._complete_threshold(V, node)
        if self.projection is None:
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self.r_dot_y / (V.astype(np.float64) @ self.projection)
            a = np.rint(scale)
            hits = np.argwhere((np.abs(scale - a) < 1e-6) & (a != 0) & (np.abs(a) <= MAX_SCALE))
        for i, col in hits[:64]:
            e = node(i) if col == 0 else Expr("mul", (node(i), var(col - 1)))
            values = V[i] if col == 0 else V[i] * self.F[:, col - 1]
            self._complete_affine(e, int(a[i, col]), values)

    def _complete_affine(self, e: Expr, a: int, values: np.ndarray) -> None:
        """y = a*e + c0 + sum c_j x_j with integer c, solved on the search rows."""
        residual = self.t - a * values
        coef = np.rint(self.pinv @ residual).astype(np.int64)
        if not np.array_equal(coef[0] + self.F @ coef[1:], residual):
            return
        terms = [(a, e)] + [(int(c), var(j)) for j, c in enumerate(coef[1:]) if c]
        self.search.offer(linear_combination(terms, int(coef[0])), self.may_restart)

    def _complete_threshold(self, V: np.ndarray, node: Callable[[int], Expr]) -> None:
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
            threshold = _threshold(node(i), self.search.X, self.search.y)
            if threshold is not None:
                self.search.offer(threshold, self.may_restart)


def _threshold(e: Expr, X: np.ndarray, y: np.ndarray) -> Expr | None:
    """``int(e >= t)`` (or <=, ==, !=) giving the 0/1 target ``y`` on all rows, if one does."""
    values = e.evaluate(X)
    on_all, off_all = values[y == 1], values[y == 0]
    if off_all.max() < on_all.min():
        return Expr("ge", (e, const(on_all.min())))
    if on_all.max() < off_all.min():
        return Expr("le", (e, const(on_all.max())))
    if on_all.min() == on_all.max() and on_all.min() not in off_all:
        return Expr("eq", (e, const(on_all.min())))
    if off_all.min() == off_all.max() and off_all.min() not in on_all:
        return Expr("ne", (e, const(off_all.min())))
    return None


def _completion_basis(F: np.ndarray, t: np.ndarray, rng: np.random.Generator):
    """(pinv of the design, r.t, projection): r is orthogonal to the affine functions of F.

    The projection is None when there is no room beside the affine functions or t is one of
    them: completions cannot help then.
    """
    A = design(F)
    pinv = np.linalg.pinv(A)
    g = rng.standard_normal(len(t))
    r = g - A @ (pinv @ g)
    r_dot_y = float(r @ t)
    norm = np.linalg.norm(r)
    if norm < 1e-9 or abs(r_dot_y) < 1e-9 * norm * (np.abs(t).max() + 1):
        return pinv, r_dot_y, None
    return pinv, r_dot_y, np.column_stack([r, r[:, None] * F])  # a*e, then a*e*x_k


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
