"""The MIPS pipeline, from sequence data to a verified program: one call per stage.

    SequenceData -> network (search) -> simplify -> extract -> regress -> emit -> verify

The data are split once: the network search trains on one part and checks exactness on the
other; simplification, the state machine and its formulas are read from the training part only,
and the emitted program is verified on the held-out part, which none of them saw. The search
keeps the smallest exact network of each family; a larger one is read only when the smaller gave
no verified formula, and a simplified network's original is read too (snapping makes lattices
exact but can blur clusters).

Labels no program can give (the same inputs so far, different outputs) stop the synthesis
before training, unless ``max_label_errors`` allows that many. With ``max_label_errors``, the
network may miss that fraction of the labels; everything after it reads the network's own
answers, and the labelled steps the program contradicts are returned as suspects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from mips.data import SequenceData, contradictions
from mips.emit import emit_python
from mips.extract import NEAR_EXACT, ExtractConfig, ExtractionError, extract
from mips.machine import StateMachine
from mips.network.artifact import Recurrent, TrainedNetwork
from mips.program import Program, Words
from mips.regress import RegressConfig, regress
from mips.regress.mealy import mealy_program
from mips.simplify import simplify
from mips.synthesis import (
    Attempt,
    Clock,
    Suspect,
    SynthConfig,
    Synthesis,
    best_attempt,
    checked_independently,
    header,
)
from mips.verify import verify

__all__ = ["Attempt", "SynthConfig", "Synthesis", "read_programs", "synthesize"]
log = logging.getLogger(__name__)


def synthesize(
    data: SequenceData,
    config: SynthConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    network: Recurrent | None = None,
    verify_data: SequenceData | None = None,
) -> Synthesis:
    """Train (or take) a network on ``data``, read its state machine, and emit a verified program.

    The chosen program is then replayed on the sequences held back before training and on
    ``verify_data``: a program that fails either is not returned as verified."""
    synthesis = _synthesize(data, config, progress, network)
    return checked_independently(synthesis, data, verify_data)


def _synthesize(
    all_data: SequenceData,
    config: SynthConfig | None,
    progress: Callable[[str, int, int], None] | None,
    network: Recurrent | None,
) -> Synthesis:
    from mips.network.search import NoExactNetwork, search_rounds

    config = config or SynthConfig()
    stage = config.seeded()
    clock = Clock()
    clash = contradictions(all_data)
    if clash.fraction > config.max_label_errors:
        return Synthesis(
            config, clock.seconds, failed_stage="data", reason=clash.describe(all_data)
        )
    data = config.held_back(all_data)[0]
    train, heldout = data.split(stage.search.split_fraction(data), stage.search.seed)
    # The search comes in rounds: near-exact networks may be read before slower families train.
    rounds = iter([[network]]) if network else search_rounds(train, heldout, stage.search, progress)
    attempts: list[Attempt] = []
    errors: list[str] = []
    first_net, first_machine = None, None
    while True:
        try:
            with clock("network"):
                networks = next(rounds, None)
        except NoExactNetwork as e:  # raised only when no round came before
            return Synthesis(config, clock.seconds, failed_stage="network", reason=str(e))
        if networks is None:
            break
        for net, answers in _simplified(networks, train, stage, clock):
            first_net = first_net or net
            with clock("extract"):
                machines = _read(net, answers, stage, errors)
            first_machine = first_machine or (machines[0] if machines else None)
            read = _reader_of(net, data, heldout, stage, config)
            noisy = bool(config.max_label_errors)
            with clock("regress+verify"):
                # Noisy labels with only finite readings: the majority reading competes.
                found = read(machines, noisy and _all_finite(machines))
            if noisy and not _all_finite(machines) and not _any_formula(found):
                # A reading that is not finite (a count of every symbol, right on the network's
                # answers within the tolerance) may give no formula where the majority does.
                with clock("extract"):
                    fallback = _by_majority(net, answers, stage)
                with clock("regress+verify"):
                    found += read(fallback, True)
            attempts += found
            chosen = best_attempt(attempts)
            if chosen is not None and chosen.program.form == "formula":
                return _result(config, clock, attempts, first_net, first_machine, errors, all_data)
            # A machine over words is a table by nature: a verified one is the answer, read
            # again from the network taught every trace.
            if chosen is not None and data.all_words:
                if not chosen.verification.heldout_unseen:  # no held-out step it lacks
                    return _result(
                        config, clock, attempts, first_net, first_machine, errors, all_data
                    )
                with clock("refit"):
                    again = _on_all_traces(chosen, data, heldout, stage, config)
                if again is not chosen:  # the table of every trace is the one chosen
                    attempts.insert(attempts.index(chosen), again)
                return _result(config, clock, attempts, first_net, first_machine, errors, all_data)
    return _result(config, clock, attempts, first_net, first_machine, errors, all_data)


def read_programs(
    net: Recurrent,
    machines: list[StateMachine],
    data: SequenceData,
    heldout: SequenceData,
    config: RegressConfig,
    max_label_errors: float,
    header_of: Callable[[Recurrent, StateMachine, Program], str],
    every: bool = False,
) -> list[Attempt]:
    """Regress, emit and verify each machine in turn, up to the first verified formula (or
    ``every`` machine); the programs speak ``data``'s words and are verified on ``heldout``.
    With ``max_label_errors``, each machine also gets a tolerant program, whose formulas may
    miss the machine's rarest rows (taken up to that share of ``data``'s steps): a network that
    fits a few wrong labels may learn them as rows of its own."""
    attempts: list[Attempt] = []
    for machine in machines:
        start = time.perf_counter()
        if data.all_words and machine.kind == "finite":
            attempts.append(_mealy_attempt(net, machine, data, heldout, config.unseen, header_of))
            log.info(f"program: {attempts[-1].describe()} ({time.perf_counter() - start:.1f} s)")
            if attempts[-1].verification.verified and not every:
                break
            continue
        programs = [(regress(machine, config), False)]
        if max_label_errors:
            counts = machine.row_counts(data)
            tolerant = replace(config, tolerance=max_label_errors)
            programs.append((regress(machine, tolerant, counts), True))
        done = False
        for program, departs in programs:
            program = _with_words(program, data)
            source = emit_python(program, header_of(net, machine, program))
            if departs and source == attempts[-1].source:
                continue
            report = verify(source, program, machine, heldout, max_label_errors, departs)
            attempts.append(Attempt(net, machine, program, source, report))
            log.info(f"program: {attempts[-1].describe()} ({time.perf_counter() - start:.1f} s)")
            done = done or (report.verified and program.form == "formula")
        if done and not every:
            break
    return attempts


def _read(
    net: Recurrent, answers: SequenceData, stage: SynthConfig, errors: list[str]
) -> list[StateMachine]:
    """The machines read from ``net``; with ``max_label_errors``, when every reading is finite,
    also the machine read by majority within that share of the network's answers. The network
    that fits noisy labels may learn a few of them, as a rare state of its own; the majority
    reading merges such a state into the frequent one it behaves like, and the program that
    contradicts fewest labels wins."""
    machines = []
    try:
        machines = extract(net, answers, _within_label_errors(stage))
    except ExtractionError as e:
        errors.append(str(e))
    # The majority reading is a finite one: it competes only with finite readings.
    if not stage.max_label_errors or not _all_finite(machines):
        return machines
    return machines + _by_majority(net, answers, stage)


def _on_all_traces(
    chosen: Attempt,
    data: SequenceData,
    heldout: SequenceData,
    stage: SynthConfig,
    config: SynthConfig,
) -> Attempt:
    """The Mealy table of ``chosen`` (read from a network of the training traces, verified on
    the held-out ones) read again from that network trained on from there on every trace, so
    that the table holds the (state, input) pairs only held-out traces show; ``chosen`` when the
    network does not become exact on them all or the reading does not replay them all."""
    from mips.network import automaton, scaleup
    from mips.network.foreign import ForeignNetwork

    if isinstance(chosen.network, automaton.AutomatonNetwork):
        net = automaton.refit(chosen.network, data, stage.search.automaton, stage.search.seed)
    elif isinstance(chosen.network, ForeignNetwork):
        net = scaleup.refit(chosen.network, data, stage.search.scale_up, stage.search.seed)
    else:
        return chosen
    if not net.report.exact:
        log.info("refit: the network did not become exact on every trace; keeping its reading")
        return chosen
    try:
        machines = [m for m in extract(net, data, stage.extract) if m.kind == "finite"]
    except ExtractionError as e:
        log.info(f"refit: no reading of the network taught every trace: {e}")
        return chosen
    why = "no finite reading" if not machines else machines[0].check(data)
    if why is not None:
        log.info(
            f"refit: the reading of the network taught every trace does not replay them: {why}"
        )
        return chosen
    source = chosen.machine.reading.source + "; read again after training on every trace"
    machine = replace(machines[0], reading=replace(machines[0].reading, source=source))
    attempt = _mealy_attempt(
        net,
        machine,
        data,
        heldout,
        stage.regress.unseen,
        lambda n, m, p: header(n, m, p, config.seed, config.digest()),
    )
    log.info(f"refit: {attempt.describe()}")
    return attempt if attempt.verification.verified else chosen


def _mealy_attempt(
    net: Recurrent,
    machine: StateMachine,
    data: SequenceData,
    heldout: SequenceData,
    unseen: str,
    header_of: Callable[[Recurrent, StateMachine, Program], str],
) -> Attempt:
    """A finite machine over ``data``'s words as its Mealy table, emitted and verified on
    ``heldout``: no formula search over word codes."""
    words_in, words_out = _words(data)
    table = mealy_program(machine, words_in, words_out, unseen)
    source = emit_python(table, header_of(net, machine, table))
    return Attempt(net, machine, table, source, verify(source, table, machine, heldout))


def _within_label_errors(stage: SynthConfig) -> ExtractConfig:
    """The extract config whose readers may take each (state, input)'s most frequent output
    within ``max_label_errors``: a counter's output is the majority's where the network that
    fitted a few wrong labels was wrong."""
    return replace(stage.extract, majority_tolerance=stage.max_label_errors)


def _by_majority(net: Recurrent, answers: SequenceData, stage: SynthConfig) -> list[StateMachine]:
    try:
        return extract(net, answers, _within_label_errors(stage), NEAR_EXACT)
    except ExtractionError:
        return []


def _all_finite(machines: list[StateMachine]) -> bool:
    return all(m.kind == "finite" for m in machines)


def _any_formula(attempts: list[Attempt]) -> bool:
    return any(a.verification.verified and a.program.form == "formula" for a in attempts)


def _reader_of(
    net: Recurrent,
    data: SequenceData,
    heldout: SequenceData,
    stage: SynthConfig,
    config: SynthConfig,
) -> Callable[[list[StateMachine], bool], list[Attempt]]:
    """:func:`read_programs` for ``net``'s machines, ``every`` machine or up to the first
    verified formula."""

    def read(machines: list[StateMachine], every: bool) -> list[Attempt]:
        return read_programs(
            net,
            machines,
            data,
            heldout,
            stage.regress,
            config.max_label_errors,
            header_of=lambda n, m, p: header(n, m, p, config.seed, config.digest()),
            every=every,
        )

    return read


def _result(
    config: SynthConfig,
    clock: Clock,
    attempts: list[Attempt],
    first_net: Recurrent | None,
    first_machine: StateMachine | None,
    errors: list[str],
    all_data: SequenceData,
) -> Synthesis:
    """The best verified attempt (with ``max_label_errors``, the formula that contradicts fewest
    labels); else the stage that failed (no machine read: extract; no machine's program
    verified: verify) and why."""
    chosen = best_attempt(attempts)
    if chosen is not None and config.max_label_errors:
        # Chosen on the sequences every stage may use; suspects are named in all of them.
        usable = config.held_back(all_data)[0]
        chosen = _fewest_contradictions(attempts, chosen.program.form, usable)
        found = _contradicted_steps(chosen.program, all_data)
        suspects = _suspects(chosen.network, found, all_data)
        return Synthesis(config, clock.seconds, chosen, tuple(attempts), suspects=suspects)
    if chosen is not None:
        return Synthesis(config, clock.seconds, chosen, tuple(attempts))
    if first_machine is None:
        return Synthesis(
            config, clock.seconds, network=first_net, failed_stage="extract", reason=errors[0]
        )
    return Synthesis(
        config,
        clock.seconds,
        attempts=tuple(attempts),
        network=first_net,
        machine=first_machine,
        failed_stage="verify",
        reason="; ".join(a.describe() for a in attempts),
    )


def _simplified(
    networks: list[Recurrent], data: SequenceData, config: SynthConfig, clock: Clock
) -> Iterator[tuple[Recurrent, SequenceData]]:
    """The networks to read, in order, simplified lazily: a larger runner-up, or an unsimplified
    network, is only read when what came before gave no verified formula. Each comes with the
    data to read it on: ``data``, or with ``max_label_errors`` the network's own answers. Only
    networks of mips's own form are simplified; a scale-up network is read as trained."""
    for candidate in networks:
        answers = data
        if config.max_label_errors:  # the labels it misses are the suspects, not its errors
            # Output codes stay codes here: the words go back on when the program is emitted,
            # and a code the network made up has no word.
            answers = SequenceData(data.x, candidate.predict(data.x), data.lengths, data.x_vocab)
        if not isinstance(candidate, TrainedNetwork):
            yield candidate, answers
            continue
        with clock("simplify"):
            simplified = simplify(candidate, answers, config.simplify)
        yield simplified.network, answers
        if simplified.changed:
            yield simplified.original, answers


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


@dataclass(frozen=True)
class _Contradicted:
    """Where a program contradicts the labels: each (sequence, step, label, program's value),
    and how many labelled steps it could not answer (a lookup table without their row)."""

    steps: tuple[tuple[int, int, tuple[int, ...], tuple[int, ...]], ...]
    unanswered: int

    @property
    def count(self) -> int:
        return len(self.steps) + self.unanswered


def _contradicted_steps(program: Program, data: SequenceData) -> _Contradicted:
    out, answered = program.run_batch(data.x, data.seq_lengths)
    wrong = (out != data.y).any(axis=2) & data.mask & answered[:, None]
    steps = tuple(
        (int(i), int(t), tuple(data.y[i, t].tolist()), tuple(out[i, t].tolist()))
        for i, t in zip(*np.nonzero(wrong), strict=True)
    )
    return _Contradicted(steps, int(data.seq_lengths[~answered].sum()))


def _fewest_contradictions(attempts: list[Attempt], form: str, data: SequenceData) -> Attempt:
    """Of the verified attempts of ``form``, the first of those contradicting fewest labels."""
    candidates = [a for a in attempts if a.verification.verified and a.program.form == form]
    return min(candidates, key=lambda a: _contradicted_steps(a.program, data).count)


def _suspects(network: Recurrent, found: _Contradicted, data: SequenceData) -> tuple[Suspect, ...]:
    """The labelled steps the chosen program contradicts, most suspect first: those where the
    network's real-valued output lies farthest from the label."""
    y_net, _ = network.run(data.x)
    suspects = [
        Suspect(
            i, t, tuple(w), tuple(g), round(float(np.abs(y_net[i, t] - np.asarray(w)).max()), 3)
        )
        for i, t, w, g in found.steps
    ]
    return tuple(sorted(suspects, key=lambda s: (-s.distance, s.sequence, s.step)))
