"""Fidelity: does the program compute what the network computes, beyond the data it was read from?

The program is run against the network, not against a task: on fresh sequences drawn like the
data's inputs, on sequences several times as long, and, for a small alphabet, on every sequence
up to a length. Where they disagree, the shortest disagreeing inputs are kept as counterexamples.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mips.data import SequenceData
from mips.network.artifact import Recurrent
from mips.program import Program

Run = Callable[[list[list[object]]], object]


@dataclass(frozen=True)
class FidelityConfig:
    """How many sequences each check draws, and the size of the exhaustive check."""

    fresh: int = 10_000
    long: int = 1_000
    long_factor: int = 5
    # Sequences of one length in the exhaustive check: 2 symbols reach length 14, 4 reach 7.
    exhaustive_budget: int = 16_384
    counterexamples: int = 5
    seed: int = 0


@dataclass(frozen=True)
class Check:
    """One comparison of program and network: how many sequences, how long, how many disagreed."""

    name: str
    sequences: int
    length: int
    disagreeing: int

    def describe(self) -> str:
        agree = self.sequences - self.disagreeing
        return f"{self.name}: {agree}/{self.sequences} sequences of length {self.length} agree"


@dataclass(frozen=True)
class Counterexample:
    """Inputs on which the program's last output differs from the network's."""

    inputs: tuple[tuple[object, ...], ...]
    network: tuple[object, ...]
    program: tuple[object, ...] | str  # what the program returned there, or how it failed

    def describe(self) -> str:
        steps = " ".join(
            ",".join(str(v) for v in row) if len(row) > 1 else str(row[0]) for row in self.inputs
        )
        program = list(self.program) if isinstance(self.program, tuple) else self.program
        return f"[{steps}] -> network {list(self.network)}, program {program}"


@dataclass(frozen=True)
class Fidelity:
    """Every check run, and the shortest counterexamples found by any of them."""

    checks: tuple[Check, ...]
    counterexamples: tuple[Counterexample, ...]

    @property
    def faithful(self) -> bool:
        """True when the program agreed with the network on every sequence checked."""
        return all(c.disagreeing == 0 for c in self.checks)


def fidelity(
    run: Run,
    program: Program,
    network: Recurrent,
    data: SequenceData,
    config: FidelityConfig | None = None,
) -> Fidelity:
    """Compare ``run`` (the emitted program, speaking the data's symbols) with ``network``."""
    config = config or FidelityConfig()
    rng = np.random.default_rng(config.seed)
    rows = data.x[data.mask]  # every input step the data holds, as drawn
    symbols = np.unique(rows, axis=0)
    checks, found = [], []
    plan = [("fresh sequences", config.fresh, data.length)]
    plan.append((f"{config.long_factor}x longer", config.long, config.long_factor * data.length))
    for name, n, length in plan:
        x = rows[rng.integers(len(rows), size=(n, length))]
        checks.append(_compare(name, x, run, program, network, found))
    length = 0
    while len(symbols) ** (length + 1) <= config.exhaustive_budget:
        length += 1
    if length:
        x = np.array(list(itertools.product(symbols.tolist(), repeat=length)), dtype=np.int64)
        name = f"every sequence up to length {length}"
        checks.append(
            _compare(name, x.reshape(-1, length, data.d_in), run, program, network, found)
        )
    shortest = sorted(found, key=lambda c: (len(c.inputs), str(c.inputs)))
    unique = list(dict.fromkeys(shortest))[: config.counterexamples]
    return Fidelity(tuple(checks), tuple(unique))


def _compare(
    name: str,
    x: np.ndarray,
    run: Run,
    program: Program,
    network: Recurrent,
    found: list[Counterexample],
) -> Check:
    """Run both on ``x`` (N, T, d_in); every step is compared, since each is a prefix's output."""
    want = network.predict(x).tolist()
    wrong = 0
    for seq, expected in zip(x.tolist(), want, strict=True):
        words = program.symbols_in(seq)
        try:
            got = run(words)
        except Exception as e:  # a program that fails on an input disagrees there
            got = f"raised {type(e).__name__}"
        expected = program.symbols_out(expected)
        if got == expected:
            continue
        wrong += 1
        t = _first_difference(got, expected)
        value = tuple(got[t]) if isinstance(got, list) and t < len(got) else str(got)
        found.append(Counterexample(tuple(map(tuple, words[: t + 1])), tuple(expected[t]), value))
    return Check(name, len(x), x.shape[1], wrong)


def _first_difference(got: object, want: list) -> int:
    if not isinstance(got, list):
        return 0
    for t, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            return t
    return min(len(got), len(want) - 1)
