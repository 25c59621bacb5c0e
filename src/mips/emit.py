"""Emit stage: render a Program as a standalone Python module (standard library only)."""

from __future__ import annotations

from mips.program import Formula, Program, Words, new_name, table_name


def formula_source(formula: Formula) -> str:
    """The right-hand side of ``formula`` as Python source over its feature names."""
    if formula.expr is not None:
        return formula.expr.render(formula.features)
    key = ", ".join(formula.features) + ("," if len(formula.features) == 1 else "")
    return f"{table_name(formula)}[({key})]"


def _vocabulary_lines(program: Program) -> list[str]:
    """The words of each column as code tables at the top of the module: what the formulas'
    integers stand for."""
    lines = []
    for name, words in zip(program.inputs, program.words_in or (), strict=False):
        if words is not None:
            codes = ", ".join(f"{w!r}: {i}" for i, w in enumerate(words))
            lines.append(f"{name.upper()}_CODE = {{{codes}}}")
    for o, words in zip(program.outputs, program.words_out or (), strict=False):
        if words is not None:
            lines.append(f"{o.target.upper()}_WORD = {tuple(words)!r}")
    return lines + [""] if lines else []


def _docstring(header: str) -> list[str]:
    lines = ['"""Program synthesized by mips from input/output sequences.']
    return lines + (["", *header.strip().splitlines()] if header else [])


def emit_python(program: Program, header: str = "") -> str:
    """Render ``program`` as a standalone Python module defining ``program(seq)``."""
    if program.state_names:
        return _emit_mealy(program, header)
    words_in = program.words_in or (None,) * len(program.inputs)
    words_out = program.words_out or (None,) * len(program.outputs)
    lines = _docstring(header)
    lines += ["", _usage(program, words_in, words_out), '"""', ""]
    lines += _vocabulary_lines(program)
    for name, table in program.tables().items():
        lines.append(f"{name} = {{")
        for k, v in sorted(table.items()):
            lines.append(f"    {k!r}: {v},")
        lines += ["}", ""]
    lines += ["", "def program(seq):"]
    for s, v in zip(program.state, program.initial, strict=True):
        lines.append(f"    {s} = {v}")
    lines.append("    out = []")
    lines += _loop(program, words_in, words_out)
    lines += ["    return out", ""]
    return "\n".join(lines)


def _usage(program: Program, words_in: Words, words_out: Words) -> str:
    kind = ["word" if w is not None else "int" for w in (*words_in, *words_out)]
    if "word" not in kind:
        return (
            "program(seq): seq is a list of steps, each a list of "
            f"{len(program.inputs)} int(s); returns one list of {len(program.outputs)} int(s) "
            "per step."
        )
    ins = ", ".join(kind[: len(words_in)])
    outs = ", ".join(kind[len(words_in) :])
    return (
        f"program(seq): seq is a list of steps, each a list of {len(words_in)} value(s) "
        f"({ins}); returns one list of {len(words_out)} value(s) ({outs}) per step. The "
        "formulas work on each word's code, its place in the column's sorted vocabulary."
    )


def _loop(program: Program, words_in: Words, words_out: Words) -> list[str]:
    """The loop over the steps: each input's code, the updates, the outputs (as words where
    the column has them), then the new state."""
    target = ", ".join(program.inputs) + ("," if len(program.inputs) == 1 else "")
    if any(words_in):
        codes = [
            f"{n.upper()}_CODE[step[{i}]]" if w is not None else f"step[{i}]"
            for i, (n, w) in enumerate(zip(program.inputs, words_in, strict=True))
        ]
        lines = [
            "    for step in seq:",
            f"        {', '.join(program.inputs)} = {', '.join(codes)}",
        ]
    else:
        lines = [f"    for {target} in seq:"]
    for s, u in zip(program.state, program.updates, strict=True):
        lines.append(f"        {new_name(s)} = {formula_source(u)}")
    for o in program.outputs:
        lines.append(f"        {o.target} = {formula_source(o)}")
    shown = [
        f"{o.target.upper()}_WORD[{o.target}]" if w is not None else o.target
        for o, w in zip(program.outputs, words_out, strict=True)
    ]
    lines.append(f"        out.append([{', '.join(shown)}])")
    for s in program.state:
        lines.append(f"        {s} = {new_name(s)}")
    return lines


def _emit_mealy(program: Program, header: str) -> str:
    """A Mealy table over words: ``MACHINE[(state, *inputs)] = (next state, *outputs)``, the
    states by name, the words as they are."""
    names = program.state_names
    n_in, n_out = len(program.inputs), len(program.outputs)
    lines = _docstring(header)
    lines += [
        "",
        f"A Mealy machine of {len(names)} states, each named by the shortest input words that",
        "reach it from the start. program(seq): seq is a list of steps, each a list of "
        f"{n_in} input(s);",
        f"returns one list of {n_out} output(s) per step.",
        '"""',
        "",
        "",
        "class UnseenStep(LookupError):",
        '    """A (state, input) the logs never showed: nothing in them says what comes next."""',
        "",
        "",
        f"START = {names[0]!r}",
        "# (state, *inputs) -> (next state, *outputs), for every step the logs showed.",
        "MACHINE = {",
        *_mealy_rows(program),
        "}",
        "",
        "",
        "def program(seq):",
        "    state = START",
        "    out = []",
        "    for step in seq:",
        "        key = (state, *step)",
        "        if key not in MACHINE:",
    ]
    if program.unseen == "error":
        lines.append(
            '            raise UnseenStep(f"state {state!r} on input {list(step)!r}: '
            'never seen in the logs")'
        )
    else:
        value = None if program.unseen == "keep" else program.unseen
        lines += [f"            out.append([{value!r}] * {n_out})", "            continue"]
    lines += [
        "        state, *said = MACHINE[key]",
        "        out.append(said)",
        "    return out",
        "",
    ]
    return "\n".join(lines)


def _mealy_rows(program: Program) -> list[str]:
    """One line per (state, *inputs) -> (next state, *outputs), by state name, in words."""
    names = program.state_names
    words_in = program.words_in or (None,) * len(program.inputs)
    words_out = program.words_out or (None,) * len(program.outputs)

    def word(code: int, words: tuple[str, ...] | None) -> object:
        return code if words is None else words[code]

    update = dict(program.updates[0].table or ())
    outs = [dict(o.table or ()) for o in program.outputs]
    lines = []
    for key in sorted(update, key=lambda k: (names[k[0]], k[1:])):
        step = tuple(word(v, w) for v, w in zip(key[1:], words_in, strict=True))
        said = tuple(word(o[key], w) for o, w in zip(outs, words_out, strict=True))
        lines.append(f"    {(names[key[0]], *step)!r}: {(names[update[key]], *said)!r},")
    return lines
