"""Program IR: state variables with initial values, one update per variable, one formula per output.

A formula is an expression tree (``mips.regress.expr.Expr``) over its features, or a lookup table
for a variable no regressor explained; a program with any table has form ``table``. The IR runs
itself by evaluating its trees; ``mips.emit`` renders it as Python source, and verification checks
the two against each other.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mips.regress.expr import Expr

Row = tuple[int, ...]
# The words of each input or output column, in code order; None for an integer column.
Words = tuple[tuple[str, ...] | None, ...]


@dataclass(frozen=True)
class Formula:
    """``target = expr`` over ``features`` (column j of the tree is ``features[j]``); or, when
    ``table`` is set, a lookup on them.

    ``size`` is what regression compared formulas by (nodes of the tree, or of the Python syntax
    of a Boolean formula; entries of a table); by default the tree's nodes or the table's entries.
    """

    target: str
    features: tuple[str, ...]
    _: KW_ONLY
    expr: Expr | None = None
    table: tuple[tuple[Row, int], ...] | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if (self.expr is None) == (self.table is None):
            raise ValueError(f"{self.target}: give exactly one of expr and table")
        if self.expr is not None and any(
            not 0 <= j < len(self.features) for j in self.expr.variables()
        ):
            raise ValueError(f"{self.target}: the expression reads a column beyond its features")
        if self.table is not None and any(len(row) != len(self.features) for row, _ in self.table):
            raise ValueError(f"{self.target}: table rows must have one value per feature")
        if self.size is None:
            size = self.expr.size if self.expr is not None else len(self.table)
            object.__setattr__(self, "size", size)

    @property
    def is_table(self) -> bool:
        """Whether the formula is a lookup table rather than an expression."""
        return self.table is not None

    def reads(self) -> set[str]:
        """The features this formula actually uses (a regressor may be offered more)."""
        if self.expr is None:
            return set(self.features)
        return {self.features[j] for j in self.expr.variables()}

    def without_features(self, dropped: set[str]) -> Formula:
        """The same formula over its features minus ``dropped``, none of which it reads."""
        if dropped & self.reads():
            raise ValueError(f"{self.target} reads {sorted(dropped & self.reads())}")
        kept = [j for j, n in enumerate(self.features) if n not in dropped]
        features = tuple(self.features[j] for j in kept)
        if self.expr is None:
            return replace(self, features=features)
        columns = np.full(len(self.features), -1)
        columns[kept] = np.arange(len(kept))
        return replace(self, features=features, expr=self.expr.remap(columns))


@dataclass(frozen=True, kw_only=True)
class Program:
    """A causal program: for each step, new state from (state, input), outputs from all three."""

    inputs: tuple[str, ...]
    state: tuple[str, ...]
    initial: tuple[int, ...]
    updates: tuple[Formula, ...]
    outputs: tuple[Formula, ...]
    # Columns of words (data with a vocabulary): the formulas work on the codes, the emitted
    # program takes and returns the words. Empty: every column is integer.
    words_in: Words = ()
    words_out: Words = ()
    # A Mealy table over words (one state variable, looked up by state and inputs): the name of
    # each state code. ``unseen`` says what its program does on a (state, input) its table lacks:
    # "error" raises UnseenStep, "keep" keeps the state and answers None, any other text keeps
    # the state and answers that text.
    state_names: tuple[str, ...] = ()
    unseen: str = "error"

    def __post_init__(self) -> None:
        if self.state_names and (
            len(self.state) != 1 or len(set(self.state_names)) != len(self.state_names)
        ):
            raise ValueError("state names need one state variable and distinct names")
        for words, cols in ((self.words_in, self.inputs), (self.words_out, self.outputs)):
            if words and len(words) != len(cols):
                raise ValueError(f"{len(words)} vocabularies for {len(cols)} columns")
        if len(self.state) != len(self.initial) or len(self.state) != len(self.updates):
            raise ValueError("state, initial and updates must have one entry per state variable")
        names = set(self.inputs) | set(self.state) | {new_name(s) for s in self.state}
        for f in (*self.updates, *self.outputs):
            unknown = set(f.features) - names
            if unknown:
                raise ValueError(f"{f.target} reads unknown names {sorted(unknown)}")

    @property
    def form(self) -> str:
        """``formula`` when every variable has a formula, else ``table``."""
        return "table" if any(f.is_table for f in (*self.updates, *self.outputs)) else "formula"

    def tables(self) -> dict[str, dict[Row, int]]:
        """The lookup tables, by the name the emitted source gives them."""
        return {
            table_name(f): dict(f.table)
            for f in (*self.updates, *self.outputs)
            if f.table is not None
        }

    def run(self, seq: list[list[int]]) -> list[list[int]]:
        """Execute the IR on one sequence (a list of steps, each a list of ints).

        Trees are evaluated with numpy (int64); a table raises KeyError on a row it lacks.
        """
        x = np.array(seq, dtype=np.int64).reshape(1, len(seq), len(self.inputs))
        out, answered = self.run_batch(x)
        if not answered[0]:
            raise KeyError("a lookup table lacks a row this sequence reaches")
        return out[0].tolist()

    def run_batch(
        self, x: np.ndarray, lengths: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Execute the IR on every sequence of ``x`` (N, T, d_in) at once, each formula
        evaluated once per step over all N sequences: the outputs (N, T, d_out), and (N,)
        whether each sequence was answered (False: a table lacks a row it reaches within its
        ``lengths``; its outputs are then all 0)."""
        out, answered, _ = self._execute(x, lengths)
        return out, answered

    def known_steps(self, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """How many leading steps of each sequence of ``x`` (N, T, d_in) the IR answers (N,):
        up to its first row that a lookup table lacks, else its length."""
        return self._execute(x, lengths)[2]

    def _execute(
        self, x: np.ndarray, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, t_len = x.shape[:2]
        lengths = np.full(n, t_len) if lengths is None else np.asarray(lengths)
        known = lengths.copy()
        answered = np.ones(n, dtype=bool)
        env = {
            s: np.full(n, v, dtype=np.int64) for s, v in zip(self.state, self.initial, strict=True)
        }
        tables = {
            f.target: dict(f.table) for f in (*self.updates, *self.outputs) if f.table is not None
        }

        def value(f: Formula, live: np.ndarray) -> np.ndarray:
            rows = np.column_stack([env[name] for name in f.features] or [np.zeros((n, 0))])
            if f.expr is not None:
                return f.expr.evaluate(rows.astype(np.int64))
            table = tables[f.target]
            out = np.zeros(n, dtype=np.int64)
            for i, row in enumerate(map(tuple, rows.tolist())):
                if row in table:
                    out[i] = table[row]
                elif live[i]:
                    answered[i] = False
            return out

        out = np.zeros((n, t_len, len(self.outputs)), dtype=np.int64)
        for t in range(t_len):
            live = (t < lengths) & answered
            env.update(zip(self.inputs, x[:, t].T, strict=True))
            new = [value(u, live) for u in self.updates]
            env.update(zip((new_name(s) for s in self.state), new, strict=True))
            for j, o in enumerate(self.outputs):
                out[:, t, j] = value(o, live)
            env.update(zip(self.state, new, strict=True))
            known[live & ~answered] = t
        out[~answered] = 0
        return out, answered, known

    def symbols_in(self, seq: list[list[int]]) -> list[list[object]]:
        """Input codes as the user writes them (words where a column has a vocabulary)."""
        return _symbols(seq, self.words_in)

    def symbols_out(self, out: list[list[int]]) -> list[list[object]]:
        """Output codes as the emitted program returns them."""
        return _symbols(out, self.words_out)

    def without_dead_state(self) -> Program:
        """The same program minus state variables no output depends on, directly or through
        other updates (a shift register read only at one tap, say)."""
        reads = {s: u.reads() for s, u in zip(self.state, self.updates, strict=True)}
        live = {s for o in self.outputs for s in self.state if {s, new_name(s)} & o.reads()}
        frontier = set(live)
        while frontier:
            frontier = {s for v in frontier for s in self.state if s in reads[v]} - live
            live |= frontier
        keep = [i for i, s in enumerate(self.state) if s in live]
        dead = {n for s in set(self.state) - live for n in (s, new_name(s))}
        return Program(
            inputs=self.inputs,
            state=tuple(self.state[i] for i in keep),
            initial=tuple(self.initial[i] for i in keep),
            # Formulas never read a dead name (tables would have kept it alive).
            updates=tuple(self.updates[i].without_features(dead) for i in keep),
            outputs=tuple(o.without_features(dead) for o in self.outputs),
            words_in=self.words_in,
            words_out=self.words_out,
            state_names=self.state_names,
            unseen=self.unseen,
        )

    def size(self) -> int:
        """Total formula size (table entries count one each)."""
        return sum(
            f.size if not f.is_table else len(f.table) for f in (*self.updates, *self.outputs)
        )


def _symbols(rows: list[list[int]], words: Words) -> list[list[object]]:
    if not any(words):
        return rows
    return [[v if w is None else w[v] for v, w in zip(r, words, strict=True)] for r in rows]


def new_name(name: str) -> str:
    """The name under which an update's freshly computed value is visible to the outputs."""
    return f"{name}_new"


def table_name(formula: Formula) -> str:
    """The name of a table formula's lookup table in emitted source."""
    return f"TABLE_{formula.target.upper()}"
