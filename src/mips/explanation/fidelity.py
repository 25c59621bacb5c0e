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
from mips.network.causal import Readable
from mips.program import Program
from mips.verify import paused_gc

Run = Callable[[list[list[object]]], object]


@dataclass(frozen=True, kw_only=True)
class FidelityConfig:
    """How many sequences each check draws, and the size of the exhaustive check."""

    fresh: int = 2_000
    long: int = 500
    long_factor: int = 5
    # Sequences of one length in the exhaustive check: 2 symbols reach length 12, 4 reach 6.
    exhaustive_budget: int = 4_096
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
    # Checks cut short or left out because the network has no more positions (max_len).
    limits: tuple[str, ...] = ()

    @property
    def faithful(self) -> bool:
        """True when the program agreed with the network on every sequence checked."""
        return all(c.disagreeing == 0 for c in self.checks)


def fidelity(
    run: Run,
    program: Program,
    network: Readable,
    data: SequenceData,
    config: FidelityConfig | None = None,
) -> Fidelity:
    """Compare ``run`` (the emitted program, speaking the data's symbols) with ``network``."""
    with paused_gc():
        return _fidelity(run, program, network, data, config or FidelityConfig())


def _fidelity(
    run: Run, program: Program, network: Readable, data: SequenceData, config: FidelityConfig
) -> Fidelity:
    rng = np.random.default_rng(config.seed)
    rows = data.x[data.mask]  # every input step the data holds, as drawn
    symbols = np.unique(rows, axis=0)
    checks, found, limits = [], [], []
    # A model with positions is never run past them.
    max_len = getattr(network, "max_len", None)
    plan = [("fresh sequences", config.fresh, data.length)]
    longer = config.long_factor * data.length
    if max_len is None or longer <= max_len:
        plan.append((f"{config.long_factor}x longer", config.long, longer))
    elif max_len > data.length:
        plan.append((f"longer, up to max_len {max_len}", config.long, max_len))
        limits.append(f"longer sequences end at the network's max_len {max_len}, not {longer}")
    else:
        limits.append(f"no longer sequences: the network's max_len {max_len} is the data's length")
    for name, n, length in plan:
        x = rows[rng.integers(len(rows), size=(n, length))]
        checks.append(_compare(name, x, run, program, network, found, config.counterexamples))
    length = 0
    while len(symbols) ** (length + 1) <= config.exhaustive_budget:
        length += 1
    if max_len is not None and length > max_len:
        limits.append(f"every sequence up to length {max_len} (max_len), not {length}")
        length = max_len
    if length:
        x = np.array(list(itertools.product(symbols.tolist(), repeat=length)), dtype=np.int64)
        name = f"every sequence up to length {length}"
        x = x.reshape(-1, length, data.d_in)
        checks.append(_compare(name, x, run, program, network, found, config.counterexamples))
    shortest = sorted(found, key=lambda c: (len(c.inputs), str(c.inputs)))
    unique = list(dict.fromkeys(shortest))[: config.counterexamples]
    return Fidelity(tuple(checks), tuple(unique), tuple(limits))


def _compare(
    name: str,
    x: np.ndarray,
    run: Run,
    program: Program,
    network: Readable,
    found: list[Counterexample],
    keep: int,
) -> Check:
    """Run both on ``x`` (N, T, d_in); every step is compared, since each is a prefix's output.
    Disagreements are cut to the prefix that ends at the first differing step; where the
    program raised, only the first ``keep`` are (each costs a run per prefix)."""
    want = network.predict(x).tolist()
    wrong = raised = 0
    for seq, expected in zip(x.tolist(), want, strict=True):
        words, expected = program.symbols_in(seq), program.symbols_out(expected)
        got = _run(run, words)
        if got == expected:
            continue
        wrong += 1
        whole = isinstance(got, list) and len(got) == len(expected)
        raised += not whole
        if whole or raised <= keep:
            found.append(_shortest(run, words, expected, got))
    return Check(name, len(x), x.shape[1], wrong)


def _run(run: Run, words: list[list[object]]) -> list | str:
    try:
        return run(words)
    except Exception as e:  # a program that fails on an input disagrees there
        return f"raised {type(e).__name__}"


def _shortest(run: Run, words: list, expected: list, got: list | str) -> Counterexample:
    """The disagreement cut to its first differing step; a program that raised is run on
    longer and longer prefixes until it raises or differs."""
    if isinstance(got, list) and len(got) == len(expected):
        t = next(t for t, (g, w) in enumerate(zip(got, expected, strict=True)) if g != w)
        value: tuple[object, ...] | str = tuple(got[t])
    else:
        for t in range(len(words)):
            prefix = _run(run, words[: t + 1])
            if not isinstance(prefix, list) or len(prefix) != t + 1:
                value = prefix if isinstance(prefix, str) else f"returned {prefix!r}"[:60]
                break
            if prefix[t] != expected[t]:
                value = tuple(prefix[t])
                break
    return Counterexample(tuple(map(tuple, words[: t + 1])), tuple(expected[t]), value)
