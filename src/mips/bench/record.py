"""One benchmark result: the same schema for a judged program and for a failure at any stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class BenchRecord:
    """What one (task, seed) job produced, with the config (and its digest, as in the program's
    header) and the code that made it (``code``: version, commit, dirty; see
    :mod:`mips.provenance`).

    ``failed_stage`` is None only for a program judged correct; otherwise it names the stage
    (network, extract, verify, judge, job, timeout) and ``reason`` says why.
    """

    task: str
    seed: int
    n: int
    correct: bool = False
    ok: bool = False
    form: str | None = None
    hidden: int | None = None
    architecture: str | None = None
    network_exact: bool | None = None
    state_vars: int | None = None
    machine: str | None = None
    reading: dict[str, Any] | None = None
    program_lines: int | None = None
    program_file: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    failed_stage: str | None = None
    reason: str | None = None
    verification: dict[str, Any] | None = None
    # The program replayed on the sequences held back from every stage (and any user file).
    independent: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    judge_seed: int | None = None
    judgement: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    config_digest: str | None = None
    version: str | None = None
    code: dict[str, Any] | None = None
    traceback: str | None = None

    def __post_init__(self) -> None:
        if self.correct and (not self.ok or self.failed_stage is not None):
            raise ValueError(f"{self.task} seed {self.seed}: correct, yet not ok or failed")
        if not self.correct and self.failed_stage is None:
            raise ValueError(f"{self.task} seed {self.seed}: not correct, yet no failed stage")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchRecord:
        """The record in ``d``; keys this schema does not know are refused."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown record fields {sorted(unknown)}")
        return cls(**d)
