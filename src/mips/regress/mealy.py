"""A finite machine over words as a Mealy table whose states are named by how they are reached.

Codes of words have no order a formula could use (they are places in a sorted vocabulary), so a
machine whose inputs and outputs are all words is written as its table, without a formula search.
Each state is named by the shortest input words that reach it from the start (``after_SYN_ACK``),
the first in the vocabulary's order among equally short ones: a name a reader can replay.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

from mips.machine import StateMachine
from mips.program import Formula, Program, Words, new_name

START = "start"


def state_names(machine: StateMachine, words_in: Words) -> dict[tuple[int, ...], str]:
    """Each state of ``machine`` named by the shortest input words that reach it (breadth first,
    inputs in code order); states no transition reaches keep their number."""
    table = machine.table()
    by_state: dict[tuple[int, ...], list[tuple[tuple[int, ...], tuple[int, ...]]]] = {}
    for (z, x), (z_next, _) in sorted(table.items()):
        by_state.setdefault(z, []).append((x, z_next))
    names = {machine.initial: START}

    def name(z: tuple[int, ...], base: str) -> None:
        # Words may hold the separator (SYN then ACK, and SYN_ACK): a taken name gets a count.
        taken, given, k = set(names.values()), base, 2
        while given in taken:
            given, k = f"{base}_{k}", k + 1
        names[z] = given

    queue = deque([(machine.initial, ())])
    while queue:
        z, path = queue.popleft()
        for x, z_next in by_state.get(z, []):
            if z_next not in names:
                step = "+".join(_word(v, w) for v, w in zip(x, words_in, strict=True))
                name(z_next, "after_" + "_".join((*path, step)))
                queue.append((z_next, (*path, step)))
    for z in sorted({z for z, _ in table} | {v[0] for v in table.values()}):
        if z not in names:
            name(z, f"state_{'_'.join(map(str, z))}")
    return names


def _word(code: int, words: tuple[str, ...] | None) -> str:
    return str(code) if words is None else words[code]


def mealy_program(
    machine: StateMachine, words_in: Words, words_out: Words, unseen: str = "error"
) -> Program:
    """``machine`` as one state variable ``state`` (a code per named state) with its next state
    and each output looked up by (state, inputs); ``unseen`` says what the program does on a
    (state, input) the machine never saw (see :class:`~mips.program.Program`)."""
    names = state_names(machine, words_in)
    ordered = sorted(names, key=lambda z: (z != machine.initial, len(names[z]), names[z]))
    code = {z: i for i, z in enumerate(ordered)}
    d_in, d_out = machine.x.shape[1], machine.y.shape[1]
    inputs = ("x",) if d_in == 1 else tuple(f"x{i}" for i in range(d_in))
    outputs = ("y",) if d_out == 1 else tuple(f"y{i}" for i in range(d_out))
    features = ("state", *inputs)
    rows = sorted(machine.table().items())
    keys = [(code[z], *x) for (z, x), _ in rows]
    update = Formula(
        new_name("state"),
        features,
        table=tuple((k, code[z_next]) for k, (_, (z_next, _)) in zip(keys, rows, strict=True)),
    )
    outs = tuple(
        Formula(
            name,
            features,
            table=tuple((k, y[j]) for k, (_, (_, y)) in zip(keys, rows, strict=True)),
        )
        for j, name in enumerate(outputs)
    )
    return Program(
        inputs=inputs,
        state=("state",),
        initial=(0,),
        updates=(update,),
        outputs=outs,
        words_in=words_in,
        words_out=words_out,
        state_names=tuple(names[z] for z in ordered),
        unseen=unseen,
    )


@dataclass(frozen=True)
class UnseenStep:
    """A (state, input) a Mealy table's logs never showed, and the shortest trace that would
    show it: the words that reach the state, then the input."""

    state: str
    inputs: tuple[str, ...]
    trace: tuple[tuple[str, ...], ...]


def unseen_steps(program: Program) -> list[UnseenStep]:
    """Every (state, input) of a Mealy table over words that its table lacks, each with the
    shortest trace that would test it (states breadth first from the start, inputs in the
    vocabulary's order); empty for a program that is not such a table."""
    if not program.state_names or not all(program.words_in):
        return []
    table = dict(program.updates[0].table or ())
    symbols = list(itertools.product(*(range(len(w)) for w in program.words_in)))
    paths: dict[int, tuple[tuple[int, ...], ...]] = {0: ()}
    queue = deque([0])
    while queue:
        state = queue.popleft()
        for x in symbols:
            nxt = table.get((state, *x))
            if nxt is not None and nxt not in paths:
                paths[nxt] = (*paths[state], x)
                queue.append(nxt)

    def words(x: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(w[c] for c, w in zip(x, program.words_in, strict=True))

    return [
        UnseenStep(program.state_names[s], words(x), tuple(map(words, (*paths[s], x))))
        for s in sorted(paths)
        for x in symbols
        if (s, *x) not in table
    ]
