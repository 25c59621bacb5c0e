"""Verification: differential tests of the emitted source against the data, the IR and the machine."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mips.data import SequenceData
from mips.machine import StateMachine
from mips.program import Program

EXHAUSTIVE_BUDGET = 65_000
MAX_SYMBOLS = 64


@dataclass(frozen=True, kw_only=True)
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
    # Labelled held-out steps, those the program contradicts, and how many of them may be (as a
    # fraction: data with a few wrong labels); the IR and the machine must agree exactly.
    heldout_steps: int = 0
    heldout_wrong_steps: int = 0
    max_label_errors: float = 0.0
    # What the exhaustive check compared with: the machine, or for a program whose formulas may
    # miss the machine's rarest rows, its own IR.
    exhaustive_against: str = "the state machine"
    # A Mealy table over words is judged on each held-out trace up to its first (state, input)
    # the table lacks (past it the logs say nothing): how many traces met one, and how many
    # labelled steps came before. At least half the steps must be judged.
    heldout_unseen: int = 0
    judged_steps: int = 0

    @property
    def verified(self) -> bool:
        heldout_ok = _labels_ok(
            self.heldout_wrong, self.heldout_wrong_steps, self.heldout_steps, self.max_label_errors
        )
        if self.heldout_unseen:
            heldout_ok = heldout_ok and 2 * self.judged_steps >= self.heldout_steps
        return heldout_ok and self.ir_wrong == 0 and self.exhaustive_wrong == 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verified": self.verified}

    def summary(self) -> str:
        """One line for people."""
        s = (
            f"held-out {self.heldout_sequences - self.heldout_wrong}/{self.heldout_sequences}, "
            f"IR mismatches {self.ir_wrong}"
        )
        if self.heldout_unseen:
            s += (
                f" ({self.heldout_unseen} judged up to a (state, input) the training traces "
                f"never showed: {self.judged_steps} of {self.heldout_steps} steps judged)"
            )
        if self.exhaustive_length:
            s += (
                f", all {self.exhaustive_checked} sequences up to length "
                f"{self.exhaustive_length} vs {self.exhaustive_against}: "
                f"{self.exhaustive_wrong} wrong"
            )
        return s + ("" if self.counterexample is None else f"; e.g. {self.counterexample}")


def _labels_ok(wrong: int, wrong_steps: int, steps: int, max_label_errors: float) -> bool:
    """No sequence wrong; with ``max_label_errors``, at most that share of the steps wrong."""
    if max_label_errors:
        return wrong_steps <= max_label_errors * steps
    return wrong == 0


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: running programs on ``tolist`` of (N, T, d) arrays
    builds millions of small lists, each batch of which would start a full collection over
    every object torch made (most of the time a check took). None of those lists form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def _wrong_steps(got: Any, want: list[list[int]]) -> int:
    if not isinstance(got, list) or len(got) != len(want):
        return len(want)
    return sum(g != w for g, w in zip(got, want, strict=True))


def verify(
    source: str,
    program: Program,
    machine: StateMachine,
    heldout: SequenceData,
    max_label_errors: float = 0.0,
    tolerant: bool = False,
) -> Verification:
    """Check ``source`` on ``heldout`` (each sequence its own length), against the IR, and
    against ``machine`` exhaustively. With ``max_label_errors``, the program may contradict that
    fraction of the held-out labels and still be verified. A ``tolerant`` program's formulas
    were allowed to miss the machine's rarest rows: exhaustively, it is checked against its IR."""
    with paused_gc():
        return _verify(load_program(source), program, machine, heldout, max_label_errors, tolerant)


@dataclass(frozen=True, kw_only=True)
class _Replay:
    """A program replayed on labelled sequences, each up to the steps it can answer."""

    wrong: int
    ir_wrong: int
    wrong_steps: int
    example: str | None
    lengths: np.ndarray  # the steps judged per sequence


def _replay(
    fn: Callable[[list[list[int]]], list[list[int]]], program: Program, data: SequenceData
) -> _Replay:
    """``fn`` on every sequence of ``data`` against its labels and against the IR; a Mealy
    table's sequence is judged up to its first (state, input) the table lacks."""
    wrong = ir_wrong = wrong_steps = 0
    example = None
    lengths = data.seq_lengths
    if program.state_names:
        lengths = program.known_steps(data.x, lengths)
    ir_out, ir_answered = program.run_batch(data.x, lengths)
    for i, (codes, y_codes) in enumerate(data.sequences()):
        codes, y_codes = codes[: lengths[i]], y_codes[: lengths[i]]
        # The emitted program speaks the user's symbols (words where a column has them).
        x, y = program.symbols_in(codes), program.symbols_out(y_codes)
        got = _safe(fn, x)
        if got != y:
            wrong += 1
            wrong_steps += _wrong_steps(got, y)
            example = example or f"input {x}: expected {y}, got {got}"
        # Where the IR cannot answer (a table lacks a row), the source must raise too.
        ir = program.symbols_out(ir_out[i, : len(codes)].tolist()) if ir_answered[i] else None
        if (got != ir) if ir is not None else isinstance(got, list):
            ir_wrong += 1
    return _Replay(
        wrong=wrong, ir_wrong=ir_wrong, wrong_steps=wrong_steps, example=example, lengths=lengths
    )


@dataclass(frozen=True, kw_only=True)
class IndependentCheck:
    """The chosen program replayed on sequences no stage saw (``where``: the data held back
    before training, or a file the user gave): passed when it contradicts none of their labels
    (with ``max_label_errors``, at most that share of their labelled steps)."""

    where: str
    sequences: int
    wrong: int
    steps: int
    wrong_steps: int
    max_label_errors: float = 0.0
    unseen: int = 0  # sequences judged only up to a (state, input) the program lacks
    judged_steps: int = 0
    counterexample: str | None = None

    @property
    def passed(self) -> bool:
        return _labels_ok(self.wrong, self.wrong_steps, self.steps, self.max_label_errors)

    def summary(self) -> str:
        """One line for people."""
        s = f"{self.where}: {self.sequences - self.wrong}/{self.sequences} sequences right"
        if self.unseen:
            s += f" ({self.judged_steps} of {self.steps} steps judged)"
        return s + ("" if self.counterexample is None else f"; e.g. {self.counterexample}")


def check_independent(
    source: str, program: Program, data: SequenceData, where: str, max_label_errors: float = 0.0
) -> IndependentCheck:
    """Replay ``source`` on ``data``, sequences that neither chose the network nor read the
    machine nor verified the program."""
    with paused_gc():
        r = _replay(load_program(source), program, data)
    return IndependentCheck(
        where=where,
        sequences=data.n,
        wrong=r.wrong,
        steps=data.steps,
        wrong_steps=r.wrong_steps,
        max_label_errors=max_label_errors,
        unseen=int((r.lengths < data.seq_lengths).sum()),
        judged_steps=int(r.lengths.sum()),
        counterexample=r.example,
    )


def _verify(
    fn: Callable[[list[list[int]]], list[list[int]]],
    program: Program,
    machine: StateMachine,
    heldout: SequenceData,
    max_label_errors: float,
    tolerant: bool,
) -> Verification:
    replay = _replay(fn, program, heldout)
    example, lengths = replay.example, replay.lengths
    symbols = sorted({tuple(r) for r in machine.x.tolist()})
    length, checked, uncovered, ex_wrong = 0, 0, 0, 0
    if len(symbols) <= MAX_SYMBOLS:
        total = 0
        while total + len(symbols) ** (length + 1) <= EXHAUSTIVE_BUDGET:
            length += 1
            total += len(symbols) ** length
        for n in range(1, length + 1):
            seqs = np.array(list(itertools.product(symbols, repeat=n)), dtype=np.int64)
            if tolerant:
                expected, known = program.run_batch(seqs, np.full(len(seqs), n))
            else:
                expected, known = machine.replay(seqs)
            uncovered += int((~known).sum())
            for seq, want in zip(seqs[known].tolist(), expected[known].tolist(), strict=True):
                checked += 1
                seq, want = program.symbols_in(seq), program.symbols_out(want)
                got = _safe(fn, seq)
                if got != want:
                    ex_wrong += 1
                    said = "the IR says" if tolerant else "machine says"
                    example = example or f"input {seq}: {said} {want}, got {got}"
    return Verification(
        heldout_sequences=heldout.n,
        heldout_wrong=replay.wrong,
        ir_wrong=replay.ir_wrong,
        exhaustive_length=length,
        exhaustive_checked=checked,
        exhaustive_uncovered=uncovered,
        exhaustive_wrong=ex_wrong,
        counterexample=example,
        heldout_steps=heldout.steps,
        heldout_wrong_steps=replay.wrong_steps,
        max_label_errors=max_label_errors,
        exhaustive_against="the IR" if tolerant else "the state machine",
        heldout_unseen=int((lengths < heldout.seq_lengths).sum()),
        judged_steps=int(lengths.sum()),
    )
