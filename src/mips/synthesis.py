"""What a synthesis is configured by and what it returns: the config, each attempt, the result."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from mips.data import SequenceData
from mips.extract import ExtractConfig
from mips.io import dumps
from mips.machine import StateMachine
from mips.network.artifact import Recurrent
from mips.network.search import SearchConfig
from mips.program import Program
from mips.regress import RegressConfig
from mips.simplify import SimplifyConfig
from mips.verify import IndependentCheck, Verification, check_independent, load_program

__all__ = ["Attempt", "Clock", "Suspect", "SynthConfig", "Synthesis", "best_attempt", "header"]


log = logging.getLogger(__name__)

HOLD_BACK_FROM = 10
HOLD_BACK_KEY = 0xC4EC


@dataclass(frozen=True)
class SynthConfig:
    """Every stage's own config, and the one ``seed`` each stage's seed is derived from.

    The root seed itself seeds the train/held-out split and the network search (whose packs
    derive their own seeds from it); the other stages (simplify's retraining, extract's
    sampling, regress's row sample and hashes) get seeds spawned from it by
    ``numpy.random.SeedSequence``, so that one seed fixes every random choice.
    The stage configs' own ``seed`` fields are overwritten by :meth:`seeded`.

    ``max_label_errors``: the fraction of labelled steps that may be wrong (0: the data are
    exact). The network search then accepts a network that misses at most that fraction, the
    machine is read from the network's own answers, and the program is verified when it
    contradicts at most that fraction of the held-out labels.
    """

    seed: int = 0
    search: SearchConfig = field(default_factory=SearchConfig)
    simplify: SimplifyConfig = field(default_factory=SimplifyConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    regress: RegressConfig = field(default_factory=RegressConfig)
    max_label_errors: float = 0.0
    # The share of sequences held back from every stage, for the independent check.
    verify_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_label_errors < 0.5:
            raise ValueError(f"max_label_errors must lie in [0, 0.5), got {self.max_label_errors}")
        if not 0.0 <= self.verify_fraction < 0.5:
            raise ValueError(f"verify_fraction must lie in [0, 0.5), got {self.verify_fraction}")

    def held_back(self, data: SequenceData) -> tuple[SequenceData, SequenceData | None]:
        """(the sequences every stage may use, those held back for the independent check),
        split by a seed of its own; nothing is held back from fewer than 10 sequences."""
        if not self.verify_fraction or data.n < HOLD_BACK_FROM:
            return data, None
        seed = int(np.random.SeedSequence([self.seed, HOLD_BACK_KEY]).generate_state(1)[0])
        return data.split(self.verify_fraction, seed)

    def seeded(self) -> SynthConfig:
        """This config with every stage's seed derived from ``seed`` (and the search told
        ``max_label_errors``)."""
        children = np.random.SeedSequence(self.seed).spawn(3)
        simplify_seed, extract_seed, regress_seed = (int(c.generate_state(1)[0]) for c in children)
        train = replace(self.search.train, max_label_errors=self.max_label_errors)
        return replace(
            self,
            search=replace(self.search, seed=self.seed, train=train),
            simplify=replace(self.simplify, seed=simplify_seed),
            extract=replace(self.extract, seed=extract_seed),
            regress=replace(self.regress, seed=regress_seed),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        """A short hash of the whole config: equal digests, equal settings."""
        return hashlib.sha256(dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True, eq=False)
class Attempt:
    """One reading tried: the network read, the machine read from it, its program, the check."""

    network: Recurrent
    machine: StateMachine
    program: Program
    source: str
    verification: Verification

    def describe(self) -> str:
        report = self.verification
        return (
            f"{self.machine.kind}/{self.machine.reading.describe()}: {self.program.form}, "
            f"{'verified' if report.verified else report.summary()}"
        )


def best_attempt(attempts: list[Attempt]) -> Attempt | None:
    """The first verified formula, else the first verified table, else None."""
    verified = [a for a in attempts if a.verification.verified]
    formulas = [a for a in verified if a.program.form == "formula"]
    return (formulas or verified or [None])[0]


@dataclass(frozen=True)
class Suspect:
    """A labelled step the program contradicts: where, the label, the program's value, and how
    far the network's real-valued output is from the label (larger: more suspect)."""

    sequence: int
    step: int
    label: tuple[int, ...]
    value: tuple[int, ...]
    distance: float


@dataclass(frozen=True, eq=False)
class Synthesis:
    """The result of :func:`mips.synthesize`: the chosen attempt, or the stage that failed and why.

    ``network`` and ``machine`` are the chosen attempt's, or on failure the first ones read.
    """

    config: SynthConfig
    seconds: dict[str, float]
    chosen: Attempt | None = None
    attempts: tuple[Attempt, ...] = ()
    network: Recurrent | None = None
    machine: StateMachine | None = None
    failed_stage: str | None = None
    reason: str | None = None
    # Labelled steps the program contradicts, most suspect first (with max_label_errors > 0).
    suspects: tuple[Suspect, ...] = ()
    # The chosen program replayed on sequences no stage saw (held back, or the user's file).
    independent: tuple[IndependentCheck, ...] = ()

    def __post_init__(self) -> None:
        if (self.chosen is None) == (self.failed_stage is None):
            raise ValueError("a synthesis has either a chosen attempt or a failed stage")
        if self.chosen is not None:
            object.__setattr__(self, "network", self.chosen.network)
            object.__setattr__(self, "machine", self.chosen.machine)

    @property
    def ok(self) -> bool:
        return self.chosen is not None

    @property
    def source(self) -> str | None:
        return None if self.chosen is None else self.chosen.source

    @property
    def form(self) -> str | None:
        return None if self.chosen is None else self.chosen.program.form

    @property
    def program_ir(self) -> Program | None:
        return None if self.chosen is None else self.chosen.program

    @property
    def verification(self) -> Verification | None:
        return None if self.chosen is None else self.chosen.verification

    @property
    def program(self) -> Callable[[list[list[int]]], list[list[int]]]:
        """The emitted program as a callable (loaded from ``source``)."""
        if self.chosen is None:
            raise RuntimeError(f"no program: {self.failed_stage} failed: {self.reason}")
        return load_program(self.chosen.source)

    def record(self) -> dict[str, Any]:
        """Flat JSON-ready summary."""
        net, program = self.network, self.program_ir
        return {
            "ok": self.ok,
            "form": self.form,
            "hidden": net.hidden if net else None,
            "architecture": net.describe() if net else None,
            "network_exact": (net.report is None or net.report.exact) if net else None,
            "state_vars": len(program.state) if program else None,
            "machine": self.machine.kind if self.machine else None,
            "reading": self.machine.reading.to_dict() if self.machine else None,
            "program_lines": len(self.source.splitlines()) if self.source else None,
            "seconds": self.seconds,
            "failed_stage": self.failed_stage,
            "reason": self.reason,
            "verification": self.verification.to_dict() if self.verification else None,
            "independent": [asdict(c) | {"passed": c.passed} for c in self.independent],
            "attempts": [a.describe() for a in self.attempts],
        }


def header(
    network: Recurrent, machine: StateMachine, program: Program, seed: int, digest: str
) -> str:
    """The emitted program's header: what made it, the code (version and commit), the seed and
    the config digest."""
    from mips.provenance import code_identity

    rule = "" if machine.modulus is None else f", state mod {machine.modulus}"
    return (
        f"Network: {network.describe()}; state machine: {machine.kind} "
        f"({machine.reading.describe()}), {machine.n_rows} distinct transitions{rule}; "
        f"form: {program.form}.\n"
        f"{code_identity().describe()}; seed {seed}, config {digest}."
    )


class Clock:
    """Seconds per stage, added up over every network read: ``with clock("extract"): ...``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - start
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + spent, 3)


def checked_independently(
    synthesis: Synthesis, all_data: SequenceData, verify_data: SequenceData | None
) -> Synthesis:
    """``synthesis`` with its program replayed on the sequences held back from every stage
    and on ``verify_data``; failed at ``independent check`` when either contradicts it."""
    if not synthesis.ok:
        return synthesis
    assert synthesis.chosen is not None
    held_back = synthesis.config.held_back(all_data)[1]
    parts = [] if held_back is None else [(f"{held_back.n} sequences held back", held_back)]
    if verify_data is not None:
        parts.append(("--verify-data", verify_data))
    program, source = synthesis.chosen.program, synthesis.chosen.source
    errors = synthesis.config.max_label_errors
    checks = tuple(check_independent(source, program, d, w, errors) for w, d in parts)
    for c in checks:
        log.info(f"independent check: {c.summary()}")
    failed = [c.summary() for c in checks if not c.passed]
    if not failed:
        return replace(synthesis, independent=checks)
    return Synthesis(
        synthesis.config,
        synthesis.seconds,
        attempts=synthesis.attempts,
        network=synthesis.network,
        machine=synthesis.machine,
        failed_stage="independent check",
        reason="the chosen program fails the independent check: " + "; ".join(failed),
        independent=checks,
    )
