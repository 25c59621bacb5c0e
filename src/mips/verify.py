"""Verification: differential tests of the emitted source against the data, the IR and the machine."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mips.data import SequenceData
from mips.machine import StateMachine
from mips.program import Program

EXHAUSTIVE_BUDGET = 65_000
MAX_SYMBOLS = 64


@dataclass(frozen=True)
class Verification:
    """What was checked and what failed; ``verified`` only when every check passed."""

    heldout_sequences: int
    heldout_wrong: int
    ir_wrong: int
    exhaustive_length: int
    exhaustive_checked: int
    exhaustive_uncovered: int
    exhaustive_wrong: int
    counterexample: str | None = None

    @property
    def verified(self) -> bool:
        return self.heldout_wrong == 0 and self.ir_wrong == 0 and self.exhaustive_wrong == 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verified": self.verified}

    def summary(self) -> str:
        """One line for people."""
        s = (
            f"held-out {self.heldout_sequences - self.heldout_wrong}/{self.heldout_sequences}, "
            f"IR mismatches {self.ir_wrong}"
        )
        if self.exhaustive_length:
            s += (
                f", all {self.exhaustive_checked} sequences up to length "
                f"{self.exhaustive_length} vs the state machine: {self.exhaustive_wrong} wrong"
            )
        return s + ("" if self.counterexample is None else f"; e.g. {self.counterexample}")


def load_program(source: str) -> Callable[[list[list[int]]], list[list[int]]]:
    """Execute emitted source in a fresh namespace and return its ``program`` function."""
    namespace: dict[str, Any] = {"__name__": "mips_program"}
    exec(compile(source, "<mips program>", "exec"), namespace)  # noqa: S102 - our own output
    return namespace["program"]


def _safe(fn: Callable[[list[list[int]]], list[list[int]]], seq: list[list[int]]) -> Any:
    try:
        return fn(seq)
    except Exception as e:  # a wrong program may fail in any way; that is a finding, not a crash
        return f"raised {type(e).__name__}: {e}"


def verify(
    source: str, program: Program, machine: StateMachine, heldout: SequenceData
) -> Verification:
    """Check ``source`` on ``heldout``, against the IR, and against ``machine`` exhaustively."""
    fn = load_program(source)
    wrong = ir_wrong = 0
    example = None
    for x, y in zip(heldout.x.tolist(), heldout.y.tolist(), strict=True):
        got = _safe(fn, x)
        if got != y:
            wrong += 1
            example = example or f"input {x}: expected {y}, got {got}"
        if got != _safe(program.run, x):
            ir_wrong += 1
    symbols = sorted({tuple(r) for r in machine.x.tolist()})
    length, checked, uncovered, ex_wrong = 0, 0, 0, 0
    if len(symbols) <= MAX_SYMBOLS:
        total = 0
        while total + len(symbols) ** (length + 1) <= EXHAUSTIVE_BUDGET:
            length += 1
            total += len(symbols) ** length
        for n in range(1, length + 1):
            seqs = np.array(list(itertools.product(symbols, repeat=n)), dtype=np.int64)
            expected, known = machine.replay(seqs)
            uncovered += int((~known).sum())
            for seq, want in zip(seqs[known].tolist(), expected[known].tolist(), strict=True):
                checked += 1
                got = _safe(fn, seq)
                if got != want:
                    ex_wrong += 1
                    example = example or f"input {seq}: machine says {want}, got {got}"
    return Verification(heldout.n, wrong, ir_wrong, length, checked, uncovered, ex_wrong, example)
