"""What a synthesis is configured by and what it returns: the config and the result, and the
result every reading of a network shares with an explanation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from mips.config import config_digest, spawn_seeds
from mips.data import SequenceData
from mips.extract import NEAR_EXACT, ExtractConfig
from mips.machine import StateMachine
from mips.network.artifact import Recurrent
from mips.network.search import SearchConfig
from mips.program import Program
from mips.reading import Attempt, ReadingPass, ReadingPlan
from mips.regress import RegressConfig
from mips.simplify import SimplifyConfig
from mips.suspects import Suspect
from mips.verify import IndependentCheck, Verification, check_independent, load_program

__all__ = ["ReadResult", "SynthConfig", "Synthesis"]


log = logging.getLogger(__name__)

HOLD_BACK_FROM = 10
HOLD_BACK_KEY = 0xC4EC


@dataclass(frozen=True, kw_only=True)
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
        simplify_seed, extract_seed, regress_seed = spawn_seeds(self.seed, 3)
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
        return config_digest(self)

    def reading_plan(self) -> ReadingPlan:
        """Every reader the data call for, then, with ``max_label_errors``, the majority reading,
        which competes with finite readings and stands in where a reading gives no formula; each
        reading may take each (state, input)'s most frequent output within that share."""
        stage = self.seeded()
        within = replace(stage.extract, majority_tolerance=self.max_label_errors)
        passes = [ReadingPass(None, within, self.max_label_errors)]
        if self.max_label_errors:
            passes.append(ReadingPass(NEAR_EXACT, within, self.max_label_errors))
        return ReadingPlan(
            passes=tuple(passes),
            regress=stage.regress,
            enough="formula",
            compete=bool(self.max_label_errors),
            beside_guesses=True,
            seed=self.seed,
            digest=self.digest(),
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class ReadResult:
    """What reading programs out of a network gives: the seconds per stage, the attempts in
    order, and the chosen one (None when none verified)."""

    seconds: dict[str, float]
    chosen: Attempt | None = None
    attempts: tuple[Attempt, ...] = ()

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


@dataclass(frozen=True, eq=False, kw_only=True)
class Synthesis(ReadResult):
    """The result of :func:`mips.synthesize`: the chosen attempt, or the stage that failed and why.

    ``network`` and ``machine`` are the chosen attempt's, or on failure the first ones read.
    """

    config: SynthConfig
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
    def program(self) -> Callable[[list[list[int]]], list[list[int]]]:
        """The emitted program as a callable (loaded from ``source``)."""
        if self.chosen is None:
            raise RuntimeError(f"no program: {self.failed_stage} failed: {self.reason}")
        return load_program(self.chosen.source)


def checked_independently(
    synthesis: Synthesis, held_back: SequenceData | None, verify_data: SequenceData | None
) -> Synthesis:
    """``synthesis`` with its program replayed on the sequences ``held_back`` from every stage
    and on ``verify_data``; failed at ``independent check`` when either contradicts it."""
    if not synthesis.ok:
        return synthesis
    assert synthesis.chosen is not None
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
        config=synthesis.config,
        seconds=synthesis.seconds,
        attempts=synthesis.attempts,
        network=synthesis.network,
        machine=synthesis.machine,
        failed_stage="independent check",
        reason="the chosen program fails the independent check: " + "; ".join(failed),
        independent=checks,
    )
