"""A table over words read again from its network trained on every trace.

A network of a machine over words is read once it fits its training traces, and its table holds
the (state, input) pairs those traces show. When held-out traces show pairs it lacks, the network
is trained on from there on every trace and read again, so that the table holds them too.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from mips.data import SequenceData
from mips.extract import ExtractionError, extract
from mips.reading import Attempt, Clock, NetworkReading, ReadingPlan, best_attempt, mealy_attempt
from mips.synthesis import SynthConfig

__all__ = ["with_table_of_every_trace"]
log = logging.getLogger(__name__)


def with_table_of_every_trace(
    readings: list[NetworkReading],
    data: SequenceData,
    heldout: SequenceData,
    stage: SynthConfig,
    plan: ReadingPlan,
    clock: Clock,
) -> list[Attempt]:
    """Every attempt in order; for a verified table over words whose held-out traces show
    (state, input) pairs it lacks, preceded by the table read again from its network trained on
    from there on every trace (when that network becomes exact and its reading replays them)."""
    attempts = [a for r in readings for a in r.attempts]
    chosen = best_attempt(attempts)
    if chosen is None or chosen.program.form == "formula" or not data.all_words:
        return attempts
    if not chosen.verification.heldout_unseen:
        return attempts
    with clock("refit"):
        again = _on_all_traces(chosen, data, heldout, stage, plan)
    if again is not chosen:
        attempts.insert(attempts.index(chosen), again)
    return attempts


def _on_all_traces(
    chosen: Attempt,
    data: SequenceData,
    heldout: SequenceData,
    stage: SynthConfig,
    plan: ReadingPlan,
) -> Attempt:
    """``chosen``'s table read again from its network trained on every trace, verified on
    ``heldout``; ``chosen`` when the network does not become exact on them all or no finite
    reading of it replays them all."""
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
    attempt = mealy_attempt(net, machine, plan, data, heldout)
    log.info(f"refit: {attempt.describe()}")
    return attempt if attempt.verification.verified else chosen
