"""Emit stage: render a Program as a standalone Python module (standard library only)."""

from __future__ import annotations

from mips.program import Formula, Program, new_name, table_name


def formula_source(formula: Formula) -> str:
    """The right-hand side of ``formula`` as Python source over its feature names."""
    if formula.expr is not None:
        return formula.expr.render(formula.features)
    key = ", ".join(formula.features) + ("," if len(formula.features) == 1 else "")
    return f"{table_name(formula)}[({key})]"


def emit_python(program: Program, header: str = "") -> str:
    """Render ``program`` as a standalone Python module defining ``program(seq)``."""
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
    for s, v in zip(program.state, program.initial, strict=True):
        lines.append(f"    {s} = {v}")
    lines.append("    out = []")
    target = ", ".join(program.inputs) + ("," if len(program.inputs) == 1 else "")
    lines.append(f"    for {target} in seq:")
    for s, u in zip(program.state, program.updates, strict=True):
        lines.append(f"        {new_name(s)} = {formula_source(u)}")
    for o in program.outputs:
        lines.append(f"        {o.target} = {formula_source(o)}")
    lines.append(f"        out.append([{', '.join(o.target for o in program.outputs)}])")
    for s in program.state:
        lines.append(f"        {s} = {new_name(s)}")
    lines += ["    return out", ""]
    return "\n".join(lines)
