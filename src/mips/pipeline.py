"""The MIPS pipeline, from sequence data to a verified program: one call per stage.

    SequenceData -> network (search) -> simplify -> extract -> regress -> emit -> verify

The data are split once: the network search trains on one part and checks exactness on the
other; simplification, the state machine and its formulas are read from the training part only,
and the emitted program is verified on the held-out part, which none of them saw. The search
keeps the smallest exact network of each family; a larger one is read only when the smaller gave
no verified formula, and a simplified network's original is read too (snapping makes lattices
exact but can blur clusters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mips.data import SequenceData
from mips.emit import emit_python
from mips.extract import ExtractionError, extract
from mips.network.artifact import TrainedNetwork
from mips.regress import regress
from mips.simplify import simplify
from mips.synthesis import Attempt, Clock, SynthConfig, Synthesis, best_attempt, header
from mips.verify import verify

__all__ = ["Attempt", "SynthConfig", "Synthesis", "synthesize"]


def synthesize(
    data: SequenceData,
    config: SynthConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    network: TrainedNetwork | None = None,
) -> Synthesis:
    """Train (or take) a network on ``data``, read its state machine, and emit a verified program."""
    from mips.network.search import NoExactNetwork, search_ranked

    config = config or SynthConfig()
    stage = config.seeded()
    clock = Clock()
    train, heldout = data.split(stage.search.test_fraction, stage.search.seed)
    try:
        with clock("network"):
            networks = (
                [network] if network else search_ranked(train, heldout, stage.search, progress)
            )
    except NoExactNetwork as e:
        return Synthesis(config, clock.seconds, failed_stage="network", reason=str(e))

    attempts: list[Attempt] = []
    errors: list[str] = []
    first_net, first_machine = None, None
    for net in _simplified(networks, train, stage, clock):
        first_net = first_net or net
        with clock("extract"):
            try:
                machines = extract(net, train, stage.extract)
            except ExtractionError as e:
                errors.append(str(e))
                machines = []
        first_machine = first_machine or (machines[0] if machines else None)
        with clock("regress+verify"):
            for machine in machines:
                program = regress(machine, stage.regress)
                source = emit_python(program, header(net, machine, program, config))
                report = verify(source, program, machine, heldout)
                attempts.append(Attempt(net, machine, program, source, report))
                if report.verified and program.form == "formula":
                    break
        chosen = best_attempt(attempts)
        if chosen is not None and chosen.program.form == "formula":
            break

    chosen = best_attempt(attempts)
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
    networks: list[TrainedNetwork], data: SequenceData, config: SynthConfig, clock: Clock
) -> Iterator[TrainedNetwork]:
    """The networks to read, in order, simplified lazily: a larger runner-up, or an unsimplified
    network, is only read when what came before gave no verified formula."""
    for candidate in networks:
        with clock("simplify"):
            simplified = simplify(candidate, data, config.simplify)
        yield simplified.network
        if simplified.changed:
            yield simplified.original
