"""The MIPS pipeline, from sequence data to a verified program; one call per stage."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mips.data import SequenceData
from mips.extract import ExtractConfig, ExtractionError, StateMachine, extract
from mips.network.artifact import TrainedNetwork
from mips.program import Program, emit_python
from mips.regress.machine import RegressConfig, regress
from mips.simplify import SimplifyConfig, simplify
from mips.verify import Verification, load_program, verify


@dataclass(frozen=True)
class SynthConfig:
    """Every stage's config; ``seed`` is the one seed the whole run derives from."""

    seed: int = 0
    test_fraction: float = 0.2
    device: str = "cpu"
    max_hidden: int = 8
    simplify: SimplifyConfig = field(default_factory=SimplifyConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    regress: RegressConfig = field(default_factory=RegressConfig)


@dataclass(frozen=True, eq=False)
class Synthesis:
    """The result of :func:`synthesize`; ``source`` is None when no verified program was found."""

    source: str | None
    form: str | None
    program_ir: Program | None
    machine: StateMachine | None
    network: TrainedNetwork | None
    verification: Verification | None
    seconds: dict[str, float]
    failed_stage: str | None = None
    reason: str | None = None
    attempts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.source is not None

    @property
    def program(self) -> Callable[[list[list[int]]], list[list[int]]]:
        """The emitted program as a callable (loaded from ``source``)."""
        if self.source is None:
            raise RuntimeError(f"no program: {self.failed_stage} failed: {self.reason}")
        return load_program(self.source)

    def record(self) -> dict[str, Any]:
        """Flat JSON-ready summary."""
        net = self.network
        return {
            "ok": self.ok,
            "form": self.form,
            "hidden": net.hidden if net else None,
            "architecture": net.arch.describe() if net else None,
            "state_vars": len(self.program_ir.state) if self.program_ir else None,
            "machine": self.machine.kind if self.machine else None,
            "program_lines": len(self.source.splitlines()) if self.source else None,
            "seconds": self.seconds,
            "failed_stage": self.failed_stage,
            "reason": self.reason,
            "verification": self.verification.to_dict() if self.verification else None,
        }


def synthesize(
    data: SequenceData,
    config: SynthConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    network: TrainedNetwork | None = None,
) -> Synthesis:
    """Train (or take) a network on ``data``, read its state machine, and emit a verified program."""
    from mips.network.search import NoExactNetwork, SearchConfig, search_ranked
    from mips.network.train import TrainConfig

    config = config or SynthConfig()
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 3)
        clock = now

    def fail(stage: str, reason: str, **kw: Any) -> Synthesis:
        return Synthesis(
            None,
            None,
            None,
            kw.get("machine"),
            kw.get("network"),
            None,
            seconds,
            stage,
            reason,
            tuple(kw.get("attempts", ())),
        )

    if network is None:
        search_config = SearchConfig(
            max_hidden=config.max_hidden,
            test_fraction=config.test_fraction,
            seed=config.seed,
            train=TrainConfig(device=config.device),
        )
        try:
            networks = search_ranked(data, search_config, progress)
        except NoExactNetwork as e:
            lap("network")
            return fail("network", str(e))
    else:
        networks = [network]
    lap("network")
    _, heldout = data.split(config.test_fraction, config.seed)
    errors: list[str] = []
    attempts: list[str] = []
    first_machine: StateMachine | None = None
    first_net: TrainedNetwork | None = None
    best = None
    for net in _readable(networks, data, config, seconds):
        first_net = first_net or net
        best, first = _read(net, data, heldout, config, seconds, errors, attempts, best)
        first_machine = first_machine or first
        if best is not None and best[1].form == "formula":
            break
    if first_machine is None:
        return fail("extract", errors[0], network=first_net)
    if best is None:
        return fail(
            "verify",
            "; ".join(attempts),
            network=first_net,
            machine=first_machine,
            attempts=attempts,
        )
    source, program, machine, report, net = best
    return Synthesis(
        source, program.form, program, machine, net, report, seconds, attempts=tuple(attempts)
    )


def _readable(
    networks: list[TrainedNetwork],
    data: SequenceData,
    config: SynthConfig,
    seconds: dict[str, float],
) -> Iterator[TrainedNetwork]:
    """The networks to read, in order, simplified lazily: a larger runner-up, or an unsimplified
    network, is only read when what came before gave no verified formula."""
    for candidate in networks:
        t0 = time.perf_counter()
        simplified = simplify(candidate, data, config.simplify)
        _add(seconds, "simplify", time.perf_counter() - t0)
        yield simplified
        # Snapping makes lattices exact but can blur clusters: the original is read too.
        if simplified.metrics.get("simplified"):
            yield candidate


def _read(
    net: TrainedNetwork,
    data: SequenceData,
    heldout: SequenceData,
    config: SynthConfig,
    seconds: dict[str, float],
    errors: list[str],
    attempts: list[str],
    best: tuple | None,
) -> tuple[tuple | None, StateMachine | None]:
    """Extract, regress and verify one network's machines: the best verified so far, and the
    first machine read."""
    t0 = time.perf_counter()
    try:
        machines = extract(net, data, config.extract)
    except ExtractionError as e:
        errors.append(str(e))
        machines = []
    _add(seconds, "extract", time.perf_counter() - t0)
    t0 = time.perf_counter()
    for machine in machines:
        program = regress(machine, config.regress)
        source = emit_python(program, _header(net, machine, program))
        report = verify(source, program, machine, heldout)
        attempts.append(
            f"{machine.kind}/{machine.info.get('source')}: {program.form}, "
            f"{'verified' if report.verified else report.summary()}"
        )
        if report.verified and (
            best is None or (best[1].form, program.form) == ("table", "formula")
        ):
            best = (source, program, machine, report, net)
            if program.form == "formula":
                break
    _add(seconds, "regress+verify", time.perf_counter() - t0)
    return best, machines[0] if machines else None


def _add(seconds: dict[str, float], stage: str, value: float) -> None:
    seconds[stage] = round(seconds.get(stage, 0.0) + value, 3)


def _header(network: TrainedNetwork, machine: StateMachine, program: Program) -> str:
    return (
        f"Network: {network.arch.describe()}; state machine: {machine.kind} "
        f"({machine.info.get('source')}), {machine.n_rows} distinct transitions"
        f"{'' if machine.modulus is None else f', state mod {machine.modulus}'}; "
        f"form: {program.form}."
    )
