"""Reading a network under one policy: its state machines (extract), a program for each
(regress, emit), each program checked on held-out data (verify).

A :class:`ReadingPlan` says what to read and how tolerantly: passes of readers in order, each
with its extract config and the share of labelled steps its programs may contradict; what ends
the reading of a network (a verified formula, or any verified program); and whether finite
readings and the majority reading compete, as they must when labels may be wrong.
:func:`mips.synthesize` and :func:`mips.explain` build their plans from their configs and read
every network with :func:`read_network`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from mips.data import SequenceData
from mips.emit import emit_python
from mips.extract import ExtractConfig, ExtractionError, Reader, closed_refinement, extract
from mips.machine import StateMachine
from mips.network.artifact import Recurrent
from mips.network.causal import Readable, horizon_of
from mips.program import Program, Words
from mips.regress import RegressConfig, regress
from mips.regress.mealy import mealy_program
from mips.verify import Verification, verify

__all__ = [
    "Attempt",
    "Beyond",
    "Clock",
    "NetworkReading",
    "ReadingPass",
    "ReadingPlan",
    "best_attempt",
    "header",
    "read_network",
]

log = logging.getLogger(__name__)


# Programs are compared with their network on sequences this many times the data's length.
BEYOND_FACTOR = 4
BEYOND_SEQUENCES = 256
BEYOND_KEY = 0xBE


@dataclass(frozen=True)
class Beyond:
    """A program against the network it was read from, on ``sequences`` inputs of ``length``
    steps, longer than any in the data: the first (sequence, step) where their answers differ,
    or None where they agree throughout."""

    length: int
    sequences: int
    differs_at: tuple[int, int] | None

    @property
    def agrees(self) -> bool:
        return self.differs_at is None

    def describe(self) -> str:
        if self.agrees:
            return f"agrees with its network on {self.sequences} sequences of {self.length} steps"
        i, t = self.differs_at
        return f"differs from its network at step {t} of {self.length} (sequence {i})"


@dataclass(frozen=True, kw_only=True, eq=False)
class Attempt:
    """One reading tried: the network read, the machine read from it, its program, the check,
    and for a formula, how it compares with the network past the data's length."""

    network: Recurrent
    machine: StateMachine
    program: Program
    source: str
    verification: Verification
    beyond: Beyond | None = None

    @property
    def verified_formula(self) -> bool:
        return self.verification.verified and self.program.form == "formula"

    @property
    def generalises(self) -> bool:
        """Not shown to differ from its network on sequences longer than the data."""
        return self.beyond is None or self.beyond.agrees

    def describe(self) -> str:
        report = self.verification
        text = (
            f"{self.machine.kind}/{self.machine.reading.describe()}: {self.program.form}, "
            f"{'verified' if report.verified else report.summary()}"
        )
        return text if self.beyond is None else f"{text}; {self.beyond.describe()}"


def best_attempt(attempts: list[Attempt]) -> Attempt | None:
    """The first verified formula that does not differ from its network past the data's
    length, else the first verified formula, else the first verified table, else None. Two
    readings that both replay the data (a finite copy of a count the data's length bounds, and
    the count) part on longer sequences, where the network shows which one it holds."""
    verified = [a for a in attempts if a.verification.verified]
    formulas = [a for a in attempts if a.verified_formula]
    held = [a for a in formulas if a.generalises]
    return (held or formulas or verified or [None])[0]


@dataclass(frozen=True)
class ReadingPass:
    """One call of the extract stage and the programs of its machines: ``readers`` (None: the
    extract stage's own choice for the data) under ``extract``, each program allowed to
    contradict ``tolerance`` of the labelled steps."""

    readers: tuple[Reader, ...] | None
    extract: ExtractConfig
    tolerance: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ReadingPlan:
    """How a network is read: ``passes`` in order, the next read only while those before gave
    no verified program ``enough`` (a formula, or any program). With ``compete``, a pass whose
    machines are all finite has every machine regressed, and so has the pass after it, so that
    the program contradicting fewest labels can be chosen among them. With ``beside_guesses``,
    a machine whose exact program is not all formulas also gets one whose formulas may depart
    from the rows the data never take (what the network answered when probed past its data):
    right for a synthesis, whose truth is the data, wrong for an explanation, whose truth is the
    network. With ``fewest_states``, a count chosen is also read in the fewest states that
    answer as it does (:func:`_in_fewest_states`): an explanation names its network's machine
    in its smallest form, where a synthesis keeps the count that generalises. ``seed`` and
    ``digest`` name the config in each program's header."""

    passes: tuple[ReadingPass, ...]
    regress: RegressConfig
    enough: Literal["formula", "program"] = "formula"
    compete: bool = False
    beside_guesses: bool = False
    fewest_states: bool = False
    seed: int = 0
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.passes:
            raise ValueError("a reading plan needs at least one pass")

    def satisfied(self, attempts: list[Attempt]) -> bool:
        """Whether ``attempts`` hold a verified program of the kind that ends the reading (a
        formula only where it does not differ from its network past the data's length)."""
        if self.enough == "program":
            return any(a.verification.verified for a in attempts)
        return any(a.verified_formula and a.generalises for a in attempts)


@dataclass(frozen=True, eq=False)
class NetworkReading:
    """What reading one network gave: the attempts in order, the first machine read (None when
    no reader read one), and why each pass that read nothing failed."""

    network: Recurrent
    attempts: tuple[Attempt, ...]
    machine: StateMachine | None
    reasons: tuple[str, ...]


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


def read_network(
    net: Recurrent,
    plan: ReadingPlan,
    clock: Clock,
    *,
    states_on: SequenceData,
    data: SequenceData,
    heldout: SequenceData,
    reader: Readable | None = None,
) -> NetworkReading:
    """``net`` read by ``plan``: machines read from its hidden states on ``states_on`` (from
    ``reader`` when it is read otherwise than it answers, e.g. within its positions), each
    machine's program speaking ``data``'s words and verified on ``heldout``."""
    attempts: list[Attempt] = []
    reasons: list[str] = []
    first: StateMachine | None = None
    every = False
    longer = _longer_inputs(net, data, plan.seed)
    for index, step in enumerate(plan.passes):
        if index and not every and plan.satisfied(attempts):
            break
        with clock("extract"):
            try:
                machines = extract(reader or net, states_on, step.extract, step.readers)
            except ExtractionError as e:
                machines = []
                reasons.append(str(e))
        first = first or (machines[0] if machines else None)
        competing = plan.compete and all(m.kind == "finite" for m in machines)
        with clock("regress+verify"):
            attempts += _programs(
                net, machines, plan, step.tolerance, data, heldout, longer, every or competing
            )
        every = competing
    if plan.fewest_states:
        with clock("regress+verify"):
            attempts = _in_fewest_states(
                net, plan, attempts, reader or net, states_on, data, heldout, longer
            )
    return NetworkReading(net, tuple(attempts), first, tuple(reasons))


def _programs(
    net: Recurrent,
    machines: list[StateMachine],
    plan: ReadingPlan,
    tolerance: float,
    data: SequenceData,
    heldout: SequenceData,
    longer: np.ndarray | None,
    every: bool,
) -> list[Attempt]:
    """Regress, emit and verify each machine in turn, up to the first verified formula (or
    ``every`` machine). With a ``tolerance``, each machine also gets a tolerant program, whose
    formulas may miss the machine's rarest rows (taken up to that share of ``data``'s steps): a
    network that fits a few wrong labels may learn them as rows of its own. Verified formulas
    are run beside ``net`` on the ``longer`` inputs."""
    attempts: list[Attempt] = []
    for machine in machines:
        start = time.perf_counter()
        if any(a.verified_formula for a in attempts) and machine.kind != "lattice" and not every:
            # A verified formula that its network contradicts past the data: only an unbounded
            # reading may still generalise where it does not.
            continue
        if data.all_words and machine.kind == "finite":
            attempts.append(mealy_attempt(net, machine, plan, data, heldout))
            log.info(f"program: {attempts[-1].describe()} ({time.perf_counter() - start:.1f} s)")
            if attempts[-1].verification.verified and not every:
                break
            continue
        found = _formulas(net, machine, plan, tolerance, data, heldout, longer)
        attempts += found
        if not every and any(a.verified_formula and a.generalises for a in found):
            break
    return attempts


def _formulas(
    net: Recurrent,
    machine: StateMachine,
    plan: ReadingPlan,
    tolerance: float,
    data: SequenceData,
    heldout: SequenceData,
    longer: np.ndarray | None,
) -> list[Attempt]:
    """``machine``'s program, and with a ``tolerance`` its tolerant program when that differs,
    each emitted, verified on ``heldout`` and, when a verified formula, run beside ``net`` on the
    ``longer`` inputs."""
    start = time.perf_counter()
    programs = [(regress(machine, plan.regress), False)]
    if tolerance:
        tolerant = replace(plan.regress, tolerance=tolerance)
        programs.append((regress(machine, tolerant, machine.row_counts(data)), True))
    elif plan.beside_guesses and programs[0][0].form != "formula":
        programs += _beside_guesses(machine, plan.regress, data)
    attempts: list[Attempt] = []
    for program, departs in programs:
        program = _with_words(program, data)
        source = emit_python(program, header(net, machine, program, plan.seed, plan.digest))
        if departs and source == attempts[-1].source:
            continue
        report = verify(source, program, machine, heldout, tolerance, departs)
        formula = report.verified and program.form == "formula"
        attempts.append(
            Attempt(
                network=net,
                machine=machine,
                program=program,
                source=source,
                verification=report,
                beyond=_beyond(net, program, longer) if formula else None,
            )
        )
        log.info(f"program: {attempts[-1].describe()} ({time.perf_counter() - start:.1f} s)")
    return attempts


def _beside_guesses(
    machine: StateMachine, config: RegressConfig, data: SequenceData
) -> list[tuple[Program, bool]]:
    """The program whose formulas answer every row the data take and may depart from the rest,
    when ``machine`` holds rows the data never take: where the states were probed, those rows
    are the network's guesses past its data. A near-exact network that answers two extreme
    inputs wrong makes the exact program a table of every pair of inputs, where the rows the
    data show follow one short formula."""
    counts = machine.row_counts(data)
    if counts.all() or not counts.any():
        return []
    # Below one step of the data: only rows the data never take may be missed.
    within = replace(config, tolerance=0.5 / counts.sum())
    return [(regress(machine, within, counts), True)]


def _longer_inputs(net: Readable, data: SequenceData, seed: int) -> np.ndarray | None:
    """:func:`_concatenated` inputs, or None for a model that cannot run that long."""
    horizon = horizon_of(net)
    if horizon is not None and horizon < BEYOND_FACTOR * data.length:
        return None
    return _concatenated(data, seed)


def _concatenated(data: SequenceData, seed: int) -> np.ndarray | None:
    """Inputs :data:`BEYOND_FACTOR` times the data's length, each the concatenation of whole
    sequences of the data, so that what the inputs drive (counts, sums) grows as it does in
    the data; None for data without a whole sequence, or of words."""
    length = BEYOND_FACTOR * data.length
    whole = np.flatnonzero(data.seq_lengths == data.length)
    if whole.size == 0 or data.all_words:
        return None
    rng = np.random.default_rng(np.random.SeedSequence([seed, BEYOND_KEY]))
    rows = whole[rng.integers(0, whole.size, (BEYOND_SEQUENCES, BEYOND_FACTOR))]
    return data.x[rows].reshape(BEYOND_SEQUENCES, length, data.d_in)


def _in_fewest_states(
    net: Recurrent,
    plan: ReadingPlan,
    attempts: list[Attempt],
    reader: Readable,
    states_on: SequenceData,
    data: SequenceData,
    heldout: SequenceData,
    longer: np.ndarray | None,
) -> list[Attempt]:
    """``attempts``, led by the chosen count's program in fewer states where there is one: the
    machine over the network's probe classes refined by the data's transitions, closed, whose
    verified formula answers as the count's does on inputs :data:`BEYOND_FACTOR` times the
    data's length. A count that nothing reads past a bound (zeros since the last 1, once a
    string has died) is then the finite machine it amounts to; a count the refined machine
    folds at the top the data seldom reach answers otherwise on long inputs, and stays."""
    chosen = best_attempt(attempts)
    if chosen is None or chosen.machine.kind != "lattice" or not chosen.verified_formula:
        return attempts
    inputs = _concatenated(data, plan.seed)
    if inputs is None:
        return attempts
    machine = closed_refinement(reader, states_on, plan.passes[0].extract)
    if machine is None:
        return attempts
    expected, answered = chosen.program.run_batch(inputs)
    for found in _formulas(net, machine, plan, 0.0, data, heldout, longer):
        out, seen = found.program.run_batch(inputs)
        if found.verified_formula and seen.all() and answered.all() and (out == expected).all():
            log.info("program: the count in its fewest states, which answer as it does")
            return [found, *attempts]
    return attempts


def _beyond(net: Readable, program: Program, longer: np.ndarray | None) -> Beyond | None:
    """``program`` against ``net`` on the ``longer`` inputs; None without them."""
    if longer is None:
        return None
    out, answered = program.run_batch(longer)
    differ = (out != net.predict(longer)).any(axis=2) & answered[:, None]
    found = np.argwhere(differ)
    first = None if not len(found) else (int(found[0][0]), int(found[0][1]))
    return Beyond(longer.shape[1], len(longer), first)


def mealy_attempt(
    net: Recurrent,
    machine: StateMachine,
    plan: ReadingPlan,
    data: SequenceData,
    heldout: SequenceData,
) -> Attempt:
    """A finite machine over ``data``'s words as its Mealy table, emitted and verified on
    ``heldout``: no formula search over word codes."""
    words_in, words_out = _words(data)
    table = mealy_program(machine, words_in, words_out, plan.regress.unseen)
    source = emit_python(table, header(net, machine, table, plan.seed, plan.digest))
    return Attempt(
        network=net,
        machine=machine,
        program=table,
        source=source,
        verification=verify(source, table, machine, heldout),
    )


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


def _words(data: SequenceData) -> tuple[Words, Words]:
    """The words of each input and output column (None for an integer column)."""
    words_in = tuple(None if v is None else v.words for v in data.x_vocab or (None,) * data.d_in)
    words_out = tuple(None if v is None else v.words for v in data.y_vocab or (None,) * data.d_out)
    return words_in, words_out


def _with_words(program: Program, data: SequenceData) -> Program:
    """The program taking and returning the data's words, where its columns have them."""
    if data.x_vocab is None and data.y_vocab is None:
        return program
    words_in, words_out = _words(data)
    return replace(program, words_in=words_in, words_out=words_out)
