"""Program IR: state variables with initial values, one update per variable, one formula per output.

The IR runs itself (each formula compiled once) and renders itself as a standalone Python file;
verification checks the two against each other. A formula may be a lookup table, for variables no
regressor explained; a program with any table has form ``table``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Any

Row = tuple[int, ...]


@dataclass(frozen=True)
class Formula:
    """``target = expression`` over ``features``; or, when ``table`` is set, a lookup on them."""

    target: str
    features: tuple[str, ...]
    expression: str | None = None
    table: tuple[tuple[Row, int], ...] | None = None
    size: int = 0

    def __post_init__(self) -> None:
        if (self.expression is None) == (self.table is None):
            raise ValueError(f"{self.target}: give exactly one of expression and table")

    @property
    def is_table(self) -> bool:
        return self.table is not None

    def reads(self) -> set[str]:
        """The features this formula actually uses (a regressor may be offered more)."""
        if self.expression is None:
            return set(self.features)
        names = {
            n.id
            for n in ast.walk(ast.parse(self.expression, mode="eval"))
            if isinstance(n, ast.Name)
        }
        return names & set(self.features)

    def source(self) -> str:
        """The right-hand side as Python source."""
        if self.table is None:
            return str(self.expression)
        key = ", ".join(self.features) + ("," if len(self.features) == 1 else "")
        return f"TABLE_{self.target.upper()}[({key})]"


@dataclass(frozen=True)
class Program:
    """A causal program: for each step, new state from (state, input), outputs from all three."""

    inputs: tuple[str, ...]
    state: tuple[str, ...]
    initial: tuple[int, ...]
    updates: tuple[Formula, ...]
    outputs: tuple[Formula, ...]

    def __post_init__(self) -> None:
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
        return {
            f"TABLE_{f.target.upper()}": dict(f.table)
            for f in (*self.updates, *self.outputs)
            if f.table is not None
        }

    def run(self, seq: list[list[int]]) -> list[list[int]]:
        """Execute the IR on one sequence (a list of steps, each a list of ints)."""
        env: dict[str, Any] = {"__builtins__": {}, "abs": abs, "min": min, "max": max, "int": int}
        env.update(self.tables())
        codes_u = [compile(u.source(), u.target, "eval") for u in self.updates]
        codes_y = [compile(o.source(), o.target, "eval") for o in self.outputs]
        env.update(zip(self.state, self.initial, strict=True))
        out = []
        for step in seq:
            env.update(zip(self.inputs, step, strict=True))
            new = [eval(c, env) for c in codes_u]  # noqa: S307 - our own generated formulas
            env.update(zip((new_name(s) for s in self.state), new, strict=True))
            out.append([int(eval(c, env)) for c in codes_y])  # noqa: S307
            env.update(zip(self.state, new, strict=True))
        return out

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

        def trim(f: Formula) -> Formula:
            # Expressions never read a dead name (tables would have kept it alive).
            return replace(f, features=tuple(n for n in f.features if n not in dead))

        return Program(
            self.inputs,
            tuple(self.state[i] for i in keep),
            tuple(self.initial[i] for i in keep),
            tuple(trim(self.updates[i]) for i in keep),
            tuple(trim(o) for o in self.outputs),
        )

    def size(self) -> int:
        """Total formula size (table entries count one each)."""
        return sum(
            f.size if not f.is_table else len(f.table) for f in (*self.updates, *self.outputs)
        )


def new_name(name: str) -> str:
    """The name under which an update's freshly computed value is visible to the outputs."""
    return f"{name}_new"


def emit_python(program: Program, header: str = "") -> str:
    """Render ``program`` as a standalone Python module (standard library only)."""
    lines = ['"""Program synthesized by mips from input/output sequences.']
    if header:
        lines += ["", *header.strip().splitlines()]
    lines += [
        "",
        "program(seq): seq is a list of steps, each a list of "
        f"{len(program.inputs)} int(s); returns one list of {len(program.outputs)} int(s) per step.",
        '"""',
        "",
    ]
    for name, table in program.tables().items():
        lines.append(f"{name} = {{")
        for k, v in sorted(table.items()):
            lines.append(f"    {k!r}: {v},")
        lines += ["}", ""]
    lines += ["", "def program(seq):"]
    if program.state:
        for s, v in zip(program.state, program.initial, strict=True):
            lines.append(f"    {s} = {v}")
    lines.append("    out = []")
    target = ", ".join(program.inputs) + ("," if len(program.inputs) == 1 else "")
    lines.append(f"    for {target} in seq:")
    for s, u in zip(program.state, program.updates, strict=True):
        lines.append(f"        {new_name(s)} = {u.source()}")
    for o in program.outputs:
        lines.append(f"        {o.target} = {o.source()}")
    lines.append(f"        out.append([{', '.join(o.target for o in program.outputs)}])")
    for s in program.state:
        lines.append(f"        {s} = {new_name(s)}")
    lines += ["    return out", ""]
    return "\n".join(lines)
