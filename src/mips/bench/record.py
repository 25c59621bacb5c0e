"""One benchmark result: the same schema for a judged program and for a failure at any stage.

A record is one JSON line in a results file (``to_dict``) and reads back as the same record
(``from_dict``). The verdicts it holds (the verification's, the independent checks') are kept
as the code that made the record gave them: a later rule must not rewrite an old result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from mips.bench.judge import Judgement
from mips.bench.trace_judge import TraceJudgement
from mips.provenance import CodeIdentity
from mips.verify import IndependentCheck, Verification

if TYPE_CHECKING:
    from mips.synthesis import Synthesis

__all__ = [
    "BenchRecord",
    "IndependentVerdict",
    "NoisyLabels",
    "StageSeconds",
    "VerificationVerdict",
]


@dataclass(frozen=True)
class StageSeconds:
    """Seconds a job spent per stage, in the order the stages ran, and in all (None where a job
    did not say, as a stand-in job in a test)."""

    stages: tuple[tuple[str, float], ...] = ()
    total: float | None = None

    def __post_init__(self) -> None:
        names = [name for name, _ in self.stages]
        if len(set(names)) != len(names) or "total" in names:
            raise ValueError(f"stage names must be distinct and not 'total', got {names}")

    def to_dict(self) -> dict[str, float]:
        total = {} if self.total is None else {"total": self.total}
        return dict(self.stages) | total

    @classmethod
    def from_dict(cls, d: Mapping[str, float]) -> StageSeconds:
        stages = tuple((name, s) for name, s in d.items() if name != "total")
        return cls(stages, d.get("total"))


@dataclass(frozen=True)
class VerificationVerdict:
    """The synthesizer's verification of its program, and whether it counted as verified."""

    verification: Verification
    verified: bool

    @classmethod
    def of(cls, verification: Verification) -> VerificationVerdict:
        return cls(verification, verification.verified)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self.verification) | {"verified": self.verified}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VerificationVerdict:
        figures = {k: v for k, v in d.items() if k != "verified"}
        return cls(Verification(**figures), d["verified"])


@dataclass(frozen=True)
class IndependentVerdict:
    """The program replayed on sequences no stage saw, and whether it passed."""

    check: IndependentCheck
    passed: bool

    @classmethod
    def of(cls, check: IndependentCheck) -> IndependentVerdict:
        return cls(check, check.passed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self.check) | {"passed": self.passed}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IndependentVerdict:
        figures = {k: v for k, v in d.items() if k != "passed"}
        return cls(IndependentCheck(**figures), d["passed"])


@dataclass(frozen=True)
class NoisyLabels:
    """How many labels a job's data had changed (the noisy variant), and how many of those steps
    the synthesis named among its suspects."""

    changed: int
    found: int

    def __post_init__(self) -> None:
        if not 0 <= self.found <= self.changed:
            raise ValueError(f"found {self.found} of {self.changed} changed labels")


def judgement_from_dict(d: Mapping[str, Any]) -> Judgement | TraceJudgement:
    """The judge's verdict in ``d``: a word machine's trace judgement, or the integer judge's."""
    return TraceJudgement.from_dict(d) if d.get("kind") == "traces" else Judgement.from_dict(d)


@dataclass(frozen=True, kw_only=True)
class BenchRecord:
    """What one (task, seed) job produced, with the config (and its digest, as in the program's
    header) and the code that made it (see :mod:`mips.provenance`).

    ``failed_stage`` is None only for a program judged correct; otherwise it names the stage
    (network, extract, verify, judge, job, timeout) and ``reason`` says why. ``variant`` names
    the benchmark variant whose data the job learned from (None: the plain benchmark).
    """

    task: str
    seed: int
    n: int
    variant: str | None = None
    correct: bool = False
    ok: bool = False
    form: str | None = None
    hidden: int | None = None
    architecture: str | None = None
    network_exact: bool | None = None
    state_vars: int | None = None
    machine: str | None = None
    # How the machine was read, in the extract stage's own schema: carried, never read here.
    reading: dict[str, Any] | None = None
    program_lines: int | None = None
    program_file: str | None = None
    seconds: StageSeconds = StageSeconds()
    failed_stage: str | None = None
    reason: str | None = None
    verification: VerificationVerdict | None = None
    # The program replayed on the sequences held back from every stage (and any user file).
    independent: tuple[IndependentVerdict, ...] = ()
    attempts: tuple[str, ...] = ()
    judge_seed: int | None = None
    judgement: Judgement | TraceJudgement | None = None
    noisy_labels: NoisyLabels | None = None
    # The SynthConfig as its code wrote it; a record of other code may hold other fields.
    config: dict[str, Any] | None = None
    config_digest: str | None = None
    version: str | None = None
    code: CodeIdentity | None = None
    traceback: str | None = None

    def __post_init__(self) -> None:
        if self.correct and (not self.ok or self.failed_stage is not None):
            raise ValueError(f"{self.task} seed {self.seed}: correct, yet not ok or failed")
        if not self.correct and self.failed_stage is None:
            raise ValueError(f"{self.task} seed {self.seed}: not correct, yet no failed stage")
        if self.correct and self.judgement is not None and not self.judgement.correct:
            raise ValueError(f"{self.task} seed {self.seed}: correct, yet judged wrong")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready record, one key per field; the variant's fields only in a variant's
        record, so that a plain record reads as records did before variants."""
        v, j, c = self.verification, self.judgement, self.code
        every = {f.name: getattr(self, f.name) for f in fields(self)} | {
            "seconds": self.seconds.to_dict(),
            "verification": None if v is None else v.to_dict(),
            "independent": [check.to_dict() for check in self.independent],
            "attempts": list(self.attempts),
            "judgement": None if j is None else j.to_dict(),
            "noisy_labels": None if self.noisy_labels is None else asdict(self.noisy_labels),
            "code": None if c is None else c.to_dict(),
        }
        return {k: x for k, x in every.items() if k not in _VARIANT_ONLY or x is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BenchRecord:
        """The record in ``d``; keys this schema does not know, or a field it cannot read, are
        refused with a ValueError."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown record fields {sorted(unknown)}")
        parsed = dict(d)
        for name, parse in _PARSERS.items():
            if parsed.get(name) is not None:
                parsed[name] = _parsed(name, parse, parsed[name])
        try:
            return cls(**parsed)
        except TypeError as e:  # a required field missing
            raise ValueError(f"not a record: {e}") from None

    @classmethod
    def of_synthesis(cls, synthesis: Synthesis, **job: Any) -> BenchRecord:
        """The record of what ``synthesis`` gave and of the ``job``'s own fields (task, seed,
        judgement, seconds with the judge's...), which take precedence."""
        net, program, machine = synthesis.network, synthesis.program_ir, synthesis.machine
        verification, source = synthesis.verification, synthesis.source
        own = {
            "ok": synthesis.ok,
            "form": synthesis.form,
            "hidden": None if net is None else net.hidden,
            "architecture": None if net is None else net.describe(),
            "network_exact": None if net is None else net.report is None or net.report.exact,
            "state_vars": None if program is None else len(program.state),
            "machine": None if machine is None else machine.kind,
            "reading": None if machine is None else machine.reading.to_dict(),
            "program_lines": None if source is None else len(source.splitlines()),
            "seconds": StageSeconds(tuple(synthesis.seconds.items())),
            "failed_stage": synthesis.failed_stage,
            "reason": synthesis.reason,
            "verification": None if verification is None else VerificationVerdict.of(verification),
            "independent": tuple(IndependentVerdict.of(c) for c in synthesis.independent),
            "attempts": tuple(a.describe() for a in synthesis.attempts),
        }
        return cls(**(own | job))


def _parsed(name: str, parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except (TypeError, KeyError, ValueError, AttributeError) as e:
        raise ValueError(f"record field {name!r}: {type(e).__name__}: {e}") from None


_VARIANT_ONLY = ("variant", "noisy_labels")

_PARSERS: dict[str, Callable[[Any], Any]] = {
    "seconds": StageSeconds.from_dict,
    "verification": VerificationVerdict.from_dict,
    "independent": lambda checks: tuple(IndependentVerdict.from_dict(c) for c in checks),
    "attempts": tuple,
    "judgement": judgement_from_dict,
    "noisy_labels": lambda d: NoisyLabels(**d),
    "code": CodeIdentity.from_dict,
}
