"""The MIPS pipeline, from sequence data to a verified program: one call per stage.

    SequenceData -> check labels -> hold back, split -> network rounds -> simplify
        -> read (extract -> regress -> emit -> verify) -> choose -> independent check

Labels no program can give (the same inputs so far, different outputs) stop the synthesis
before training, unless ``max_label_errors`` allows that many. A tenth of the sequences is held
back from every stage for the independent check; the rest is split once: the network search
trains on one part and checks exactness on the other, the state machine and its formulas are
read from the training part, and each program is verified on the held-out part. The search
hands out networks in rounds, smallest exact first; a network is read (by the config's
:class:`~mips.reading.ReadingPlan`) as soon as it comes, and the first verified formula ends the
search. A larger network, or a simplified network's original, is read only when what came
before gave none. A machine over words is a table by nature: a verified one ends the search
too, read again from the network taught every trace when held-out traces show pairs it lacks.

With ``max_label_errors``, the network may miss that fraction of the labels; everything after
it reads the network's own answers, and the labelled steps the chosen program contradicts are
returned as suspects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from mips.data import SequenceData, contradictions
from mips.network.artifact import Recurrent, TrainedNetwork
from mips.reading import Attempt, Clock, NetworkReading, best_attempt, read_network
from mips.refit import with_table_of_every_trace
from mips.simplify import simplify
from mips.suspects import contradicted_steps, fewest_contradictions, suspects
from mips.synthesis import SynthConfig, Synthesis, checked_independently

__all__ = ["SynthConfig", "Synthesis", "synthesize"]


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
    from mips.network.search import NoExactNetwork

    config = config or SynthConfig()
    stage, plan, clock = config.seeded(), config.reading_plan(), Clock()
    clash = contradictions(data)
    if clash.fraction > config.max_label_errors:
        return Synthesis(
            config=config, seconds=clock.seconds, failed_stage="data", reason=clash.describe(data)
        )
    usable, held = config.held_back(data)
    train, heldout = usable.split(stage.search.split_fraction(usable), stage.search.seed)
    readings: list[NetworkReading] = []
    try:
        for net, answers in _networks(network, train, heldout, stage, clock, progress):
            read = read_network(net, plan, clock, states_on=answers, data=usable, heldout=heldout)
            readings.append(read)
            chosen = best_attempt([a for r in readings for a in r.attempts])
            if chosen is not None and (chosen.program.form == "formula" or usable.all_words):
                break
    except NoExactNetwork as e:  # raised only when no round came before
        return Synthesis(
            config=config, seconds=clock.seconds, failed_stage="network", reason=str(e)
        )
    attempts = with_table_of_every_trace(readings, usable, heldout, stage, plan, clock)
    result = _result(config, clock, attempts, readings, usable, data)
    return checked_independently(result, held, verify_data)


def _networks(
    network: Recurrent | None,
    train: SequenceData,
    heldout: SequenceData,
    stage: SynthConfig,
    clock: Clock,
    progress: Callable[[str, int, int], None] | None,
) -> Iterator[tuple[Recurrent, SequenceData]]:
    """The networks to read, in order, each with the data to read its states on: ``network``
    when given, else the search's rounds, simplified lazily (a larger runner-up, or an
    unsimplified network, is only read when what came before gave no verified formula). With
    ``max_label_errors`` the states are read on the network's own answers, so that the labels
    it misses are the suspects, not its errors. Only networks of mips's own form are
    simplified; snapping makes lattices exact but can blur clusters, so the original follows."""
    from mips.network.search import search_rounds

    rounds = iter([[network]]) if network else search_rounds(train, heldout, stage.search, progress)
    while True:
        with clock("network"):
            networks = next(rounds, None)
        if networks is None:
            return
        for candidate in networks:
            # Output codes stay codes here: the words go back on when the program is emitted,
            # and a code the network made up has no word.
            answers = train
            if stage.max_label_errors:
                answers = replace(train, y=candidate.predict(train.x), y_vocab=None)
            if not isinstance(candidate, TrainedNetwork):
                yield candidate, answers
                continue
            with clock("simplify"):
                simplified = simplify(candidate, answers, stage.simplify)
            yield simplified.network, answers
            if simplified.changed:
                yield simplified.original, answers


def _result(
    config: SynthConfig,
    clock: Clock,
    attempts: list[Attempt],
    readings: list[NetworkReading],
    usable: SequenceData,
    data: SequenceData,
) -> Synthesis:
    """The best verified attempt (with ``max_label_errors``, the one of its form contradicting
    fewest labels of the ``usable`` sequences every stage may use, with the suspects named in
    all of ``data``); else the stage that failed (no machine read: extract; none verified: verify)."""
    chosen = best_attempt(attempts)
    done = {"config": config, "seconds": clock.seconds, "attempts": tuple(attempts)}
    if chosen is not None and config.max_label_errors:
        chosen = fewest_contradictions(attempts, chosen.program.form, usable)
        found = suspects(chosen.network, contradicted_steps(chosen.program, data), data)
        return Synthesis(**done, chosen=chosen, suspects=found)
    if chosen is not None:
        return Synthesis(**done, chosen=chosen)
    first = readings[0].network if readings else None
    machine = next((r.machine for r in readings if r.machine is not None), None)
    if machine is None:
        reasons = [why for r in readings for why in r.reasons] or ["no network was read"]
        return Synthesis(**done, network=first, failed_stage="extract", reason=reasons[0])
    reason = "; ".join(a.describe() for a in attempts)
    return Synthesis(**done, network=first, machine=machine, failed_stage="verify", reason=reason)
